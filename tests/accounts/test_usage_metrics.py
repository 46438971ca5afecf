"""Usage metrics (docs/concepts/usage.md, "Usage"): every expected figure below is computed by hand in the test.

Evaluation date d = 2024-06-30: the current window is 06-01 … 06-30 (d−29 … d), the previous one
05-02 … 05-31 (d−59 … d−30).
"""

import datetime as dt
import itertools
import math

import pytest

from accounts.models import Feature, UsageEvent
from accounts.usage.selectors import feature_first_use, usage_by_feature, usage_daily, usage_metrics
from accounts.usage.services import features_ensure, usage_rollups_add
from tests.factories import AccountFactory, ContractFactory, SourceFactory

pytestmark = pytest.mark.django_db

D = dt.date
UTC = dt.UTC
MESSAGE_IDS = itertools.count()
AS_OF = D(2024, 6, 30)


def at(day: dt.date, hour: int = 12, minute: int = 0, second: int = 0, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


def ingest(account, *events: tuple[str, str, dt.datetime]) -> None:
    """Store ``(user_id, event, occurred_at)`` events for ``account`` and fold them into the rollups, as
    ingestion does."""
    source = SourceFactory()
    UsageEvent.objects.bulk_create(
        UsageEvent(
            source=source,
            account=account,
            user_id=user_id,
            event=name,
            occurred_at=occurred_at,
            received_at=occurred_at,
            message_id=f"m-{next(MESSAGE_IDS)}",
        )
        for user_id, name, occurred_at in events
    )
    usage_rollups_add(events=[(account.id, user_id, name, occurred_at) for user_id, name, occurred_at in events])


def metrics_of(account, as_of: dt.date = AS_OF) -> dict:
    return usage_metrics(as_of=as_of, account_ids=[account.id]).loc[account.id].to_dict()


def test_windows_are_half_open_at_d_minus_30_and_d_minus_60():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(AS_OF, 23, 59, 59)),  # d: current
        ("u1", "login", at(D(2024, 6, 1), 0, 0, 0)),  # d−29 at midnight: current
        ("u1", "login", at(D(2024, 5, 31), 23, 59, 59)),  # d−30: previous
        ("u1", "login", at(D(2024, 5, 2), 0, 0, 0)),  # d−59: previous
        ("u1", "login", at(D(2024, 5, 1), 23, 59, 59)),  # d−60: neither
        ("u1", "login", at(D(2024, 7, 1), 0, 0, 0)),  # d+1: after the evaluation date
        # 01:00 on 06-01 at UTC+2 is 23:00 on 05-31 UTC: the day is the UTC date, so previous window.
        ("u1", "login", at(D(2024, 6, 1), 1, tz=dt.timezone(dt.timedelta(hours=2)))),
    )

    metrics = metrics_of(account)

    assert metrics["events_30"] == 2
    assert metrics["events_prev_30"] == 3
    assert metrics["usage_trend"] == pytest.approx(2 / 3)


def test_mau_dau_and_stickiness():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(D(2024, 6, 10), 9)),
        ("u1", "export", at(D(2024, 6, 10), 17)),  # same user, same day: one daily user
        ("u1", "login", at(D(2024, 6, 11))),
        ("u1", "login", at(AS_OF)),
        ("u2", "login", at(D(2024, 6, 1))),
        ("", "page_viewed", at(D(2024, 6, 12))),  # anonymous: an event, not a user
        ("u3", "login", at(D(2024, 5, 31))),  # previous window only
    )

    metrics = metrics_of(account)

    # MAU: u1, u2. Daily distinct users: 06-10 → 1, 06-11 → 1, 06-30 → 1, 06-01 → 1; Σ = 4 over 30 days.
    assert metrics["events_30"] == 6
    assert metrics["mau"] == 2
    assert metrics["dau"] == pytest.approx(4 / 30)
    assert metrics["stickiness"] == pytest.approx((4 / 30) / 2)


def test_license_utilization_sums_seats_of_live_contracts_and_is_not_capped():
    account = AccountFactory()
    ContractFactory(account=account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), seats=1)
    ContractFactory(account=account, start_date=D(2024, 6, 1), end_date=D(2024, 12, 31), seats=1, kind="expansion")
    ContractFactory(account=account, start_date=D(2023, 1, 1), end_date=D(2023, 12, 31), seats=100)  # ended
    ContractFactory(  # cancelled
        account=account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), seats=100, status="cancelled"
    )
    ContractFactory(account=account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), seats=None)  # no seats
    ingest(account, *[(f"u{n}", "login", at(D(2024, 6, 20))) for n in range(3)])

    metrics = metrics_of(account)

    assert metrics["seats"] == 2
    assert metrics["mau"] == 3
    assert metrics["license_utilization"] == pytest.approx(1.5)  # 150%: an expansion signal, never capped


def test_no_seats_no_usage_and_a_new_account_are_not_applicable():
    features_ensure(names=["login"], seen_at=at(D(2024, 1, 1)))
    idle = AccountFactory()
    ContractFactory(account=idle, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), seats=None)
    new = AccountFactory()
    ingest(new, ("u1", "login", at(D(2024, 6, 15))))

    frame = usage_metrics(as_of=AS_OF, account_ids=[idle.id, new.id])
    idle_metrics, new_metrics = frame.loc[idle.id], frame.loc[new.id]

    assert idle_metrics["events_30"] == idle_metrics["events_prev_30"] == idle_metrics["mau"] == 0
    assert idle_metrics["dau"] == 0
    for name in ["stickiness", "seats", "license_utilization", "usage_trend"]:
        assert math.isnan(idle_metrics[name]), name  # N/A, never 0
    assert idle_metrics["feature_breadth"] == 0  # nothing of the catalog used: a real 0
    assert new_metrics["events_30"] == 1
    assert new_metrics["events_prev_30"] == 0
    assert math.isnan(new_metrics["usage_trend"])  # no prior window: N/A, not infinite growth
    assert math.isnan(new_metrics["license_utilization"])  # no contract


def test_zero_seats_is_not_applicable():
    account = AccountFactory()
    ContractFactory(account=account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), seats=0)
    ingest(account, ("u1", "login", at(D(2024, 6, 15))))

    metrics = metrics_of(account)

    assert metrics["seats"] == 0
    assert math.isnan(metrics["license_utilization"])


def test_feature_breadth_counts_every_non_ignored_feature_when_none_is_marked_key():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(D(2024, 6, 15))),
        ("u1", "export", at(D(2024, 5, 15))),  # used, but in the previous window
        ("u1", "debug_console", at(D(2024, 6, 15))),  # about to be ignored
    )
    features_ensure(names=["share"], seen_at=at(D(2024, 1, 1)))  # in the catalog, never used
    Feature.objects.filter(name="debug_console").update(ignored=True)

    metrics = metrics_of(account)

    # Key features = login, export, share (debug_console is ignored); used in 30 days: login.
    assert (metrics["key_features_used"], metrics["key_features_total"]) == (1, 3)
    assert metrics["feature_breadth"] == pytest.approx(1 / 3)


def test_feature_breadth_counts_only_marked_key_features_and_never_ignored_ones():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(D(2024, 6, 15))),
        ("u1", "export", at(D(2024, 6, 16))),
        ("u1", "debug_console", at(D(2024, 6, 17))),
    )
    features_ensure(names=["share"], seen_at=at(D(2024, 1, 1)))
    Feature.objects.filter(name__in=["export", "share"]).update(is_key=True)
    Feature.objects.filter(name="debug_console").update(is_key=True, ignored=True)  # ignored wins over key

    metrics = metrics_of(account)

    assert (metrics["key_features_used"], metrics["key_features_total"]) == (1, 2)
    assert metrics["feature_breadth"] == pytest.approx(0.5)


def test_feature_breadth_is_not_applicable_with_an_empty_catalog():
    account = AccountFactory()

    assert math.isnan(metrics_of(account)["feature_breadth"])


def test_default_rows_are_accounts_with_usage_up_to_as_of_or_a_live_contract():
    with_usage = AccountFactory()
    ingest(with_usage, ("u1", "login", at(D(2024, 1, 5))))  # long before the windows: still a row, with zeros
    with_contract = AccountFactory()
    ContractFactory(account=with_contract, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31))
    only_later = AccountFactory()
    ingest(only_later, ("u1", "login", at(D(2024, 7, 5))))
    AccountFactory()  # nothing at all

    frame = usage_metrics(as_of=AS_OF)

    assert sorted(frame.index) == sorted([with_usage.id, with_contract.id])
    assert frame.loc[with_usage.id, "events_30"] == 0
    assert list(frame.columns) == [
        "events_30",
        "events_prev_30",
        "mau",
        "dau",
        "stickiness",
        "seats",
        "license_utilization",
        "key_features_used",
        "key_features_total",
        "feature_breadth",
        "usage_trend",
    ]


def test_usage_metrics_reads_rollups_in_a_fixed_number_of_queries(django_assert_num_queries):
    accounts = AccountFactory.create_batch(5)
    for n, account in enumerate(accounts):
        ContractFactory(account=account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31))
        ingest(account, *[(f"u{k}", "login", at(D(2024, 6, 1 + k))) for k in range(n + 1)])

    with django_assert_num_queries(7):
        frame = usage_metrics(as_of=AS_OF)

    assert list(frame["mau"]) == [1, 2, 3, 4, 5]


def test_usage_daily_lists_every_day_with_events_and_active_users():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(D(2024, 6, 1))),
        ("u1", "export", at(D(2024, 6, 1))),
        ("u2", "login", at(D(2024, 6, 1))),
        ("", "login", at(D(2024, 6, 3))),
    )

    frame = usage_daily(account_id=account.id, start=D(2024, 6, 1), end=D(2024, 6, 3))

    assert frame.to_dict("records") == [
        {"day": D(2024, 6, 1), "events": 3, "active_users": 2},
        {"day": D(2024, 6, 2), "events": 0, "active_users": 0},
        {"day": D(2024, 6, 3), "events": 1, "active_users": 0},
    ]


def test_usage_by_feature_uses_labels_and_leaves_out_ignored_features():
    account = AccountFactory()
    ingest(
        account,
        ("u1", "login", at(D(2024, 6, 1))),
        ("u1", "export", at(D(2024, 6, 1))),
        ("u1", "export", at(D(2024, 6, 2))),
        ("u1", "export", at(D(2024, 5, 1))),  # before the range
        ("u1", "debug_console", at(D(2024, 6, 2))),
    )
    Feature.objects.filter(name="export").update(label="CSV export")
    Feature.objects.filter(name="debug_console").update(ignored=True)

    frame = usage_by_feature(account_id=account.id, start=D(2024, 6, 1), end=D(2024, 6, 30))

    assert frame[["feature", "events"]].to_dict("records") == [
        {"feature": "CSV export", "events": 2},
        {"feature": "login", "events": 1},
    ]


def test_feature_first_use_is_the_earliest_occurrence_even_when_it_arrives_late():
    early, late, never = AccountFactory.create_batch(3)
    ingest(early, ("u1", "report_built", at(D(2024, 3, 1))))
    ingest(late, ("u1", "report_built", at(D(2024, 4, 10))))
    ingest(late, ("u1", "report_built", at(D(2024, 4, 2))))  # arrives after a later one
    ingest(never, ("u1", "login", at(D(2024, 3, 1))))

    assert feature_first_use(event_name="report_built") == {early.id: at(D(2024, 3, 1)), late.id: at(D(2024, 4, 2))}
    assert feature_first_use(event_name="report_built", account_ids=[late.id, never.id]) == {late.id: at(D(2024, 4, 2))}
