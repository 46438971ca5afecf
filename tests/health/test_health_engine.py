"""Health computed from the database on a hand-built account, snapshots, what moved, and the nightly run."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Activity
from accounts.usage.services import usage_rollups_rebuild
from csm_platform.web.models import AccountRow
from health.models import AccountSnapshot, RecomputeChunk, RecomputeRun, RevenueSnapshot, Scorecard
from health.pipeline import recompute, recompute_chunk_process, recompute_run_prepare
from health.selectors import health_for_accounts, what_moved
from health.services import scorecard_publish
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, ContractFactory, UsageEventFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def days(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


@pytest.fixture
def account():
    """events_30 = 32, events_prev_30 = 31, MAU 2 of 10 seats, DAU 32/30, 2 of 3 features, touched 20 days ago,
    sponsor engaged 5 days ago."""
    account = AccountFactory(segment="mid_touch")
    ContractFactory(
        account=account,
        seats=10,
        recurring_tcv=Decimal("24000"),
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    for day in days(dt.date(2024, 5, 2), AS_OF):
        UsageEventFactory(account=account, user_id="u1", event="Report Viewed", occurred_at=at(day))
    for day in (dt.date(2024, 6, 10), dt.date(2024, 6, 20)):
        UsageEventFactory(account=account, user_id="u2", event="Export Downloaded", occurred_at=at(day))
    UsageEventFactory(account=account, user_id="u3", event="Alert Configured", occurred_at=at(dt.date(2024, 5, 15)))
    UsageEventFactory(account=account, user_id="u1", event="Report Viewed", occurred_at=at(dt.date(2024, 7, 1)))
    ActivityFactory(account=account, kind=Activity.Kind.CALL, occurred_at=at(dt.date(2024, 6, 10)))
    ActivityFactory(account=account, kind=Activity.Kind.NOTE, occurred_at=at(dt.date(2024, 6, 29)))  # not a touch
    ContactFactory(account=account, is_executive_sponsor=True, last_engaged_at=at(dt.date(2024, 6, 25)))
    usage_rollups_rebuild()
    return account


def test_health_and_receipt_match_a_hand_computation(account):
    result = health_for_accounts(as_of=AS_OF, account_ids=[account.pk])[account.pk]
    receipt = {m["key"]: m for m in result.receipt}

    trend = 32 / 31
    expected_scores = {
        "usage_trend": 100 * (trend - 0.5) / (1.1 - 0.5),  # 88.71
        "license_utilization": 0.0,  # 2 / 10 = 0.2 is the bad threshold
        "feature_breadth": 100.0,  # 2 / 3 ≥ 0.6
        "stickiness": 100.0,  # (32 / 30) / 2 = 0.53 ≥ 0.3
        "engagement": 100 * (20 - 60) / (14 - 60),  # 20 days since the call: 86.96
        "executive_sponsor": 100.0,
    }
    weights = {
        "usage_trend": 20,
        "license_utilization": 20,
        "feature_breadth": 15,
        "stickiness": 10,
        "engagement": 10,
        "executive_sponsor": 10,
    }
    for key, score in expected_scores.items():
        assert receipt[key]["s"] == pytest.approx(score), key
    assert receipt["nps"]["s"] is None  # no survey answers: N/A, its weight renormalises away
    assert receipt["license_utilization"]["inputs"] == {"mau": 2.0, "seats": 10.0}
    assert receipt["engagement"]["x"] == 20.0
    expected = sum(weights[k] * s for k, s in expected_scores.items()) / sum(weights.values())
    assert expected == pytest.approx(72.28, abs=0.01)
    assert result.exact == pytest.approx(expected)
    assert result.health == 72  # rounded half up to a whole number: what is stored, shown and banded
    assert result.band == "green"
    assert sum(m["contribution"] for m in result.receipt) == pytest.approx(result.exact)
    assert sum(m["contribution"] for m in result.receipt) + result.rounding == pytest.approx(72)


def test_a_published_scorecard_version_changes_the_score_and_is_recorded(account):
    scorecard = Scorecard.objects.get(segment="")
    scorecard.measures.filter(measure="license_utilization").update(weight=60)
    version = scorecard_publish(scorecard_id=scorecard.pk)
    result = health_for_accounts(as_of=AS_OF, account_ids=[account.pk])[account.pk]
    assert result.scorecard_version_id == version.pk
    assert version.version == 2
    assert {m["key"]: m["weight"] for m in result.receipt}["license_utilization"] == 60


def test_the_same_night_twice_gives_identical_snapshots_and_what_moved_sums_exactly(account):
    recompute(as_of=AS_OF - dt.timedelta(days=7))
    first = recompute(as_of=AS_OF)
    snapshot = AccountSnapshot.objects.get(account=account, as_of=AS_OF)
    values = list(
        AccountSnapshot.objects.order_by("account", "as_of").values_list(
            "account", "as_of", "acv", "health", "band", "measures", "churn_probability", "risk_band", "churn_drivers"
        )
    )

    second = recompute(as_of=AS_OF)

    assert first.status == second.status == RecomputeRun.Status.SUCCEEDED
    assert AccountSnapshot.objects.count() == 2
    assert values == list(
        AccountSnapshot.objects.order_by("account", "as_of").values_list(
            "account", "as_of", "acv", "health", "band", "measures", "churn_probability", "risk_band", "churn_drivers"
        )
    )
    assert snapshot.acv == Decimal("24000.00")
    moved = what_moved(account_id=account.pk, start=AS_OF - dt.timedelta(days=7), end=AS_OF)
    assert isinstance(moved["change"], int)
    assert sum(moved["shares"].values()) + moved["rounding"] == pytest.approx(moved["change"], abs=1e-9)
    assert RevenueSnapshot.objects.get(as_of=AS_OF).arr == Decimal("24000.00")
    assert snapshot.risk_band in {"low", "medium", "high"}


def test_a_rerun_resumes_only_unfinished_chunks(account):
    other = AccountFactory()
    ContractFactory(account=other)
    run = recompute_run_prepare(as_of=AS_OF, chunk_size=1)
    first, second = run.chunks.order_by("index")
    recompute_chunk_process(chunk_id=first.pk)
    RecomputeChunk.objects.filter(pk=second.pk).update(status=RecomputeChunk.Status.RUNNING, attempt=run.attempt)
    done_at = RecomputeChunk.objects.get(pk=first.pk).finished_at

    resumed = recompute(as_of=AS_OF)

    assert resumed.pk == run.pk and resumed.attempt == run.attempt + 1
    assert resumed.status == RecomputeRun.Status.SUCCEEDED
    assert RecomputeChunk.objects.get(pk=first.pk).finished_at == done_at  # not done again
    assert AccountSnapshot.objects.filter(as_of=AS_OF).count() == 2


@pytest.mark.parametrize(
    "arguments",
    [
        ["--as-of", "9999-12-31"],
        ["--as-of", "0001-01-01"],
        ["--as-of", "2026-01-01", "--backfill", "9000000"],
        ["--as-of", "yesterday"],
        ["--backfill", "-1"],
        ["--backfill", "14", "--every", "7", "--daily", "-1"],
        ["--as-of", "2026-01-01", "--daily", "9000000"],
    ],
)
def test_recompute_command_refuses_dates_it_cannot_compute(arguments):
    with pytest.raises(CommandError):
        call_command("recompute", *arguments)
    assert not RecomputeRun.objects.exists()


def test_a_weekly_backfill_with_its_last_days_daily_runs_every_night_once_in_date_order(account):
    out = io.StringIO()
    call_command("recompute", "--as-of", "2026-03-31", "--backfill", "28", "--every", "7", "--daily", "8", stdout=out)

    nights = [line.split(":")[0] for line in out.getvalue().splitlines()]
    weekly = ["2026-03-03", "2026-03-10", "2026-03-17"]
    daily = [f"2026-03-{day}" for day in range(23, 32)]  # 03-24 is also a weekly night: run once
    assert nights == [*weekly, *daily]
    assert RecomputeRun.objects.filter(status=RecomputeRun.Status.SUCCEEDED).count() == len(nights)
    # The pages' rows are the latest night's: built once, after the backfill's last night.
    runs = dict(RecomputeRun.objects.values_list("as_of", "counts"))
    assert [str(day) for day, counts in sorted(runs.items()) if "account_rows" in counts] == ["2026-03-31"]
    assert AccountRow.objects.get(account=account).as_of == dt.date(2026, 3, 31)
