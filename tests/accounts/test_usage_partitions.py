"""Raw usage events partitioned by month (PostgreSQL): every event in its month's partition, stored once per
(source, messageId) across months, the coming months created ahead, months past the retention dropped whole once
their rollups are final, a rebuild of the rollups that keeps what the dropped months held, and the upgrade of an
existing installation's table (docs/operations.md, "Usage history and retention")."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.ingestion.services import ingest_batch
from accounts.models import AccountFeatureUsage, UsageDay, UsageEvent, UsageInbox, UsageMessage, UsageRetention
from accounts.usage.partitions import partition_months, partitioned, usage_partitions_maintain
from accounts.usage.services import usage_rollups_fold_all, usage_rollups_rebuild
from tests.accounts.test_usage_rollups import rollups_snapshot
from tests.factories import AccountFactory, SourceFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 7, 10, 42, tzinfo=UTC)


def track(account, message_id: str, at: dt.datetime, user: str = "u1", event: str = "login") -> dict:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": event,
        "timestamp": at.isoformat(),
        "context": {"groupId": account.external_id},
    }


def partition_of(event: UsageEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {UsageEvent._meta.db_table} WHERE id = %s AND occurred_at = %s",  # noqa: S608
            [event.pk, event.occurred_at],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_event_lands_in_its_months_partition_and_a_resend_in_another_month_is_a_duplicate():
    usage_partitions_maintain(now=NOW)
    account, source = AccountFactory(), SourceFactory()
    first = ingest_batch(
        source_id=source.pk,
        messages=[track(account, "m-1", dt.datetime(2026, 11, 30, 23, 59, tzinfo=UTC))],
        received_at=NOW,
    )
    # The same call re-sent, its time corrected differently (clock skew): the other side of the month boundary.
    again = ingest_batch(
        source_id=source.pk,
        messages=[track(account, "m-1", dt.datetime(2026, 12, 1, 0, 1, tzinfo=UTC))],
        received_at=NOW,
    )

    event = UsageEvent.objects.get()
    assert (first.duplicates, again.duplicates) == (0, 1)
    assert partition_of(event) == "accounts_usageevent_p2026_11"
    stored = UsageMessage.objects.get()
    assert (stored.event_id, stored.occurred_at, stored.received_at) == (event.pk, event.occurred_at, NOW)
    assert UsageInbox.objects.count() == 1


@pytest.mark.django_db
def test_maintenance_creates_the_coming_months_and_moves_late_events_out_of_the_default_partition():
    account, source = AccountFactory(), SourceFactory()
    late = dt.datetime(2026, 3, 14, 8, tzinfo=UTC)  # a month with no partition yet: the default partition takes it
    ingest_batch(source_id=source.pk, messages=[track(account, "late", late)], received_at=NOW)
    assert partition_of(UsageEvent.objects.get()) == "accounts_usageevent_default"

    report = usage_partitions_maintain(now=NOW)

    assert dt.date(2026, 3, 1) in report.created
    assert report.moved_from_default == 1
    assert partition_of(UsageEvent.objects.get()) == "accounts_usageevent_p2026_03"
    assert {dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)} <= set(
        partition_months()
    )
    assert usage_partitions_maintain(now=NOW).created == []  # nothing left to do


@pytest.mark.django_db
def test_months_past_the_retention_are_dropped_once_their_rollups_are_final_and_the_rollups_stay(settings):
    settings.USAGE_RAW_RETENTION_MONTHS = 2  # from 2026-10 on
    usage_partitions_maintain(now=NOW)
    account, source = AccountFactory(), SourceFactory()
    old = [dt.datetime(2026, 8, 3, 9, tzinfo=UTC), dt.datetime(2026, 9, 20, 17, tzinfo=UTC)]
    recent = [dt.datetime(2026, 10, 2, 9, tzinfo=UTC), dt.datetime(2026, 12, 6, 11, tzinfo=UTC)]
    calls = [track(account, f"m-{n}", at, user=f"u{n % 2}") for n, at in enumerate(old + recent)]
    ingest_batch(source_id=source.pk, messages=calls[:2], received_at=dt.datetime(2026, 9, 25, tzinfo=UTC))
    usage_partitions_maintain(now=dt.datetime(2026, 9, 26, tzinfo=UTC))  # August and September get partitions
    ingest_batch(source_id=source.pk, messages=calls[2:], received_at=NOW)

    waiting = usage_partitions_maintain(now=NOW)  # the events are still queued for the rollups: nothing dropped

    assert waiting.dropped == [] and waiting.waiting_for_rollups == [dt.date(2026, 8, 1), dt.date(2026, 9, 1)]
    assert UsageEvent.objects.count() == 4
    # A messageId is remembered for the retention after its receipt, whatever became of its event.
    assert waiting.messages_forgotten == 2
    usage_rollups_fold_all()
    rollups = rollups_snapshot()

    report = usage_partitions_maintain(now=NOW)

    assert report.dropped == [dt.date(2026, 8, 1), dt.date(2026, 9, 1)]
    assert sorted(UsageEvent.objects.values_list("occurred_at", flat=True)) == recent
    assert rollups_snapshot() == rollups  # the rollups keep all history
    assert UsageRetention.objects.get().raw_from == dt.datetime(2026, 10, 1, tzinfo=UTC)
    assert sorted(UsageMessage.objects.values_list("message_id", flat=True)) == ["m-2", "m-3"]
    assert dt.date(2026, 9, 1) not in partition_months()

    # A rebuild from raw events now starts where raw history does and keeps the days before it, exactly.
    usage_rollups_rebuild()
    assert rollups_snapshot() == rollups
    usage_rollups_rebuild(account_ids=[account.pk])
    assert rollups_snapshot() == rollups


@pytest.mark.django_db
def test_a_rebuild_after_retention_recomputes_the_kept_days_from_raw_events(settings):
    settings.USAGE_RAW_RETENTION_MONTHS = 2
    account, source = AccountFactory(), SourceFactory()
    calls = [
        track(account, "old", dt.datetime(2026, 8, 3, 9, tzinfo=UTC), user="u1", event="export"),
        track(account, "new", dt.datetime(2026, 11, 3, 9, tzinfo=UTC), user="u1", event="export"),
    ]
    ingest_batch(source_id=source.pk, messages=calls, received_at=NOW)
    usage_rollups_fold_all()
    expected = rollups_snapshot()
    usage_partitions_maintain(now=NOW)
    UsageDay.objects.filter(day__gte=dt.date(2026, 10, 1)).update(events=40)  # damaged after the retention's start
    AccountFeatureUsage.objects.update(events=7, last_used_at=dt.datetime(2026, 12, 1, tzinfo=UTC))

    usage_rollups_rebuild()

    assert rollups_snapshot() == expected


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_partitions_an_existing_table_and_keeps_every_event_and_message_id():
    old = migrate([("accounts", "0014_user_language_krw")])
    try:
        assert not partitioned()
        account = old.get_model("accounts", "Account").objects.create(external_id="ACME", name="Acme")
        source = old.get_model("accounts", "Source").objects.create(name="Web")
        Event = old.get_model("accounts", "UsageEvent")
        times = [dt.datetime(2025, 1, 31, 23, tzinfo=UTC), dt.datetime(2025, 2, 1, 1, tzinfo=UTC), NOW]
        before = [
            Event.objects.create(
                source=source,
                account=account,
                user_id="u1",
                event="login",
                occurred_at=at,
                received_at=at,
                message_id=f"m-{n}",
            ).pk
            for n, at in enumerate(times)
        ]

        migrate([("accounts", "0015_usage_events_partitioned")])

        assert partitioned()
        assert {dt.date(2025, 1, 1), dt.date(2025, 2, 1)} <= set(partition_months())
        assert sorted(UsageEvent.objects.values_list("id", "occurred_at")) == list(zip(before, times, strict=True))
        assert sorted(UsageMessage.objects.values_list("message_id", "event_id")) == [
            (f"m-{n}", pk) for n, pk in enumerate(before)
        ]
        resent = ingest_batch(
            source_id=source.pk,
            messages=[track(account, "m-1", times[1]), track(account, "m-9", NOW)],
            received_at=NOW,
        )
        assert resent.duplicates == 1
        assert UsageEvent.objects.get(message_id="m-9").pk > max(before)  # the sequence goes on
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
