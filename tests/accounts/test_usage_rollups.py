"""Usage rollups: folding events in incrementally, in any order and batching, gives the same rollups as rebuilding
from raw events, and the metrics read from them equal a brute-force computation over raw events."""

import datetime as dt
import io
import itertools
import math
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import (
    AccountFeatureUsage,
    AccountUserUsage,
    Contract,
    Feature,
    UsageDay,
    UsageEvent,
    UsageFeatureDay,
    UsageUserDay,
)
from accounts.usage.selectors import usage_metrics
from accounts.usage.services import (
    features_ensure,
    usage_events_queue,
    usage_rollups_add,
    usage_rollups_fold,
    usage_rollups_fold_all,
    usage_rollups_rebuild,
)
from tests.factories import AccountFactory, ContractFactory, SourceFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MESSAGE_IDS = itertools.count()
AS_OF = dt.date(2024, 3, 31)
# Events spread over 90 days around AS_OF: 75 days before it, 15 after (those must never count).
SPAN_START = dt.datetime(2024, 1, 16, tzinfo=UTC)
SPAN_SECONDS = 90 * 86_400
ZONES = [UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]
USERS = ["", "u1", "u2", "u3", "u4"]
FEATURES = ["login", "report_viewed", "export", "invite_sent"]

Event = tuple[int, str, str, dt.datetime]  # account_id, user_id, event name, occurred_at


def ingest(events: list[Event]) -> None:
    """Store a batch as raw events and queue it for the rollups, as ingestion does, then fold the queue."""
    source = SourceFactory()
    UsageEvent.objects.bulk_create(
        UsageEvent(
            source=source,
            account_id=account_id,
            user_id=user_id,
            event=name,
            occurred_at=occurred_at,
            received_at=occurred_at,
            message_id=f"m-{next(MESSAGE_IDS)}",
        )
        for account_id, user_id, name, occurred_at in events
    )
    usage_events_queue(events=events)
    usage_rollups_fold_all()


def rollups_snapshot() -> dict[str, list[tuple]]:
    """Every rollup row without its id, features by name, sorted: comparable across runs."""
    return {
        "days": sorted(UsageDay.objects.values_list("account_id", "day", "events")),
        "user_days": sorted(UsageUserDay.objects.values_list("account_id", "day", "user_id", "events")),
        "feature_days": sorted(UsageFeatureDay.objects.values_list("account_id", "day", "feature__name", "events")),
        "account_features": sorted(
            AccountFeatureUsage.objects.values_list(
                "account_id", "feature__name", "first_used_at", "last_used_at", "events"
            )
        ),
        "account_users": sorted(
            AccountUserUsage.objects.values_list("account_id", "user_id", "first_seen_at", "last_seen_at", "events")
        ),
    }


def random_events(rng: random.Random, account_ids: list[int], count: int) -> list[Event]:
    return [
        (
            rng.choice(account_ids),
            rng.choice(USERS),
            rng.choice(FEATURES),
            (SPAN_START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))).astimezone(rng.choice(ZONES)),
        )
        for _ in range(count)
    ]


def batches_of(events: list[Event], cuts: list[int]) -> list[list[Event]]:
    """Split ``events`` at the ``cuts`` positions (taken modulo its length) into non-empty batches."""
    bounds = [0, *sorted({cut % (len(events) + 1) for cut in cuts}), len(events)]
    return [events[start:end] for start, end in itertools.pairwise(bounds) if end > start]


def brute_force_metrics(*, as_of: dt.date, account_ids: list[int]) -> dict[int, dict[str, float]]:
    """The usage metrics (docs/concepts/usage.md) from raw events, contracts and the catalog, in plain Python."""
    events = [
        (account_id, user_id, name, occurred_at.astimezone(UTC).date())
        for account_id, user_id, name, occurred_at in UsageEvent.objects.values_list(
            "account_id", "user_id", "event", "occurred_at"
        )
    ]
    current = [as_of - dt.timedelta(days=n) for n in range(30)]
    previous = [as_of - dt.timedelta(days=n) for n in range(30, 60)]
    catalog = list(Feature.objects.filter(ignored=False).values_list("name", "is_key"))
    key_features = {name for name, is_key in catalog if is_key} or {name for name, _ in catalog}
    seats: dict[int, int] = {}
    for contract in Contract.objects.all():
        live = contract.start_date <= as_of <= contract.end_date and contract.status != "cancelled"
        if live and contract.seats is not None:
            seats[contract.account_id] = seats.get(contract.account_id, 0) + contract.seats
    nan = float("nan")
    result = {}
    for account in account_ids:
        mine = [event for event in events if event[0] == account]
        in_current = [event for event in mine if event[3] in current]
        events_prev_30 = sum(1 for event in mine if event[3] in previous)
        mau = len({user for _, user, _, _ in in_current if user})
        daily_users = [len({user for _, user, _, day in in_current if user and day == d}) for d in current]
        dau = sum(daily_users) / 30
        used = {name for _, _, name, _ in in_current} & key_features
        account_seats = seats.get(account, nan)
        result[account] = {
            "events_30": len(in_current),
            "events_prev_30": events_prev_30,
            "mau": mau,
            "dau": dau,
            "stickiness": dau / mau if mau else nan,
            "seats": account_seats,
            "license_utilization": mau / account_seats if account_seats else nan,
            "key_features_used": len(used),
            "key_features_total": len(key_features),
            "feature_breadth": len(used) / len(key_features) if key_features else nan,
            "usage_trend": len(in_current) / events_prev_30 if events_prev_30 else nan,
        }
    return result


def assert_metrics_equal(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for account, metrics in expected.items():
        for name, value in metrics.items():
            got = actual[account][name]
            same = (math.isnan(got) and math.isnan(value)) or got == pytest.approx(value, rel=1e-12)
            assert same, f"account {account}, {name}: rollups {got}, brute force {value}"


def test_incremental_add_equals_rebuild():
    account_ids = [account.id for account in AccountFactory.create_batch(3)]
    events = random_events(random.Random(7), account_ids, 300)
    for batch in batches_of(events, [40, 41, 150, 220]):
        ingest(batch)
    incremental = rollups_snapshot()

    summary = usage_rollups_rebuild()

    assert rollups_snapshot() == incremental
    assert summary.events == 300
    assert summary.features_created == 0  # ingestion already put every name in the catalog
    assert summary.rows == {
        "UsageDay": len(incremental["days"]),
        "UsageUserDay": len(incremental["user_days"]),
        "UsageFeatureDay": len(incremental["feature_days"]),
        "AccountFeatureUsage": len(incremental["account_features"]),
        "AccountUserUsage": len(incremental["account_users"]),
    }
    assert sum(events for _, _, events in incremental["days"]) == 300


def test_the_same_events_in_any_order_and_batching_give_identical_rollups():
    account_ids = [account.id for account in AccountFactory.create_batch(2)]
    events = random_events(random.Random(11), account_ids, 200)
    snapshots = []
    for seed in range(3):
        with transaction.atomic():
            arrival = (
                sorted(events, key=lambda event: event[3]) if seed == 0 else random.Random(seed).sample(events, 200)
            )
            for batch in batches_of(arrival, random.Random(seed).sample(range(200), 5)):
                ingest(batch)
            snapshots.append(rollups_snapshot())
            transaction.set_rollback(True)

    assert snapshots[0] == snapshots[1] == snapshots[2]
    assert snapshots[0]["days"]


def test_late_event_lands_in_its_own_day_and_widens_first_and_last_use():
    account = AccountFactory()
    ingest([(account.id, "u1", "login", dt.datetime(2024, 3, 10, 9, tzinfo=UTC))])
    ingest([(account.id, "u1", "login", dt.datetime(2024, 3, 1, 9, tzinfo=UTC))])  # a week late
    ingest([(account.id, "", "login", dt.datetime(2024, 3, 20, 9, tzinfo=UTC))])  # anonymous

    assert rollups_snapshot() == {
        "days": [
            (account.id, dt.date(2024, 3, 1), 1),
            (account.id, dt.date(2024, 3, 10), 1),
            (account.id, dt.date(2024, 3, 20), 1),
        ],
        "user_days": [(account.id, dt.date(2024, 3, 1), "u1", 1), (account.id, dt.date(2024, 3, 10), "u1", 1)],
        "feature_days": [
            (account.id, dt.date(2024, 3, 1), "login", 1),
            (account.id, dt.date(2024, 3, 10), "login", 1),
            (account.id, dt.date(2024, 3, 20), "login", 1),
        ],
        "account_features": [
            (account.id, "login", dt.datetime(2024, 3, 1, 9, tzinfo=UTC), dt.datetime(2024, 3, 20, 9, tzinfo=UTC), 3)
        ],
        "account_users": [
            (account.id, "u1", dt.datetime(2024, 3, 1, 9, tzinfo=UTC), dt.datetime(2024, 3, 10, 9, tzinfo=UTC), 2)
        ],
    }


def test_rebuild_of_some_accounts_leaves_the_others_alone_and_fills_the_catalog():
    kept, rebuilt = AccountFactory.create_batch(2)
    ingest([(kept.id, "u1", "login", dt.datetime(2024, 3, 1, tzinfo=UTC))])
    source = SourceFactory()
    for n, occurred_at in enumerate([dt.datetime(2024, 3, 5, tzinfo=UTC), dt.datetime(2024, 3, 2, tzinfo=UTC)]):
        # A bulk import: raw events only, no rollups, and an event name the catalog has never seen.
        UsageEvent.objects.create(
            source=source,
            account=rebuilt,
            user_id="u9",
            event="imported_report",
            occurred_at=occurred_at,
            received_at=occurred_at,
            message_id=f"import-{n}",
        )
    UsageDay.objects.filter(account=kept).update(events=99)  # not touched by a rebuild of the other account

    summary = usage_rollups_rebuild(account_ids=[rebuilt.id])

    assert summary.events == 2
    assert summary.features_created == 1
    assert Feature.objects.get(name="imported_report").first_seen_at == dt.datetime(2024, 3, 2, tzinfo=UTC)
    assert list(UsageDay.objects.order_by("account_id").values_list("account_id", "events")) == [
        (kept.id, 99),
        (rebuilt.id, 1),
        (rebuilt.id, 1),
    ]
    assert AccountUserUsage.objects.get(account=rebuilt).events == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_rebuild_leaves_fresh_planner_statistics_for_the_tables_it_filled(django_capture_on_commit_callbacks):
    account = AccountFactory()
    ingest([(account.id, f"u{n}", "login", dt.datetime(2024, 3, 1 + n, tzinfo=UTC)) for n in range(5)])
    with django_capture_on_commit_callbacks(execute=True):
        usage_rollups_rebuild()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN (%s, %s)",
            [UsageDay._meta.db_table, UsageUserDay._meta.db_table],
        )
        statistics = dict(cursor.fetchall())

    assert statistics == {UsageDay._meta.db_table: 5, UsageUserDay._meta.db_table: 5}


def test_features_ensure_creates_missing_names_once_and_keeps_admin_edits():
    seen = dt.datetime(2024, 3, 1, tzinfo=UTC)
    first = features_ensure(names=["login", "export", "login"], seen_at=seen)
    Feature.objects.filter(name="login").update(label="Sign-in", is_key=True)

    again = features_ensure(names=["login", "share"], seen_at=seen + dt.timedelta(days=1))

    assert again["login"] == first["login"]
    assert set(again) == {"login", "share"}
    login = Feature.objects.get(name="login")
    assert (login.label, login.is_key, login.first_seen_at) == ("Sign-in", True, seen)
    assert Feature.objects.count() == 3
    assert features_ensure(names=[], seen_at=seen) == {}


def test_rebuild_command_prints_counts_and_rejects_unknown_accounts():
    account = AccountFactory(external_id="CRM-42")
    ingest([(account.id, "u1", "login", dt.datetime(2024, 3, 1, tzinfo=UTC))])
    before = rollups_snapshot()
    out = io.StringIO()

    call_command("rebuild_usage_rollups", "--account", "CRM-42", stdout=out)

    lines = out.getvalue().splitlines()
    assert rollups_snapshot() == before
    assert lines[0].startswith("Rebuilt usage rollups for 1 account(s) from 1 events in ")
    assert "  UsageDay: 1 rows" in lines
    with pytest.raises(CommandError, match="CRM-404"):
        call_command("rebuild_usage_rollups", "--account", "CRM-42", "CRM-404")


event = st.tuples(
    st.integers(0, 2),  # account
    st.sampled_from(USERS),
    st.sampled_from(FEATURES),
    st.integers(0, SPAN_SECONDS - 1),  # seconds after SPAN_START
    st.sampled_from(ZONES),
)
# Sizes spread over 0..150 (a plain st.lists averages about five elements: too sparse for 30-day windows).
event_stream = st.integers(0, 150).flatmap(lambda size: st.lists(event, min_size=size, max_size=size))


@settings(max_examples=40, deadline=None)
@given(
    stream=event_stream,
    rng=st.randoms(use_true_random=False),
    seats=st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=3, max_size=3),
    roles=st.lists(st.sampled_from(["plain", "key", "ignored", "key and ignored"]), min_size=5, max_size=5),
)
def test_rollup_metrics_equal_brute_force_on_random_streams(stream, rng, seats, roles):
    """Random events (three accounts, anonymous and named users, three time zones, 90 days around AS_OF, some
    after it) arrive shuffled in random batches; the metrics on two dates equal the brute force, and a rebuild
    reproduces the incremental rollups. Each example runs in its own rolled-back transaction."""
    with transaction.atomic():
        accounts = AccountFactory.create_batch(3)
        for account, account_seats in zip(accounts, seats, strict=True):
            ContractFactory(
                account=account, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31), seats=account_seats
            )
        events = [
            (accounts[a].id, user, name, (SPAN_START + dt.timedelta(seconds=offset)).astimezone(zone))
            for a, user, name, offset, zone in stream
        ]
        arrival = rng.sample(events, len(events))  # late and out-of-order
        for batch in batches_of(arrival, [rng.randrange(len(events) + 1) for _ in range(rng.randrange(6))]):
            ingest(batch)
        features_ensure(names=["never_used"], seen_at=SPAN_START)
        catalog = dict(zip([*FEATURES, "never_used"], roles, strict=True))
        Feature.objects.filter(name__in=[name for name, role in catalog.items() if "key" in role]).update(is_key=True)
        Feature.objects.filter(name__in=[name for name, role in catalog.items() if "ignored" in role]).update(
            ignored=True
        )
        account_ids = [account.id for account in accounts]

        for as_of in [AS_OF, AS_OF - dt.timedelta(days=23)]:
            frame = usage_metrics(as_of=as_of, account_ids=account_ids)
            assert_metrics_equal(frame.to_dict("index"), brute_force_metrics(as_of=as_of, account_ids=account_ids))

        incremental = rollups_snapshot()
        usage_rollups_rebuild()
        assert rollups_snapshot() == incremental
        transaction.set_rollback(True)


def test_folding_the_queue_equals_folding_directly_and_empties_it():
    accounts = [AccountFactory().pk for _ in range(2)]
    events = random_events(random.Random(7), accounts, 120)
    usage_rollups_add(events=events)
    direct = rollups_snapshot()
    for model in (UsageDay, UsageUserDay, UsageFeatureDay, AccountFeatureUsage, AccountUserUsage):
        model.objects.all().delete()

    usage_events_queue(events=events[:50])
    usage_events_queue(events=events[50:])
    assert usage_rollups_fold(limit=70) == 70
    assert usage_rollups_fold() == 50
    assert usage_rollups_fold() == 0
    assert rollups_snapshot() == direct


def test_queued_rows_of_an_account_deleted_behind_djangos_back_are_dropped_not_folded():
    kept = AccountFactory().pk
    events = random_events(random.Random(8), [kept], 30)
    usage_events_queue(events=events)
    usage_events_queue(events=[(kept + 1000, "u1", "login", dt.datetime(2024, 3, 1, tzinfo=UTC))])  # no such account

    assert usage_rollups_fold() == 31

    assert {account_id for account_id, _, _ in rollups_snapshot()["days"]} == {kept}
    assert sum(events for _, _, events in rollups_snapshot()["days"]) == 30
