"""Churn training rows are point-in-time: features as of 90 days before each past renewal, labels from outcomes."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from accounts.models import Activity
from accounts.usage.services import usage_rollups_rebuild
from health.features import churn_features, renewal_decisions, training_rows
from health.models import ChurnModelVersion
from health.services import churn_model_train
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, ContractFactory, UsageEventFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 3, 1)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def book():
    """renewed: 2023 contract renewed for 2024; churned: 2023 contract not renewed; current: still running."""
    renewed, churned, current = AccountFactory(), AccountFactory(), AccountFactory()
    first = ContractFactory(account=renewed, start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31), seats=20)
    ContractFactory(
        account=renewed,
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        seats=25,
        kind="renewal",
        renews=first,
        recurring_tcv=Decimal("15000"),
    )
    ContractFactory(account=churned, start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31), seats=10)
    ContractFactory(account=current, start_date=dt.date(2024, 6, 1), end_date=dt.date(2025, 5, 31))
    for day in range(30):
        UsageEventFactory(
            account=renewed, user_id=f"r{day % 7}", occurred_at=at(dt.date(2023, 9, 1)) + dt.timedelta(days=day)
        )
        UsageEventFactory(account=churned, user_id="c1", occurred_at=at(dt.date(2023, 8, 1)) + dt.timedelta(days=day))
    ActivityFactory(account=renewed, kind=Activity.Kind.MEETING, occurred_at=at(dt.date(2023, 9, 15)))
    usage_rollups_rebuild()
    return renewed, churned, current


def test_decisions_are_labelled_from_what_happened_after_the_end(book):
    renewed, churned, _ = book
    decisions = renewal_decisions(as_of=AS_OF)
    labels = {(row.account_id, row.decided_on): row.churned for row in decisions.itertuples()}
    assert labels == {
        (renewed.pk, dt.date(2023, 12, 31)): 0,
        (churned.pk, dt.date(2023, 12, 31)): 1,
        (renewed.pk, dt.date(2024, 12, 31)): 1,  # the 2024 contract was not renewed by 2025-01-30
    }
    # The 2024 end is not an outcome yet on 2025-01-15: the grace period has not passed.
    assert len(renewal_decisions(as_of=dt.date(2025, 1, 15))) == 2


def test_data_dated_after_a_rows_as_of_date_changes_none_of_its_features(book):
    renewed, churned, _ = book
    before, labels, _ = training_rows(as_of=AS_OF)

    # Everything below is dated after 2023-10-02 (90 days before the 2023-12-31 decisions).
    later = at(dt.date(2023, 10, 3))
    for n in range(40):
        UsageEventFactory(account=churned, user_id=f"late{n}", event="Late Feature", occurred_at=later)
    ActivityFactory(account=churned, kind=Activity.Kind.CALL, occurred_at=later)
    ContactFactory(account=churned, is_executive_sponsor=True, last_engaged_at=later)
    ContractFactory(
        account=churned, start_date=dt.date(2023, 11, 1), end_date=dt.date(2023, 11, 30), seats=500, kind="expansion"
    )
    usage_rollups_rebuild()
    after, _, _ = training_rows(as_of=AS_OF)

    decisions_2023 = [(renewed.pk, dt.date(2023, 12, 31)), (churned.pk, dt.date(2023, 12, 31))]
    pd.testing.assert_frame_equal(before.loc[decisions_2023], after.loc[decisions_2023])
    assert len(after) == 4  # the new November contract is a decision of its own
    assert labels.loc[decisions_2023].tolist() == [0, 1]


def test_too_few_outcomes_train_the_flagged_fallback(book):
    version = churn_model_train(as_of=AS_OF)
    assert version.is_fallback
    assert "30" in version.card.get("fallback_reason", "") or version.card.get("kind") == "fallback"
    assert ChurnModelVersion.objects.count() == 1


def test_training_and_scoring_rows_have_the_same_features_and_no_days_to_renewal(book):
    """Training rows are taken 90 days before each end, so days to renewal would be ~90 in training and anything
    at scoring: it is no feature, and every other column is built by the same function for both."""
    training, _, _ = training_rows(as_of=AS_OF)
    scoring = churn_features(as_of=AS_OF, account_ids=[account.pk for account in book])

    assert list(training.columns) == list(scoring.columns)
    assert "days_to_renewal" not in scoring.columns
    assert "days_to_renewal" not in churn_model_train(as_of=AS_OF).card["features"]


def test_training_rows_read_in_one_pass_equal_each_decision_computed_on_its_own(book):
    """The training rows score every features date (and 30 days before it) in one pass: the same numbers as
    ``churn_features`` computing each decision's health by itself."""
    training, _, _ = training_rows(as_of=AS_OF)
    decisions = renewal_decisions(as_of=AS_OF)

    for row in decisions.itertuples():
        alone = churn_features(as_of=row.features_on, account_ids=[row.account_id])
        expected = alone.loc[row.account_id].rename(None)
        actual = training.loc[(row.account_id, row.decided_on)].rename(None)
        pd.testing.assert_series_equal(actual, expected, check_names=False)
    assert training["health"].notna().any()
    assert training["health_trend_30"].notna().any()
