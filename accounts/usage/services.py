"""Writes of usage: the feature catalog and the rollups the usage metrics read (docs/concepts/usage.md, "Usage").

Each rollup is declared once in ``ROLLUPS`` and maintained from that declaration. Ingestion only queues newly
stored events (``usage_events_queue``, one cheap insert into ``UsageInbox``); ``usage_rollups_fold`` moves the
queue into the rollups seconds later (counts add up, first/last widen), set-based with ``INSERT ... SELECT ...
GROUP BY ... ON CONFLICT DO UPDATE`` on PostgreSQL; ``usage_rollups_add`` folds given events directly; and
``usage_rollups_rebuild`` recomputes everything from raw events with ``INSERT ... SELECT ... GROUP BY``. A day is
the UTC date of ``occurred_at``, so a late or out-of-order event lands in its own day whenever it arrives. Events
without a user id count toward events, never toward users.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.utils import timezone

from csm_platform.dates import utc_date

from ..models import (
    Account,
    AccountFeatureUsage,
    AccountUserUsage,
    ChangedAccount,
    Feature,
    Source,
    UsageDay,
    UsageEvent,
    UsageFeatureDay,
    UsageInbox,
    UsageMessage,
    UsageRetention,
    UsageUserDay,
)

ROWS_PER_STATEMENT = 1000
# Queued events folded per transaction, the advisory lock that serialises folds, and their scratch table.
FOLD_BATCH = 200_000
FOLD_LOCK = 0x75736167  # "usag"
FOLD_TABLE = "usage_fold_batch"


@dataclass(frozen=True)
class Rollup:
    """A rollup table: ``events`` counted per ``keys`` (among account, day, user_id, feature); the all-time
    rollups also keep the earliest and latest ``occurred_at`` in their ``first`` and ``last`` fields."""

    model: type[models.Model]
    keys: tuple[str, ...]
    first: str | None = None
    last: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        spans = (self.first, self.last) if self.first else ()
        return (*self.keys, "events", *spans)


ROLLUPS = (
    Rollup(UsageDay, keys=("account", "day")),
    Rollup(UsageUserDay, keys=("account", "day", "user_id")),
    Rollup(UsageFeatureDay, keys=("account", "day", "feature")),
    Rollup(AccountFeatureUsage, keys=("account", "feature"), first="first_used_at", last="last_used_at"),
    Rollup(AccountUserUsage, keys=("account", "user_id"), first="first_seen_at", last="last_seen_at"),
)


@dataclass(frozen=True)
class RebuildSummary:
    """What ``usage_rollups_rebuild`` did: raw events read, catalog features created, rows written per rollup."""

    events: int
    features_created: int
    rows: dict[str, int]


class _Event(NamedTuple):
    account: int
    day: dt.date
    user_id: str
    feature: int
    occurred_at: dt.datetime


def features_ensure(*, names: Iterable[str], seen_at: dt.datetime) -> dict[str, int]:
    """Get or create the catalog feature of every event name (new ones first seen at ``seen_at``) and return
    ``{name: feature_id}``: one insert that skips existing names, one select, safe under concurrent ingestion."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    Feature.objects.bulk_create([Feature(name=name, first_seen_at=seen_at) for name in wanted], ignore_conflicts=True)
    return dict(Feature.objects.filter(name__in=wanted).values_list("name", "id"))


@transaction.atomic
def usage_rollups_add(*, events: Sequence[tuple[int, str, str, dt.datetime]]) -> None:
    """Fold newly inserted events ``(account_id, user_id, event_name, occurred_at)`` into every rollup.

    Call it in the transaction that inserted them, with exactly the events inserted (never a deduplicated
    re-send). Per rollup key: ``events += n``, ``first = min(first, new)``, ``last = max(last, new)``. Catalog
    features missing for a name are created, first seen at the batch's earliest ``occurred_at``.
    """
    if not events:
        return
    earliest = min(occurred_at for *_, occurred_at in events)
    feature_ids = features_ensure(names={name for _, _, name, _ in events}, seen_at=earliest)
    rows = [
        _Event(account_id, utc_date(occurred_at), user_id, feature_ids[name], occurred_at)
        for account_id, user_id, name, occurred_at in events
    ]
    for rollup in ROLLUPS:
        _rollup_upsert(rollup=rollup, rows=_rollup_aggregate(rollup=rollup, events=rows))


def usage_events_queue(*, events: Sequence[tuple[int, str, str, dt.datetime]]) -> None:
    """Queue newly stored events ``(account_id, user_id, event_name, occurred_at)`` for the rollups: call it in
    the transaction that inserted them, with exactly the events inserted. One multi-row insert."""
    if events:
        UsageInbox.objects.bulk_create(
            [UsageInbox(account_id=a, user_id=u, event=e, occurred_at=t) for a, u, e, t in events], batch_size=5000
        )


@transaction.atomic
def usage_rollups_fold(*, limit: int = FOLD_BATCH, wait: bool = False) -> int:
    """Fold up to ``limit`` queued events into the rollups and take them off the queue; returns how many.

    One fold at a time (a PostgreSQL advisory lock), so two folds never update the same rollup rows in different
    orders: with ``wait`` a call waits for a running fold, without it returns 0 at once.
    """
    if connection.vendor != "postgresql":
        queued = list(
            UsageInbox.objects.order_by("id")[:limit].values_list("id", "account_id", "user_id", "event", "occurred_at")
        )
        known = set(Account.objects.filter(id__in={row[1] for row in queued}).values_list("id", flat=True))
        usage_rollups_add(events=[row[1:] for row in queued if row[1] in known])
        UsageInbox.objects.filter(id__in=[row[0] for row in queued]).delete()
        now = timezone.now()
        ChangedAccount.objects.bulk_create(
            [ChangedAccount(account_id=a, changed_at=now) for a in known], ignore_conflicts=True
        )
        return len(queued)
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
            if not cursor.fetchone()[0]:
                return 0
        inbox = _table(UsageInbox)
        columns = ", ".join(_column(UsageInbox, name) for name in ("account", "user_id", "event", "occurred_at"))
        cursor.execute(f"CREATE TEMP TABLE {FOLD_TABLE} ON COMMIT DROP AS SELECT {columns} FROM {inbox} LIMIT 0")  # noqa: S608
        cursor.execute(
            f"WITH moved AS (DELETE FROM {inbox} WHERE id IN (SELECT id FROM {inbox} ORDER BY id LIMIT %s) "  # noqa: S608
            f"RETURNING {columns}) INSERT INTO {FOLD_TABLE} SELECT {columns} FROM moved",
            [limit],
        )
        moved = cursor.rowcount
        # The inbox has no foreign key: rows of an account deleted outside Django are dropped, not folded.
        account = _column(UsageInbox, "account")
        cursor.execute(
            f"DELETE FROM {FOLD_TABLE} f WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {_table(Account)} a WHERE a.{_column(Account, 'id')} = f.{account})"
        )
    if moved:
        _features_insert_select(source=FOLD_TABLE, account_ids=None)
        for rollup in ROLLUPS:
            _rollup_insert_select(rollup=rollup, source=FOLD_TABLE, account_ids=None, additive=True)
        # The accounts with new usage wait for the intra-day refresh of their figures.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(ChangedAccount)} ({_column(ChangedAccount, 'account')}, "  # noqa: S608
                f"{_column(ChangedAccount, 'changed_at')}) SELECT DISTINCT {account}, now() FROM {FOLD_TABLE} "
                "ON CONFLICT DO NOTHING"
            )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FOLD_TABLE}")
    return moved


def usage_messages_remember(*, source: Source) -> int:
    """Record in the ledger the messageIds of ``source``'s events written without ingestion (the demo's ``COPY``),
    so that a re-send of one is a duplicate as for any ingested call. One ``INSERT ... SELECT``; returns the rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(UsageMessage)} (source_id, message_id, event_id, occurred_at, received_at)"  # noqa: S608
            f" SELECT source_id, message_id, id, occurred_at, received_at FROM {_table(UsageEvent)}"
            " WHERE source_id = %s ON CONFLICT (source_id, message_id) DO NOTHING",
            [source.pk],
        )
        return cursor.rowcount


def usage_rollups_fold_all() -> int:
    """Drain the queue (the nightly job closes the day with it); returns the events folded."""
    total = 0
    while folded := usage_rollups_fold(wait=True):
        total += folded
    return total


@transaction.atomic
def usage_rollups_rebuild(*, account_ids: Iterable[int] | None = None) -> RebuildSummary:
    """Delete the rollups of ``account_ids`` (default: all) and recompute them from raw events, one
    ``INSERT ... SELECT ... GROUP BY`` per rollup, after creating the catalog feature of every event name seen
    (first seen at its earliest ``occurred_at``). For after the demo load or a bulk import.

    Where the retention dropped raw history (``UsageRetention.raw_from``), only the days from then on are rebuilt:
    the daily rollups before it stay as they are, and each all-time rollup row adds their counts to the raw
    events' and keeps its first and last use when these lie before it (else the start or end of the day, from
    the daily rollups).

    On PostgreSQL the raw events are locked in SHARE mode for the transaction: ingestion waits rather than fold
    an event into rollups the rebuild is replacing (SQLite serialises writers anyway).
    """
    ids = None if account_ids is None else sorted(set(account_ids))
    if ids == []:
        return RebuildSummary(events=0, features_created=0, rows={r.model.__name__: 0 for r in ROLLUPS})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_table(UsageEvent)} IN SHARE MODE")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
    raw_from = UsageRetention.objects.filter(pk=1).values_list("raw_from", flat=True).first()
    raw = UsageEvent.objects.all() if ids is None else UsageEvent.objects.filter(account_id__in=ids)
    if raw_from:
        raw = raw.filter(occurred_at__gte=raw_from)
    (UsageInbox.objects.all() if ids is None else UsageInbox.objects.filter(account_id__in=ids)).delete()
    catalog_before = Feature.objects.count()
    _features_insert_select(source=_table(UsageEvent), account_ids=ids)
    features_created = Feature.objects.count() - catalog_before
    rows = {}
    for rollup in ROLLUPS:
        scope = rollup.model.objects.all() if ids is None else rollup.model.objects.filter(account_id__in=ids)
        if raw_from and "day" in rollup.keys:
            scope = scope.filter(day__gte=utc_date(raw_from))
        kept = _before_horizon_keep(rollup=rollup, scope=scope, raw_from=raw_from) if raw_from else None
        scope.delete()
        rows[rollup.model.__name__] = _rollup_insert_select(
            rollup=rollup, source=_table(UsageEvent), account_ids=ids, since=raw_from
        )
        if kept:
            _before_horizon_add(rollup=rollup, kept=kept, account_ids=ids, raw_from=raw_from)
    if ids is None:
        # Fresh planner statistics for the tables just refilled, once committed (the raw events stay unlocked
        # meanwhile): until autovacuum gets to them, queries over the rollups are planned for empty tables.
        transaction.on_commit(lambda: statistics_refresh(tables_of=[Feature, *(rollup.model for rollup in ROLLUPS)]))
    return RebuildSummary(events=raw.count(), features_created=features_created, rows=rows)


# The daily rollup each all-time rollup is the sum of, over the same keys.
_DAILY_OF = {AccountFeatureUsage: UsageFeatureDay, AccountUserUsage: UsageUserDay}
KEPT_TABLE = "usage_rebuild_kept"


def _before_horizon_keep(*, rollup: Rollup, scope: models.QuerySet, raw_from: dt.datetime) -> str | None:
    """For an all-time rollup: copy the first and last use of its rows in ``scope`` that lie before ``raw_from``
    into a scratch table (dropped at commit) and return its name; other rollups keep nothing."""
    if not rollup.first:
        return None
    columns = [rollup.model._meta.get_field(name).attname for name in (*rollup.keys, rollup.first, rollup.last)]
    query, params = scope.filter(**{f"{rollup.first}__lt": raw_from}).values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {KEPT_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {KEPT_TABLE} ON COMMIT DROP AS {query}", params)
    return KEPT_TABLE


def _before_horizon_add(*, rollup: Rollup, kept: str, account_ids: Sequence[int] | None, raw_from: dt.datetime) -> None:
    """Add to the all-time rollup what the daily rollups hold before ``raw_from``: their events, and the first and
    last use kept in ``kept`` (or where none was kept, the start of the first such day and the end of the last, UTC)."""
    daily = _DAILY_OF[rollup.model]
    keys = [_column(rollup.model, name) for name in rollup.keys]
    first, last = _column(rollup.model, rollup.first), _column(rollup.model, rollup.last)
    day, events = _column(daily, "day"), _column(daily, "events")
    join = " AND ".join(f"k.{key} = d.{key}" for key in keys)
    conditions, params = [f"d.{day} < %s"], [utc_date(raw_from)]
    if account_ids is not None:
        conditions.append(f"d.{_column(daily, 'account')} IN ({', '.join(['%s'] * len(account_ids))})")
        params += list(account_ids)
    first_day = f"(MIN(d.{day})::timestamp AT TIME ZONE 'UTC')"
    last_day = f"((MAX(d.{day}) + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond')"
    group_by = ", ".join(f"d.{key}" for key in keys)
    columns = ", ".join([*keys, _column(rollup.model, "events"), first, last])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(rollup.model)} ({columns})"  # noqa: S608
            f" SELECT {group_by}, SUM(d.{events}), COALESCE(MIN(k.{first}), {first_day}),"
            f" COALESCE(MAX(k.{last}) FILTER (WHERE k.{last} < %s), {last_day})"
            f" FROM {_table(daily)} d LEFT JOIN {kept} k ON {join} WHERE {' AND '.join(conditions)}"
            f" GROUP BY {group_by} ORDER BY {group_by}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(_updates(rollup))}",
            [raw_from, *params],
        )


def statistics_refresh(*, tables_of: Iterable[type[models.Model]]) -> None:
    """``ANALYZE`` the tables of the models ``tables_of`` after a bulk load (PostgreSQL; elsewhere nothing to do)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(_table(model) for model in tables_of)}")


def _rollup_aggregate(*, rollup: Rollup, events: Sequence[_Event]) -> list[tuple]:
    """One row per key of ``rollup``, in key order: the key, the event count and, for the all-time rollups, the
    earliest and latest ``occurred_at``."""
    groups: dict[tuple, list] = {}
    for event in events:
        if "user_id" in rollup.keys and not event.user_id:
            continue
        key = tuple(getattr(event, name) for name in rollup.keys)
        group = groups.setdefault(key, [0, event.occurred_at, event.occurred_at])
        group[0] += 1
        group[1] = min(group[1], event.occurred_at)
        group[2] = max(group[2], event.occurred_at)
    return [
        (*key, count, first, last) if rollup.first else (*key, count)
        for key, (count, first, last) in sorted(groups.items())
    ]


def _rollup_upsert(*, rollup: Rollup, rows: Sequence[tuple]) -> None:
    """``INSERT ... VALUES ... ON CONFLICT (keys) DO UPDATE``: events add up, first/last widen. Parameterised,
    chunked; rows arrive in key order so concurrent writers lock rows in the same order."""
    if not rows:
        return
    meta = rollup.model._meta
    fields = [meta.get_field(name) for name in rollup.fields]
    table = _table(rollup.model)
    columns = {name: _column(rollup.model, name) for name in rollup.fields}
    updates = _updates(rollup)
    conflict = ", ".join(columns[name] for name in rollup.keys)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = min(ROWS_PER_STATEMENT, (connection.features.max_query_params or 65535) // len(fields))
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), per_statement):
            chunk = rows[offset : offset + per_statement]
            values = ", ".join([placeholder] * len(chunk))
            params = [
                field.get_db_prep_value(value, connection)
                for row in chunk
                for field, value in zip(fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns.values())}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(updates)}",
                params,
            )


def _rollup_insert_select(
    *,
    rollup: Rollup,
    source: str,
    account_ids: Sequence[int] | None,
    additive: bool = False,
    since: dt.datetime | None = None,
) -> int:
    """``INSERT INTO rollup SELECT keys, COUNT(*)[, MIN(occurred_at), MAX(occurred_at)] FROM source GROUP BY
    keys`` (``source``: the raw events, or queued events with the same columns; only those from ``since`` when
    given); ``additive`` adds into existing rows (``ON CONFLICT DO UPDATE``) instead of expecting none. Returns
    the rows written."""
    occurred_at = f"e.{_column(UsageEvent, 'occurred_at')}"
    user_id = f"e.{_column(UsageEvent, 'user_id')}"
    selected = {
        "account": f"e.{_column(UsageEvent, 'account')}",
        "day": _utc_day(occurred_at),
        "user_id": user_id,
        "feature": f"f.{_column(Feature, 'id')}",
    }
    expressions = [selected[name] for name in rollup.keys] + ["COUNT(*)"]
    if rollup.first:
        expressions += [f"MIN({occurred_at})", f"MAX({occurred_at})"]
    relation = f"{source} e"
    if "feature" in rollup.keys:
        relation += f" JOIN {_table(Feature)} f ON f.{_column(Feature, 'name')} = e.{_column(UsageEvent, 'event')}"
    conditions, params = _account_filter(account_ids)
    if since:
        conditions.append(f"{occurred_at} >= %s")
        params.append(since)
    if "user_id" in rollup.keys:
        conditions.append(f"{user_id} <> ''")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = ", ".join(_column(rollup.model, name) for name in rollup.fields)
    group_by = ", ".join(str(position) for position in range(1, len(rollup.keys) + 1))
    conflict = ""
    if additive:
        keys = ", ".join(_column(rollup.model, name) for name in rollup.keys)
        conflict = f" ORDER BY {group_by} ON CONFLICT ({keys}) DO UPDATE SET {', '.join(_updates(rollup))}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(rollup.model)} ({columns}) "  # noqa: S608
            f"SELECT {', '.join(expressions)} FROM {relation}{where} GROUP BY {group_by}{conflict}",
            params,
        )
        return cursor.rowcount


def _updates(rollup: Rollup) -> list[str]:
    """The ``ON CONFLICT DO UPDATE`` assignments: events add up, first and last widen."""
    table = _table(rollup.model)
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    events = _column(rollup.model, "events")
    updates = [f"{events} = {table}.{events} + EXCLUDED.{events}"]
    if rollup.first:
        first, last = _column(rollup.model, rollup.first), _column(rollup.model, rollup.last)
        updates += [
            f"{first} = {least}({table}.{first}, EXCLUDED.{first})",
            f"{last} = {greatest}({table}.{last}, EXCLUDED.{last})",
        ]
    return updates


def _features_insert_select(*, source: str, account_ids: Sequence[int] | None) -> None:
    """Create the catalog feature of every event name in ``source`` not in it yet, first seen at its earliest
    ``occurred_at`` (an earlier late event moves ``first_seen_at`` back)."""
    columns = ", ".join(_column(Feature, name) for name in ("name", "label", "is_key", "ignored", "first_seen_at"))
    conditions, params = _account_filter(account_ids)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    name, first_seen = _column(UsageEvent, "event"), _column(Feature, "first_seen_at")
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    feature = _table(Feature)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {feature} ({columns}) "  # noqa: S608
            f"SELECT e.{name}, %s, %s, %s, MIN(e.{_column(UsageEvent, 'occurred_at')}) FROM {source} e"
            f"{where} GROUP BY e.{name} ORDER BY 1 ON CONFLICT ({_column(Feature, 'name')}) DO UPDATE SET "
            f"{first_seen} = {least}({feature}.{first_seen}, EXCLUDED.{first_seen})",
            ["", False, False, *params],
        )


def _account_filter(account_ids: Sequence[int] | None) -> tuple[list[str], list[Any]]:
    """The raw-event condition restricting to ``account_ids`` (none when ``None``) and its parameters."""
    if account_ids is None:
        return [], []
    placeholders = ", ".join(["%s"] * len(account_ids))
    return [f"e.{_column(UsageEvent, 'account')} IN ({placeholders})"], list(account_ids)


def _utc_day(column: str) -> str:
    """SQL for the UTC calendar date of a timestamp column (SQLite stores timestamps as UTC text)."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)
