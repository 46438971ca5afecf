"""Writes of the Segment-compatible tracking API: a batch of calls stored set-based in one transaction; write keys.

Mapping (docs/integration-guide.md):

- ``group``: creates or updates the account whose ``external_id`` is ``groupId`` (traits ``name``, ``domain`` or
  ``website``, ``industry``; other traits are ignored); with a ``userId`` the contact of that user moves to the
  account (created if new): the account the user was last grouped with.
- ``identify``: updates the contact of ``userId`` (traits ``email``, ``name`` or ``firstName`` + ``lastName``,
  ``title``) and links it to the account named by ``context.groupId``, ``traits.groupId`` or ``traits.company.id``
  when that account is known. A user with no contact and no known account is quarantined and applied when grouped.
- ``track`` (event ``event``), ``page`` (event "Page Viewed") and ``screen`` (its mobile twin, event "Screen
  Viewed"; both with the call's ``name`` and ``category`` added to their properties) become usage events of the
  account named by ``context.groupId``, else ``properties.groupId``, else the account the user (``userId``, else
  ``anonymousId``) was last grouped with. Calls whose account is unknown are quarantined (``QuarantinedEvent``,
  shown in the admin) and attached when the account or user appears.
- Time (Segment's rules): ``timestamp`` when given; else ``receivedAt - (sentAt - originalTimestamp)``, which
  corrects the sender's clock skew; else ``originalTimestamp``; else ``receivedAt``. A time more than 24 hours
  after ``receivedAt`` is clamped to it and flagged ``timestamp_clamped``.
- A call is stored once per ``(source, messageId)``: the ledger ``UsageMessage`` (and the unique constraint of
  ``QuarantinedEvent``) keeps it as long as the raw events are kept (``USAGE_RAW_RETENTION_MONTHS`` after receipt),
  so a re-send (the clients resend on retry) is a duplicate whenever it comes.

Each call is checked and extracted by ``calls``. The hot path is a handful of queries per batch whatever its size,
in one transaction: accounts and contacts for the whole batch are read with one query each; on PostgreSQL events go
in with one statement that claims the messageIds in the ledger (``INSERT ... ON CONFLICT DO NOTHING RETURNING``),
stores the claimed events and queues them for the rollups (no model instance per event); elsewhere ``bulk_create`` then
``usage_events_queue``. A fold moments later brings the rollups up to date; the caller schedules it.
"""

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import (
    Account,
    Contact,
    QuarantinedEvent,
    Source,
    UsageEvent,
    UsageInbox,
    UsageMessage,
    WriteKey,
)
from accounts.usage.services import usage_events_queue

from .auth import write_key_cache_clear, write_key_hash
from .calls import (
    GROUP,
    IDENTIFY,
    MESSAGE_ID_MAX,
    USAGE_KINDS,
    BatchRejected,
    Call,
    InvalidCall,
    account_traits,
    call_parse,
    contact_traits,
    parse_time,
)

# Bounded work per request: a batch has at most MAX_BATCH_CALLS calls (refused whole beyond, before any is read;
# Segment's clients send batches of at most 500 KB, a few hundred calls), and an answer lists at most LISTED_MAX
# errors and warnings in full, with each text at most TEXT_MAX characters; the other errors are counted by reason.
MAX_BATCH_CALLS = 2_500
LISTED_MAX = 50
TEXT_MAX = 300

REASON_UNKNOWN_GROUP = "groupId names no known account yet"
REASON_UNGROUPED_USER = "user not grouped with an account yet"
WARNING_PENDING = "quarantined: the contact is created when the user is grouped with a known account"

SOURCE_NAME_MAX = Source._meta.get_field("name").max_length
CONTACT_FIELDS = ("account_id", "name", "email", "title")


# The batch travels as one JSON document, unpacked into rows by PostgreSQL: one parameter to adapt, one statement
# whose plan does not depend on the batch size. A call's (source, messageId) is claimed in the ledger first (it
# takes the event's id from the events' sequence); only the claimed ones are stored, and the same statement queues
# exactly those for the rollups (what ``usage_events_queue`` does elsewhere), so no row goes back through Python.
_INSERT_EVENTS = (
    "WITH e AS (SELECT * FROM json_to_recordset(%s::json) AS e(source_id bigint, account_id bigint, user_id text,"
    " event text, occurred_at timestamptz, received_at timestamptz, properties jsonb, message_id text,"
    " timestamp_clamped boolean)),"
    " claimed AS (INSERT INTO {messages} (source_id, message_id, event_id, occurred_at, received_at)"
    " SELECT source_id, message_id, nextval(pg_get_serial_sequence('{events}', 'id')), occurred_at, received_at"
    " FROM e ORDER BY source_id, message_id ON CONFLICT (source_id, message_id) DO NOTHING"
    " RETURNING source_id, message_id, event_id),"
    " stored AS (INSERT INTO {events} (id, source_id, account_id, user_id, event, occurred_at, received_at,"
    " properties, message_id, timestamp_clamped) SELECT c.event_id, e.source_id, e.account_id, e.user_id, e.event,"
    " e.occurred_at, e.received_at, e.properties, e.message_id, e.timestamp_clamped FROM claimed c"
    " JOIN e USING (source_id, message_id) RETURNING account_id, user_id, event, occurred_at),"
    " queued AS (INSERT INTO {inbox} (account_id, user_id, event, occurred_at)"
    " SELECT account_id, user_id, event, occurred_at FROM stored)"
    " SELECT source_id, message_id FROM claimed"
)
TRACK_HANDLERS: dict[str, Callable[..., str | None]] = {}


@dataclass
class IngestResult:
    """``accepted``: valid calls (duplicates and quarantined ones included); ``duplicates``: track/page/identify
    calls whose ``messageId`` was already stored; ``quarantined``: calls newly put in quarantine; ``released``:
    quarantined calls this batch's group/identify calls attached; ``errors``: the first ``LISTED_MAX`` invalid calls
    (index, messageId, error) and ``error_counts`` all of them by error; ``warnings``: the first ``LISTED_MAX``
    warnings (index, messageId, warning) and ``warnings_omitted`` how many more there were."""

    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    released: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warnings_omitted: int = 0

    def error_add(self, *, index: int, message_id: object, error: str) -> None:
        self.error_counts[error] = self.error_counts.get(error, 0) + 1
        if len(self.errors) < LISTED_MAX:
            self.errors.append({"index": index, "messageId": _listed_id(message_id), "error": _shortened(error)})

    def warning_add(self, *, index: int | None, message_id: str, warning: str) -> None:
        if len(self.warnings) < LISTED_MAX:
            self.warnings.append({"index": index, "messageId": message_id, "warning": _shortened(warning)})
        else:
            self.warnings_omitted += 1


def _listed_id(message_id: object) -> str | None:
    """The messageId of an invalid call as listed: a string of at most ``MESSAGE_ID_MAX`` characters, else None."""
    return message_id if isinstance(message_id, str) and len(message_id) <= MESSAGE_ID_MAX else None


def _shortened(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


class _EventRow(NamedTuple):
    source_id: int
    account_id: int
    user_id: str
    event: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    properties: dict
    message_id: str
    timestamp_clamped: bool


# The batch ---------------------------------------------------------------------------------------------------


def ingest_batch(*, source_id: int, messages: list, received_at: dt.datetime, sent_at: object = None) -> IngestResult:
    """Store a batch of Segment calls from ``source_id`` received at ``received_at`` (``sent_at``: the batch's
    ``sentAt``, for calls without their own). Invalid calls are listed in ``errors``, the valid ones stored, all in
    one transaction. Raises ``BatchRejected`` (nothing stored) for more than ``MAX_BATCH_CALLS`` calls (before any
    is read), a call over 32 KB or an invalid ``sentAt``."""
    if len(messages) > MAX_BATCH_CALLS:
        raise BatchRejected(
            "too_many_calls",
            f"a batch may have at most {MAX_BATCH_CALLS:,} calls; this one has {len(messages):,}",
        )
    received_at = received_at.astimezone(dt.UTC)
    try:
        batch_sent_at = parse_time(sent_at, "sentAt")
    except InvalidCall as error:
        raise BatchRejected("invalid_sent_at", str(error)) from None
    result = IngestResult()
    calls = []
    for index, message in enumerate(messages):
        try:
            calls.append(call_parse(message, index=index, received_at=received_at, sent_at=batch_sent_at))
        except InvalidCall as error:
            message_id = message.get("messageId") if isinstance(message, dict) else None
            result.error_add(index=index, message_id=message_id, error=str(error))
    result.accepted = len(calls)
    if calls:
        with transaction.atomic():
            _calls_store(calls, source_id=source_id, received_at=received_at, result=result)
    return result


def _calls_store(calls: list[Call], *, source_id: int, received_at: dt.datetime, result: IngestResult) -> None:
    events = [c for c in calls if c.kind in USAGE_KINDS]
    people = [c for c in calls if c.kind in (IDENTIFY, GROUP)]
    accounts = _accounts_by_external_id({c.group_id for c in calls if c.group_id})
    contacts = _contacts_by_user_id(
        {c.user_id for c in people if c.named} | {c.user_id for c in events if not c.group_id}
    )
    held: list[tuple[Call, str]] = []
    released_account_ids: set[int] = set()
    released_user_ids: set[str] = set()
    if people:
        released_account_ids, released_user_ids, pending = _people_store(
            people, accounts=accounts, contacts=contacts, result=result
        )
        held += [(c, REASON_UNKNOWN_GROUP if c.group_id else REASON_UNGROUPED_USER) for c in pending]
    rows = []
    for c in events:
        if c.group_id:
            account = accounts.get(c.group_id)
            account_id = account and account["id"]
        else:
            contact = contacts.get(c.user_id)
            account_id = contact and contact["account_id"]
        if account_id is None:
            held.append((c, REASON_UNKNOWN_GROUP if c.group_id else REASON_UNGROUPED_USER))
        else:
            rows.append(
                _EventRow(
                    source_id,
                    account_id,
                    c.user_id,
                    c.event,
                    c.occurred_at,
                    received_at,
                    c.data,
                    c.message_id,
                    c.clamped,
                )
            )
    unique = {}
    for row in rows:
        unique.setdefault(row.message_id, row)
    stored = _usage_events_record(list(unique.values()))
    result.duplicates += len(rows) - len(stored)
    _track_handlers_run(stored, indexes={c.message_id: c.index for c in events}, result=result)
    result.quarantined = _quarantine_add(held, source_id=source_id, received_at=received_at, result=result)
    result.released = quarantine_release(account_ids=released_account_ids, user_ids=released_user_ids)


def track_handler_register(*, event: str, handler: Callable[..., str | None]) -> None:
    """Have ``handler(account_id=, user_id=, properties=, occurred_at=, message_id=)`` called for every newly
    stored track call named ``event`` (journeys records "Survey Responded" answers so). It returns None, or a
    message that goes into the call's warnings; its writes are undone then, the event itself stays stored."""
    TRACK_HANDLERS[event] = handler


def _track_handlers_run(stored: list[_EventRow], *, indexes: dict[str, int], result: IngestResult) -> None:
    for row in stored:
        handler = TRACK_HANDLERS.get(row.event)
        if handler is None:
            continue
        savepoint = transaction.savepoint()
        problem = handler(
            account_id=row.account_id,
            user_id=row.user_id,
            properties=row.properties,
            occurred_at=row.occurred_at,
            message_id=row.message_id,
        )
        if problem:
            transaction.savepoint_rollback(savepoint)
            result.warning_add(index=indexes.get(row.message_id), message_id=row.message_id, warning=problem)
        else:
            transaction.savepoint_commit(savepoint)


def _people_store(
    people: list[Call], *, accounts: dict[str, dict], contacts: dict[str, dict], result: IngestResult
) -> tuple[set[int], set[str], list[Call]]:
    """Upsert the accounts of group calls and the contacts of group/identify calls (in batch order, the last word
    wins). Returns the accounts and users whose quarantined calls may now resolve, and the identify calls of
    users who still have no account."""
    traits_by_group: dict[str, dict] = {}
    for c in people:
        if c.kind == GROUP:
            traits_by_group.setdefault(c.group_id, {}).update(account_traits(c.data))
    grouped_account_ids = _accounts_upsert(traits_by_group, accounts=accounts)

    changes: dict[str, dict] = {}
    for c in people:
        if not c.named:
            continue
        change = changes.setdefault(c.user_id, {})
        if c.kind == GROUP:
            change["account_id"] = accounts[c.group_id]["id"]
            continue
        fields, problems = contact_traits(c.data)
        change.update(fields)
        if c.group_id in accounts:
            change["account_id"] = accounts[c.group_id]["id"]
        elif c.group_id and c.user_id in contacts:
            problems.append(f"groupId {c.group_id!r} names no known account yet: the contact was not linked")
        for problem in problems:
            result.warning_add(index=c.index, message_id=c.message_id, warning=problem)
    pending_users = _contacts_write(changes, contacts=contacts)
    pending = [c for c in people if c.kind == IDENTIFY and c.user_id in pending_users]
    for c in pending:
        result.warning_add(index=c.index, message_id=c.message_id, warning=WARNING_PENDING)
    return grouped_account_ids, set(changes) - pending_users, pending


def _accounts_by_external_id(external_ids: set[str]) -> dict[str, dict]:
    if not external_ids:
        return {}
    rows = Account.objects.filter(external_id__in=external_ids).values(
        "id", "external_id", "name", "domain", "industry"
    )
    return {row["external_id"]: row for row in rows}


def _contacts_by_user_id(user_ids: set[str]) -> dict[str, dict]:
    user_ids.discard("")
    if not user_ids:
        return {}
    rows = Contact.objects.filter(user_id__in=user_ids).values("id", "user_id", *CONTACT_FIELDS)
    return {row["user_id"]: row for row in rows}


def _accounts_upsert(traits_by_group: dict[str, dict], *, accounts: dict[str, dict]) -> set[int]:
    """Create the accounts of ``traits_by_group`` (external_id → traits) that are new, update the ones whose traits
    changed (one upsert), keep ``accounts`` in step; returns the ids of all of them."""
    written = []
    for external_id in sorted(traits_by_group):
        traits = traits_by_group[external_id]
        current = accounts.get(external_id)
        if current is None:
            written.append(
                Account(external_id=external_id, **{"name": external_id, "domain": "", "industry": ""} | traits)
            )
        elif any(current[name] != value for name, value in traits.items()):
            merged = {name: current[name] for name in ("name", "domain", "industry")} | traits
            written.append(Account(external_id=external_id, **merged))
    if written:
        Account.objects.bulk_create(
            written,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["name", "domain", "industry", "updated_at"],
        )
        for account in written:
            accounts[account.external_id] = {
                "id": account.pk,
                "external_id": account.external_id,
                "name": account.name,
                "domain": account.domain,
                "industry": account.industry,
            }
    return {accounts[external_id]["id"] for external_id in traits_by_group}


def _contacts_write(changes: dict[str, dict], *, contacts: dict[str, dict]) -> set[str]:
    """Create or update the contact of each user in ``changes`` (user_id → fields among ``CONTACT_FIELDS``), keep
    ``contacts`` in step; returns the users left out because they have no contact and no account yet."""
    created, updated, updated_fields, pending = [], [], set(), set()
    for user_id in sorted(changes):
        change = changes[user_id]
        current = contacts.get(user_id)
        if current is None:
            if "account_id" not in change:
                pending.add(user_id)
                continue
            contact = Contact(user_id=user_id, is_end_user=True, **change)
            created.append(contact)
            contacts[user_id] = {"id": None, "user_id": user_id} | {
                name: getattr(contact, name) for name in CONTACT_FIELDS
            }
            continue
        changed = {name: value for name, value in change.items() if current[name] != value}
        if changed:
            current.update(changed)
            updated_fields.update(changed)
            updated.append(Contact(id=current["id"], **{name: current[name] for name in CONTACT_FIELDS}))
    if updated:
        Contact.objects.bulk_update(updated, fields=sorted(updated_fields))
    if created:
        Contact.objects.bulk_create(created, ignore_conflicts=True)
    return pending


def _usage_events_record(rows: list[_EventRow]) -> list[_EventRow]:
    """Insert the rows whose (source, messageId) is new and queue exactly those for the rollups; returns them. Rows
    go in messageId order, so concurrent batches take their locks alike."""
    if not rows:
        return []
    rows = sorted(rows, key=lambda row: (row.source_id, row.message_id))
    return _usage_events_insert_postgresql(rows) if connection.vendor == "postgresql" else _usage_events_insert(rows)


def _usage_events_insert_postgresql(rows: list[_EventRow]) -> list[_EventRow]:
    """One ``INSERT ... SELECT FROM json_to_recordset(...) ON CONFLICT DO NOTHING RETURNING`` that also queues the
    inserted rows; returns them. No model instance."""
    records = [row._asdict() for row in rows]
    try:
        document = orjson.dumps(records).decode()
    except TypeError:  # integers past 64 bits or nesting past orjson's depth: valid JSON the standard library takes
        document = json.dumps(records, default=dt.datetime.isoformat)
    statement = _INSERT_EVENTS.format(
        events=connection.ops.quote_name(UsageEvent._meta.db_table),
        messages=connection.ops.quote_name(UsageMessage._meta.db_table),
        inbox=connection.ops.quote_name(UsageInbox._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [document])
        inserted = set(cursor.fetchall())
    return [row for row in rows if (row.source_id, row.message_id) in inserted]


def _usage_events_insert(rows: list[_EventRow]) -> list[_EventRow]:
    """Other databases: claim the (source, messageId) pairs in the ledger (conflicts ignored), store the events of
    those newly claimed with the ids the ledger names, and queue them for the rollups."""
    by_source: dict[int, list[str]] = {}
    for row in rows:
        by_source.setdefault(row.source_id, []).append(row.message_id)
    existing = {
        (source_id, message_id)
        for source_id, message_ids in by_source.items()
        for message_id in UsageMessage.objects.filter(source_id=source_id, message_id__in=message_ids).values_list(
            "message_id", flat=True
        )
    }
    new = [row for row in rows if (row.source_id, row.message_id) not in existing]
    events = UsageEvent.objects.bulk_create([UsageEvent(**row._asdict()) for row in new])
    UsageMessage.objects.bulk_create(
        [
            UsageMessage(
                source_id=e.source_id,
                message_id=e.message_id,
                event_id=e.pk,
                occurred_at=e.occurred_at,
                received_at=e.received_at,
            )
            for e in events
        ]
    )
    usage_events_queue(events=[(row.account_id, row.user_id, row.event, row.occurred_at) for row in new])
    return new


def _quarantine_add(
    held: list[tuple[Call, str]], *, source_id: int, received_at: dt.datetime, result: IngestResult
) -> int:
    """Quarantine the calls whose account is unknown, once per messageId; returns how many were new."""
    if not held:
        return 0
    unique = {}
    for c, reason in held:
        unique.setdefault(c.message_id, (c, reason))
    existing = set(
        QuarantinedEvent.objects.filter(source_id=source_id, message_id__in=unique).values_list("message_id", flat=True)
    )
    new = [
        QuarantinedEvent(
            source_id=source_id,
            message_id=c.message_id,
            kind=c.kind,
            user_id=c.user_id,
            group_id=c.group_id,
            event=c.event,
            occurred_at=c.occurred_at,
            received_at=received_at,
            properties=c.data,
            timestamp_clamped=c.clamped,
            reason=reason,
        )
        for message_id, (c, reason) in sorted(unique.items())
        if message_id not in existing
    ]
    QuarantinedEvent.objects.bulk_create(new, ignore_conflicts=True)
    result.duplicates += len(held) - len(new)
    return len(new)


def quarantine_release(*, account_ids: Iterable[int] = (), user_ids: Iterable[str] = ()) -> int:
    """Attach the quarantined calls that now resolve: those naming the groupId of one of ``account_ids``, and those
    without a groupId from one of ``user_ids`` (users who are now contacts). Track/page calls become usage events
    (rollups included), identify calls update or create the contact. Returns how many left the quarantine."""
    account_ids, user_ids = sorted(set(account_ids)), sorted(set(user_ids))
    if not account_ids and not user_ids:
        return 0
    resolvable = Q(group_id__in=Account.objects.filter(id__in=account_ids).values("external_id")) | Q(
        group_id="", user_id__in=user_ids
    )
    with transaction.atomic(savepoint=False):
        held = list(
            QuarantinedEvent.objects.select_for_update(skip_locked=True)
            .filter(resolvable)
            .order_by("occurred_at", "id")
            .values()
        )
        if not held:
            return 0
        accounts = dict(
            Account.objects.filter(external_id__in={h["group_id"] for h in held if h["group_id"]}).values_list(
                "external_id", "id"
            )
        )
        contacts = _contacts_by_user_id({h["user_id"] for h in held})
        changes: dict[str, dict] = {}
        identified: dict[str, list[int]] = {}
        rows, released = [], []
        for h in held:
            if h["kind"] == IDENTIFY:
                change = changes.setdefault(h["user_id"], {})
                change.update(contact_traits(h["properties"])[0])
                if h["user_id"] not in contacts and h["group_id"] in accounts:
                    change["account_id"] = accounts[h["group_id"]]
                identified.setdefault(h["user_id"], []).append(h["id"])
                continue
            if h["group_id"]:
                account_id = accounts.get(h["group_id"])
            else:
                account_id = contacts[h["user_id"]]["account_id"] if h["user_id"] in contacts else None
            if account_id is not None:
                rows.append(
                    _EventRow(
                        h["source_id"],
                        account_id,
                        h["user_id"],
                        h["event"],
                        h["occurred_at"],
                        h["received_at"],
                        h["properties"],
                        h["message_id"],
                        h["timestamp_clamped"],
                    )
                )
                released.append(h["id"])
        pending = _contacts_write(changes, contacts=contacts)
        released += [id_ for user_id, ids in identified.items() if user_id not in pending for id_ in ids]
        # Handlers' warnings have no caller to go to here: the released calls were answered when they arrived.
        _track_handlers_run(_usage_events_record(rows), indexes={}, result=IngestResult())
        QuarantinedEvent.objects.filter(id__in=released).delete()
    return len(released)


# Write keys --------------------------------------------------------------------------------------------------


def write_key_create(*, source_name: str, created_by=None) -> tuple[WriteKey, str]:
    """Issue a write key for the source ``source_name`` (created if new); returns the key and its plaintext, which
    is stored nowhere (only its SHA-256) and must be shown to the admin once."""
    if not source_name.strip() or len(source_name) > SOURCE_NAME_MAX:
        raise ValidationError(f"A source name has 1 to {SOURCE_NAME_MAX} characters.")
    source, _ = Source.objects.get_or_create(name=source_name)
    plaintext = secrets.token_urlsafe(32)
    while plaintext.startswith("-"):  # a key or prefix given on a command line would read as an option
        plaintext = secrets.token_urlsafe(32)
    write_key = WriteKey.objects.create(
        source=source, prefix=plaintext[:8], key_hash=write_key_hash(plaintext), created_by=created_by
    )
    return write_key, plaintext


def write_key_revoke(*, write_key_id: int, revoked_at: dt.datetime | None = None) -> bool:
    """Revoke a write key (at ``revoked_at``, default now); its cached lookup is dropped once the revocation is
    committed, so it takes effect at once. Returns False when it was already revoked."""
    write_key = WriteKey.objects.get(pk=write_key_id)
    changed = WriteKey.objects.filter(pk=write_key_id, revoked_at__isnull=True).update(
        revoked_at=revoked_at or timezone.now()
    )
    transaction.on_commit(lambda: write_key_cache_clear(key_hash=write_key.key_hash))
    return bool(changed)
