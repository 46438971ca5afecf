"""The settled edge cases (docs/concepts) on the night: short terms, a missing rate, band edges, point in time,
and a night that never dies of one account."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Activity, Contract
from accounts.services import contact_update, contract_create
from accounts.usage.services import usage_rollups_rebuild
from health import pipeline
from health.models import AccountSnapshot, RecomputeRun, RevenueSnapshot
from health.scoring import whole_score
from health.selectors import ScorecardDefinition, health_for_accounts
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    ExchangeRateFactory,
    SurveyResponseFactory,
    UsageEventFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date
AS_OF = D(2024, 6, 30)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def snapshot_values(as_of: dt.date) -> list[tuple]:
    fields = ["account", "acv", "health", "band", "measures", "churn_probability", "risk_band", "problems"]
    return list(AccountSnapshot.objects.filter(as_of=as_of).order_by("account").values_list(*fields))


# Short terms ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "refused"), [(1, True), (27, True), (28, False), (365, False)])
def test_a_contract_shorter_than_28_days_is_refused_by_the_service(days, refused):
    data = {
        "account": AccountFactory(),
        "external_id": "CT-SHORT",
        "start_date": D(2024, 1, 1),
        "end_date": D(2024, 1, 1) + dt.timedelta(days=days - 1),
        "recurring_tcv": Decimal("10000"),
    }
    if refused:
        with pytest.raises(ValidationError, match="at least 28 days"):
            contract_create(data=data)
        assert not Contract.objects.exists()
    else:
        assert contract_create(data=data).pk


def test_a_one_day_contract_is_refused_by_the_api_the_admin_and_the_database(ada, client):
    account = AccountFactory()
    api = APIClient()
    api.force_authenticate(ada)
    payload = {
        "account": account.pk,
        "external_id": "CT-ONE-DAY",
        "start_date": "2024-03-01",
        "end_date": "2024-03-01",
        "currency": "USD",
        "recurring_tcv": "10000.00",
    }
    response = api.post(reverse("api:contract-list"), payload, format="json")
    assert response.status_code == 400
    assert "at least 28 days" in response.json()["end_date"][0]

    client.force_login(ada)
    form = {
        "external_id": "CT-ONE-DAY",
        "account": account.pk,
        "kind": "new",
        "status": "active",
        "start_date": "2024-03-01",
        "end_date": "2024-03-01",
        "currency": "USD",
        "recurring_tcv": "10000.00",
        "one_time_fees": "0",
    }
    page = client.post(reverse("admin:accounts_contract_add"), form)
    assert page.status_code == 200  # the form again, with its error
    assert "at least 28 days" in page.content.decode()

    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(account=account, start_date=D(2024, 3, 1), end_date=D(2024, 3, 1))
    assert not Contract.objects.exists()


# A missing exchange rate -----------------------------------------------------------------------------------------


def test_a_contract_without_a_rate_makes_its_account_na_and_the_night_succeeds_for_everyone_else():
    fine, pounds = AccountFactory(name="Fine"), AccountFactory(name="Pounds")
    ContractFactory(account=fine, recurring_tcv=Decimal("12000"))
    ContractFactory(account=pounds, currency="GBP", recurring_tcv=Decimal("10000"))

    run = pipeline.recompute(as_of=AS_OF)

    assert run.status == RecomputeRun.Status.SUCCEEDED
    assert run.errors == []
    snapshots = {s.account_id: s for s in AccountSnapshot.objects.filter(as_of=AS_OF)}
    assert snapshots[fine.pk].acv == Decimal("12000.00")
    assert snapshots[pounds.pk].acv is None  # N/A, never 0
    assert snapshots[pounds.pk].health is not None  # still scored: its usage inputs do not need a rate
    assert [p["kind"] for p in snapshots[pounds.pk].problems] == ["missing_exchange_rate"]
    assert "no GBP exchange rate on or before 2024-06-30" in snapshots[pounds.pk].problems[0]["message"]
    assert "Add a GBP exchange rate" in snapshots[pounds.pk].problems[0]["fix"]
    assert snapshots[fine.pk].problems == []
    revenue = RevenueSnapshot.objects.get(as_of=AS_OF)
    assert revenue.arr == Decimal("12000.00")
    assert revenue.excluded == [
        {"account_id": pounds.pk, "currencies": ["GBP"], "reason": "no GBP exchange rate on or before 2024-06-30"}
    ]

    ExchangeRateFactory(currency="GBP", date=AS_OF, rate=Decimal("1.25"))
    pipeline.recompute(as_of=AS_OF)

    assert AccountSnapshot.objects.get(account=pounds, as_of=AS_OF).acv == Decimal("12500.00")
    assert AccountSnapshot.objects.get(account=pounds, as_of=AS_OF).problems == []
    assert RevenueSnapshot.objects.get(as_of=AS_OF).excluded == []


# A night that never dies of one account -----------------------------------------------------------------------


def test_an_account_whose_computation_raises_costs_only_its_own_snapshot(monkeypatch):
    accounts = [AccountFactory() for _ in range(3)]
    for account in accounts:
        ContractFactory(account=account)
    broken = accounts[1].pk
    write = pipeline.account_snapshots_write

    def failing_for_one(*, as_of, account_ids):
        if broken in account_ids:
            raise ZeroDivisionError("bad input")
        return write(as_of=as_of, account_ids=account_ids)

    monkeypatch.setattr(pipeline, "account_snapshots_write", failing_for_one)

    run = pipeline.recompute(as_of=AS_OF)

    assert run.status == RecomputeRun.Status.SUCCEEDED
    assert run.errors == [f"account {broken}: ZeroDivisionError: bad input"]
    assert run.counts["accounts_failed"] == 1
    written = set(AccountSnapshot.objects.filter(as_of=AS_OF).values_list("account_id", flat=True))
    assert written == {accounts[0].pk, accounts[2].pk}


def test_a_failing_global_step_marks_the_run_failed_with_its_error(monkeypatch):
    ContractFactory()

    def broken(*, as_of):
        raise RuntimeError("the revenue step broke")

    monkeypatch.setattr(pipeline, "revenue_snapshot_write", broken)

    with pytest.raises(RuntimeError):
        pipeline.recompute(as_of=AS_OF)

    run = RecomputeRun.objects.get(as_of=AS_OF)
    assert run.status == RecomputeRun.Status.FAILED
    assert run.errors == ["RuntimeError: the revenue step broke"]
    assert run.finished_at is not None


# Band edges ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "whole"),
    [
        (39.99999999999999, 40),
        (40.000000000000004, 40),
        (40.5, 41),
        (69.49999999, 69),
        (69.5, 70),
        (0.0, 0),
        (None, None),
    ],
)
def test_health_is_rounded_half_up_to_a_whole_number(exact, whole):
    assert whole_score(exact) == whole


def test_a_score_of_exactly_40_by_the_formula_is_yellow_and_shows_40():
    account = AccountFactory()
    ContractFactory(account=account, seats=100)
    for n in range(44):  # 44 of 100 seats active: (0.44 − 0.2) / (0.8 − 0.2) = 0.4 exactly
        UsageEventFactory(account=account, user_id=f"user-{n}", occurred_at=at(AS_OF))
    usage_rollups_rebuild()
    only_utilization = ScorecardDefinition.from_json(
        {
            "red_below": 40,
            "green_from": 70,
            "measures": [{"key": "license_utilization", "weight": 1, "bad": 0.2, "good": 0.8}],
        }
    )

    result = health_for_accounts(as_of=AS_OF, account_ids=[account.pk], definitions={"": only_utilization})[account.pk]

    assert (result.health, result.band) == (40, "yellow")


def test_a_scorecards_own_bands_decide_the_band_not_the_defaults():
    account = AccountFactory()
    ContractFactory(account=account, seats=100)
    for n in range(44):
        UsageEventFactory(account=account, user_id=f"user-{n}", occurred_at=at(AS_OF))
    usage_rollups_rebuild()
    strict = ScorecardDefinition.from_json(
        {
            "red_below": 50,
            "green_from": 80,
            "measures": [{"key": "license_utilization", "weight": 1, "bad": 0.2, "good": 0.8}],
        }
    )

    result = health_for_accounts(as_of=AS_OF, account_ids=[account.pk], definitions={"": strict})[account.pk]

    assert (result.health, result.band) == (40, "red")  # red under this scorecard's 50, yellow under the default 40


# Point in time ---------------------------------------------------------------------------------------------------


@pytest.fixture
def book():
    """An account with usage, a sponsor engaged 30 days before d, a touch and an NPS answer, all dated ≤ d."""
    account = AccountFactory()
    ContractFactory(account=account, seats=10, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31))
    for day in range(1, 60, 3):
        UsageEventFactory(account=account, user_id=f"u{day % 4}", occurred_at=at(AS_OF - dt.timedelta(days=day)))
    sponsor = ContactFactory(account=account, is_executive_sponsor=True, last_engaged_at=at(AS_OF - dt.timedelta(30)))
    ActivityFactory(account=account, kind=Activity.Kind.CALL, occurred_at=at(AS_OF - dt.timedelta(days=20)))
    SurveyResponseFactory(account=account, score=6, responded_at=at(AS_OF - dt.timedelta(days=10)))
    usage_rollups_rebuild()
    return account, sponsor


def test_recomputing_a_past_night_after_later_facts_arrive_gives_identical_snapshots(book):
    account, sponsor = book
    pipeline.recompute(as_of=AS_OF)
    before = snapshot_values(AS_OF)
    assert {m["key"]: m["x"] for m in before[0][4]}["executive_sponsor"] == 1.0

    later = AS_OF + dt.timedelta(days=5)
    contact_update(contact=sponsor, data={"last_engaged_at": at(later)})  # moved later: must not erase the past
    ContractFactory(account=account, seats=50, recurring_tcv=Decimal("99000"), start_date=later, end_date=D(2025, 6, 1))
    SurveyResponseFactory(account=account, score=10, responded_at=at(later))
    ActivityFactory(account=account, kind=Activity.Kind.MEETING, occurred_at=at(later))
    ActivityFactory(account=account, kind=Activity.Kind.CALL, contact=sponsor, occurred_at=at(later))
    UsageEventFactory(account=account, user_id="late", occurred_at=at(later))
    usage_rollups_rebuild()

    pipeline.recompute(as_of=AS_OF)

    assert snapshot_values(AS_OF) == before


@pytest.mark.parametrize(("days_before", "engaged"), [(89, 1.0), (90, 0.0)])
def test_the_sponsor_window_is_the_90_days_ending_on_d(days_before, engaged):
    account = AccountFactory()
    ContractFactory(account=account)
    ContactFactory(account=account, is_executive_sponsor=True, last_engaged_at=at(AS_OF - dt.timedelta(days_before)))

    result = health_for_accounts(as_of=AS_OF, account_ids=[account.pk])[account.pk]

    assert {m["key"]: m["x"] for m in result.receipt}["executive_sponsor"] == engaged


def test_the_admin_lists_the_latest_nights_data_quality_problems_with_how_to_fix_them(ada, client):
    pounds, fine = AccountFactory(name="Pounds Ltd"), AccountFactory(name="Fine Inc")
    ContractFactory(account=pounds, currency="GBP")
    ContractFactory(account=fine)
    pipeline.recompute(as_of=AS_OF - dt.timedelta(days=1))
    pipeline.recompute(as_of=AS_OF)
    client.force_login(ada)

    page = client.get(reverse("admin:health_dataqualityproblem_changelist"))

    assert page.status_code == 200
    assert len(page.context["cl"].result_list) == 1  # the latest night's only problem, not one per night
    html = page.content.decode()
    assert "Pounds Ltd" in html and "Fine Inc" not in html
    assert "no GBP exchange rate on or before 2024-06-30" in html
    assert reverse("admin:accounts_account_change", args=[pounds.pk]) in html


def test_a_failing_step_after_the_snapshots_marks_the_run_failed(monkeypatch):
    ContractFactory()

    def broken(as_of):
        raise RuntimeError("the playbooks step broke")

    monkeypatch.setattr(pipeline, "AFTER_RECOMPUTE", [broken])

    with pytest.raises(RuntimeError):
        pipeline.recompute(as_of=AS_OF)

    run = RecomputeRun.objects.get(as_of=AS_OF)
    assert (run.status, run.errors) == (RecomputeRun.Status.FAILED, ["RuntimeError: the playbooks step broke"])
    assert AccountSnapshot.objects.filter(as_of=AS_OF).count() == 1  # the snapshots themselves stay
