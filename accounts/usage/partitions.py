"""Raw usage events by month, and their retention (PostgreSQL; docs/operations.md, "Usage history and retention").

``accounts_usageevent`` is partitioned by range of ``occurred_at``, one partition per UTC month named
``accounts_usageevent_pYYYY_MM``, plus a default partition for an event of a month that has none (very late data).
``usage_partitions_maintain`` runs daily (beat) and after ``migrate``:

- it creates the partitions from last month to ``MONTHS_AHEAD`` months ahead, and one for every month of the
  retained window that the default partition holds events of (moving them in);
- it drops, whole, every partition older than the retention (``USAGE_RAW_RETENTION_MONTHS``; 0 keeps every
  month), once its rollups are final: no event of that month is still queued for the rollups. Events of those
  months in the default partition go the same way, and ``UsageMessage`` forgets the messageIds received before
  the retention's start. ``UsageRetention.raw_from`` records where raw history now starts, so that a rebuild of
  the rollups keeps what lies before it.

The night never reads raw events (it reads the rollups ingestion folds from ``UsageInbox``), so its cost does not
grow with raw history; the partitions bound what the raw table costs to keep, index and back up. SQLite (the
embedded default) keeps one plain table and every raw event.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import UsageEvent, UsageInbox, UsageMessage, UsageRetention

MONTHS_AHEAD = 2
MAINTAIN_LOCK = 0x70617274  # "part": one maintenance at a time
PARTITION_PREFIX = "p"


@dataclass
class MaintenanceReport:
    """What ``usage_partitions_maintain`` did: partitions created and dropped (their months), the default
    partition's events moved into new partitions or dropped, messageIds forgotten, and months it kept although
    past the retention because some of their events are still queued for the rollups."""

    created: list[dt.date] = field(default_factory=list)
    dropped: list[dt.date] = field(default_factory=list)
    moved_from_default: int = 0
    dropped_from_default: int = 0
    messages_forgotten: int = 0
    waiting_for_rollups: list[dt.date] = field(default_factory=list)


def month_start(moment: dt.date | dt.datetime) -> dt.date:
    return dt.date(moment.year, moment.month, 1)


def month_add(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def retention_start(*, today: dt.date) -> dt.date | None:
    """The first month whose raw events are kept (``None``: every month is kept)."""
    months = settings.USAGE_RAW_RETENTION_MONTHS
    return month_add(month_start(today), -months) if months else None


def partitioned() -> bool:
    """Whether the raw events' table is partitioned (PostgreSQL after the migration; never on SQLite)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [_parent()])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partition_months() -> list[dt.date]:
    """The months that have a partition, oldest first."""
    prefix = f"{_parent()}_{PARTITION_PREFIX}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s)",
            [_parent()],
        )
        names = [name for (name,) in cursor.fetchall() if name.startswith(prefix)]
    return sorted(dt.date(int(name[-7:-3]), int(name[-2:]), 1) for name in names)


def usage_partitions_maintain(*, now: dt.datetime | None = None) -> MaintenanceReport:
    """Create the partitions the coming months and the default partition's events need, and drop the months past
    the retention whose rollups are final (module docstring). Safe to run at any time, also concurrently."""
    report = MaintenanceReport()
    if not partitioned():
        return report
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    first_kept = retention_start(today=today)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MAINTAIN_LOCK])
        wanted = _months(month_add(month_start(today), -1), month_add(month_start(today), MONTHS_AHEAD))
        report.created, report.moved_from_default = _partitions_create(wanted | _default_months(since=first_kept))
        if first_kept:
            _retention_apply(first_kept=first_kept, months=partition_months(), report=report)
    return report


@transaction.atomic
def usage_partitions_ensure(*, first: dt.date, last: dt.date) -> list[dt.date]:
    """Create the partitions of the months from ``first`` to ``last`` that have none (before a bulk load of
    history, so that it goes straight to its months); returns the months created."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MAINTAIN_LOCK])
    return _partitions_create(_months(month_start(first), month_start(last)))[0]


def _partitions_create(months: set[dt.date]) -> tuple[list[dt.date], int]:
    """Create the partitions of ``months`` that have none; returns the months created and the events moved into
    them from the default partition."""
    created, moved = sorted(months - set(partition_months())), 0
    for month in created:
        moved += _partition_create(month)
    return created, moved


def _retention_apply(*, first_kept: dt.date, months: list[dt.date], report: MaintenanceReport) -> None:
    """Drop the partitions (and default-partition events) before ``first_kept`` whose rollups are final."""
    queued = UsageInbox.objects.filter(occurred_at__lt=_start_of(first_kept)).dates("occurred_at", "month")
    waiting = {month_start(day) for day in queued}
    report.waiting_for_rollups = sorted(month for month in months if month < first_kept and month in waiting)
    horizon = min([first_kept, *report.waiting_for_rollups])
    for month in months:
        if month < horizon:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {_quoted(_partition_name(month))}")
            report.dropped.append(month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_quoted(_default_name())} WHERE occurred_at < %s",  # noqa: S608 (names)
            [_start_of(horizon)],
        )
        report.dropped_from_default = cursor.rowcount
    report.messages_forgotten, _ = UsageMessage.objects.filter(received_at__lt=_start_of(first_kept)).delete()
    if report.dropped or report.dropped_from_default:
        retention, _ = UsageRetention.objects.get_or_create(pk=1)
        if retention.raw_from is None or retention.raw_from < _start_of(horizon):
            retention.raw_from = _start_of(horizon)
            retention.save(update_fields=["raw_from"])


def _partition_create(month: dt.date) -> int:
    """Create ``month``'s partition; events of that month waiting in the default partition move into it first
    (PostgreSQL refuses a new partition whose rows the default partition holds). Returns the events moved."""
    name, parent, default = _quoted(_partition_name(month)), _quoted(_parent()), _quoted(_default_name())
    bounds = f"FROM ('{_start_of(month).isoformat()}') TO ('{_start_of(month_add(month, 1)).isoformat()}')"
    low, high = _start_of(month), _start_of(month_add(month, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE occurred_at >= %s AND occurred_at < %s)",  # noqa: S608
            [low, high],
        )
        if not cursor.fetchone()[0]:
            cursor.execute(f"CREATE TABLE {name} PARTITION OF {parent} FOR VALUES {bounds}")
            return 0
        cursor.execute(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE occurred_at >= %s AND occurred_at < %s RETURNING *)"  # noqa: S608
            f" INSERT INTO {name} SELECT * FROM moved",
            [low, high],
        )
        moved = cursor.rowcount
        cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES {bounds}")
    return moved


def _default_months(*, since: dt.date | None) -> set[dt.date]:
    """The months (from ``since`` on) of the events in the default partition."""
    condition, params = ("WHERE occurred_at >= %s", [_start_of(since)]) if since else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date"  # noqa: S608 (names)
            f" FROM {_quoted(_default_name())} {condition}",
            params,
        )
        return {month for (month,) in cursor.fetchall()}


def _months(first: dt.date, last: dt.date) -> set[dt.date]:
    months, month = set(), first
    while month <= last:
        months.add(month)
        month = month_add(month, 1)
    return months


def _start_of(month: dt.date) -> dt.datetime:
    return dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)


def _parent() -> str:
    return UsageEvent._meta.db_table


def _partition_name(month: dt.date) -> str:
    return f"{_parent()}_{PARTITION_PREFIX}{month:%Y_%m}"


def _default_name() -> str:
    return f"{_parent()}_default"


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)
