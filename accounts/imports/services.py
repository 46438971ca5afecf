"""Writes of spreadsheet imports: preview (plan, write nothing), apply (all or nothing), undo, export, mappings.

A preview reads the file once, row by row, parses each mapped cell (``values``), looks up every reference with
one query per referenced model, finds the rows' objects by their keys with one query, and checks each new or
changed object with the write path's own rules (``accounts.services``' ``_account_errors``,
``_contract_errors``... then ``full_clean``). Apply plans again inside one transaction and writes set-based
(``bulk_create``/``bulk_update``); any error, or a conflict the database finds, leaves everything unchanged.
"""

import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import IO, Any

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from ..events import emit
from ..managers import assignment_errors
from ..models import Account, Activity, Contact, Contract, ImportKind, ImportMapping, ImportRun, User
from ..roles import Role, user_roles
from ..services import accounts_mark_changed
from .kinds import ImportKindSpec, Row, RowError, kind_spec
from .selectors import MappingNotFound, mapping_resolve
from .tables import Table, table_open, table_write

BATCH = 1000
ACCOUNT_CYCLE = _("An account cannot be its own parent or ancestor.")
# What each kind's rows point at: an import of these kinds made after one of the key's depends on it.
DEPENDENTS = {
    ImportKind.ACCOUNTS: (ImportKind.CONTACTS, ImportKind.CONTRACTS, ImportKind.ACTIVITIES),
    ImportKind.CONTACTS: (ImportKind.ACTIVITIES,),
}


class ImportRefused(Exception):
    """Apply or undo refused; ``errors`` says why (nothing was changed)."""

    def __init__(self, errors: list["CellError"]):
        super().__init__("; ".join(str(error) for error in errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class CellError:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        value = f" ({self.value!r})" if self.value != "" else ""
        return f"{where}{value}: {self.reason}"


@dataclass
class Plan:
    """What an import would do: the objects to create and to update (with their previous values), how many rows
        are unchanged, and every row's errors. ``columns`` is the mapping used, ``mapping`` its inverse
    ``{field: source column}`` over the file's columns."""

    kind: str
    mapping: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)
    creates: list[Model] = field(default_factory=list)
    updates: list[tuple[Model, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0
    errors: list[CellError] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"created": len(self.creates), "updated": len(self.updates), "unchanged": self.unchanged}

    @property
    def summary(self) -> str:
        return "created {created}, updated {updated}, unchanged {unchanged}".format(**self.counts)


@dataclass
class Scope:
    """What a CS manager's import may change, by the rules of every other write path: rows of the accounts they
    may edit (``Account.objects.editable_by``), owners and AEs they may assign (``assignment_errors``). Admins and
    the command line have no scope."""

    user: Any
    editable: set[int]
    users: dict[int, Any] = field(default_factory=dict)

    def problem(self, kind: str, instance: Model, previous: dict | None) -> tuple[str, str] | None:
        """(column, reason) when the row is outside the scope, else None."""
        if kind != ImportKind.ACCOUNTS:
            if instance.account_id not in self.editable:
                return "account", _("You may not change the rows of this account: it is not yours or your team's.")
            return None
        if previous is not None and instance.pk not in self.editable:
            return "external_id", _("You may not change this account: it is not yours or your team's.")
        before = previous or {}
        for name in ("owner", "account_executive"):
            field_id = f"{name}_id"
            if previous is not None and field_id not in before and name not in before:
                continue
            was = before.get(field_id, before.get(name))
            account = SimpleNamespace(**{f"{other}_id": None for other in ("owner", "account_executive")})
            if previous is not None:
                setattr(account, field_id, was.pk if isinstance(was, Model) else was)
            errors = assignment_errors(
                user=self.user, account=account, **{name: self._user(getattr(instance, field_id))}
            )
            if errors:
                return name, errors[name]
        return None

    def _user(self, user_id: int | None):
        if user_id is None:
            return None
        if user_id not in self.users:
            self.users[user_id] = User.objects.filter(pk=user_id).first()
        return self.users[user_id]


def import_scope(*, user, kind: str, plan: Plan) -> Scope | None:
    """The scope of ``user``'s import (None: unrestricted); exchange rates are an admin's only (they convert every
    account's ACV): a plan error otherwise."""
    if user is None or user.is_superuser or Role.ADMIN in user_roles(user):
        return None
    if kind == ImportKind.EXCHANGE_RATES:
        plan.errors.append(CellError(1, "", "", _("Only an admin may import exchange rates: they convert every ACV.")))
        return None
    return Scope(user=user, editable=set(Account.objects.editable_by(user).values_list("pk", flat=True)))


def import_preview(
    *,
    kind: str,
    file: IO[bytes],
    file_name: str,
    columns: dict[str, str] | None = None,
    mapping: str | None = None,
    user=None,
) -> Plan:
    """The plan of importing ``file`` with ``columns`` (``{"source column": "field"}``, "" to ignore) or else the
    ``mapping`` named (a JSON file, a preset, a saved mapping; see ``selectors.mapping_resolve``); writes nothing.
    ``TableError`` when the file cannot be read as a table."""
    spec = kind_spec(kind)
    table = table_open(file=file, file_name=file_name)
    plan = Plan(kind=kind, mapping={})
    scope = import_scope(user=user, kind=spec.kind, plan=plan)
    if plan.errors:
        return plan
    if columns is None:
        try:
            columns = mapping_resolve(kind=kind, name_or_path=mapping, header=table.header)
        except MappingNotFound as error:
            plan.errors.append(CellError(1, "", mapping or "", str(error)))
            return plan
    plan.columns = columns
    by_field = _mapping_checked(spec, table.header, columns, plan)
    if plan.errors:
        return plan
    rows = _rows_parsed(spec, table, by_field, plan)
    _rows_planned(spec, rows, plan, scope)
    plan.errors = sorted(dict.fromkeys(plan.errors), key=lambda error: (error.line, error.column))
    return plan


def import_apply(
    *,
    kind: str,
    file: IO[bytes],
    file_name: str,
    user_id: int | None,
    columns: dict[str, str] | None = None,
    mapping: str | None = None,
    run_id: int | None = None,
    user=None,
) -> ImportRun:
    """Import ``file``: all rows in one transaction, recorded as an applied ``ImportRun`` (``run_id``: the pending
    run of a browser upload). ``ImportRefused`` with every row's errors, and nothing changed, when any row is
    wrong."""
    with transaction.atomic():
        plan = import_preview(kind=kind, file=file, file_name=file_name, columns=columns, mapping=mapping, user=user)
        if plan.errors:
            raise ImportRefused(plan.errors)
        try:
            with transaction.atomic():
                created_ids = _creates_write(kind, plan)
                _updates_write(kind, plan)
                accounts_mark_changed(account_ids=_account_ids([*plan.creates, *(i for i, _p in plan.updates)]))
        except IntegrityError as error:
            reason = _("The database refused the import (%(error)s); nothing was changed.") % {
                "error": str(error).splitlines()[0]
            }
            raise ImportRefused([CellError(0, "", "", reason)]) from None
        changes = {
            "created": created_ids,
            "updated": [[instance.pk, previous] for instance, previous in plan.updates],
        }
        run = ImportRun.objects.select_for_update().get(pk=run_id) if run_id else ImportRun(kind=kind)
        run.kind, run.file_name, run.created_by_id = kind, file_name[:255], user_id
        run.status, run.applied_at, run.content = ImportRun.Status.APPLIED, timezone.now(), b""
        run.mapping = plan.columns
        run.created, run.updated, run.unchanged = len(plan.creates), len(plan.updates), plan.unchanged
        run.changes = json.loads(json.dumps(changes, cls=DjangoJSONEncoder))
        run.save()
        _audit_write(run=run, rows=[*((instance, None) for instance in plan.creates), *plan.updates], actor_id=user_id)
        emit(
            "import_finished",
            {
                "import_id": run.pk,
                "kind": run.kind,
                "file_name": run.file_name,
                "created": run.created,
                "updated": run.updated,
                "unchanged": run.unchanged,
                "user": run.created_by.get_username() if run.created_by else None,
            },
        )
        return run


def import_upload(*, kind: str, file: IO[bytes], file_name: str, user_id: int) -> ImportRun:
    """Keep a browser upload as a pending run until it is applied (the file's header is read to check it)."""
    content = file.read()
    table_open(file=io.BytesIO(content), file_name=file_name)
    return ImportRun.objects.create(
        kind=kind_spec(kind).kind, file_name=file_name[:255], content=content, created_by_id=user_id
    )


@transaction.atomic
def import_undo(*, run_id: int) -> ImportRun:
    """Undo an applied import: delete what it created and restore the previous values of what it updated. Only
    the latest applied import of its kind, and only while no newer import and no other row depends on what it
    created; ``ImportRefused`` otherwise."""
    run = ImportRun.objects.select_for_update().get(pk=run_id)
    reasons = _undo_blockers(run)
    if reasons:
        raise ImportRefused([CellError(0, "", "", reason) for reason in reasons])
    model = kind_spec(run.kind).model
    previous_by_fields: dict[tuple[str, ...], list[tuple[int, dict]]] = defaultdict(list)
    for pk, previous in run.changes.get("updated", []):
        previous_by_fields[tuple(sorted(previous))].append((pk, previous))
    for names, items in previous_by_fields.items():
        instances = model.objects.in_bulk([pk for pk, _previous in items])
        restored = []
        for pk, previous in items:
            instance = instances[pk]
            imported = {name: getattr(instance, name) for name in previous}
            for name, value in previous.items():
                setattr(instance, name, model._meta.get_field(name).to_python(value))
            restored.append((instance, imported))
        model.objects.bulk_update([instance for instance, _imported in restored], list(names), batch_size=BATCH)
        accounts_mark_changed(account_ids=_account_ids(instance for instance, _imported in restored))
        _audit_write(run=run, rows=restored, undo=True)
    created = run.changes.get("created", [])
    if model is Account:
        Account.objects.filter(pk__in=created).update(parent=None)
    elif model is Contract:
        Contract.objects.filter(pk__in=created).update(renews=None)
    model.objects.filter(pk__in=created).delete()
    run.status, run.undone_at = ImportRun.Status.UNDONE, timezone.now()
    run.save(update_fields=["status", "undone_at"])
    return run


def import_mapping_save(*, kind: str, name: str, columns: dict[str, str], user_id: int | None) -> ImportMapping:
    """Save (or replace) the named mapping of ``kind``; ValidationError for a field the kind does not have."""
    spec = kind_spec(kind)
    unknown = sorted({target for target in columns.values() if target and target not in spec.fields})
    if unknown:
        raise ValidationError(
            _("Unknown fields for %(kind)s: %(fields)s.") % {"kind": kind, "fields": ", ".join(unknown)}
        )
    mapping, _created = ImportMapping.objects.update_or_create(
        kind=kind, name=name.strip(), defaults={"columns": columns, "created_by_id": user_id}
    )
    return mapping


def book_export(*, kind: str, file: IO, file_name: str) -> int:
    """Write every object of ``kind`` as CSV or XLSX (by extension) in the shape the import reads without a
    mapping; returns how many rows."""
    spec = kind_spec(kind)
    count = 0

    def counted(rows: Iterable[list]) -> Iterable[list]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    table_write(file=file, file_name=file_name, header=spec.export_header, rows=counted(spec.export()))
    return count


# Preview steps ----------------------------------------------------------------------------------------------


def _mapping_checked(spec: ImportKindSpec, header: list[str], columns: dict[str, str], plan: Plan) -> dict[str, int]:
    """``{field: column index}``; file-level errors (line 1) for unknown fields, a field mapped twice or a
    required field left unmapped."""
    by_field: dict[str, int] = {}
    positions = {name: index for index, name in reversed(list(enumerate(header)))}
    for column, target in columns.items():
        if not target or column not in positions:
            continue
        if target not in spec.fields:
            plan.errors.append(
                CellError(
                    1, column, target, _("%(kind)s have no field %(field)s") % {"kind": spec.kind, "field": target}
                )
            )
        elif target in by_field:
            plan.errors.append(
                CellError(
                    1,
                    column,
                    target,
                    _("%(field)s is already mapped from column %(other)s")
                    % {"field": target, "other": header[by_field[target]]},
                )
            )
        else:
            by_field[target] = positions[column]
    for name in spec.required:
        if name not in by_field:
            plan.errors.append(
                CellError(1, "", "", _("No column is mapped to %(field)s, which is required.") % {"field": name})
            )
    plan.mapping = {name: header[index] for name, index in by_field.items()}
    return by_field


def _rows_parsed(spec: ImportKindSpec, table: Table, by_field: dict[str, int], plan: Plan) -> list[Row]:
    """Every row's mapped cells parsed; a row with a cell that does not parse is reported and left out."""
    rows = []
    fields = [(name, index, spec.fields[name].parse) for name, index in by_field.items()]
    for line, cells in table.rows:
        plan.rows += 1
        values, valid = {}, True
        for name, index, parse in fields:
            cell = cells[index] if index < len(cells) else None
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                values[name] = None
                continue
            try:
                values[name] = parse(cell)
            except ValueError as error:
                plan.errors.append(CellError(line, plan.mapping[name], str(cell), str(error)))
                valid = False
        if valid:
            rows.append(Row(line=line, values=values))
    return rows


def _rows_planned(spec: ImportKindSpec, rows: list[Row], plan: Plan, scope: "Scope | None" = None) -> None:
    lookups = spec.lookups(rows)
    keyed: list[tuple[Row, tuple]] = []
    first_line: dict[tuple, int] = {}
    for row in rows:
        try:
            key = spec.key(row)
        except RowError as error:
            _row_error(plan, row, error.field, error.message)
            continue
        if key in first_line:
            _row_error(
                plan,
                row,
                spec.required[0] if spec.required else "",
                _("the same row is on line %(line)d") % {"line": first_line[key]},
            )
            continue
        first_line[key] = row.line
        keyed.append((row, key))
    existing = spec.existing(key for _row, key in keyed)
    provisional = 0
    planned: list[tuple[Row, Model, dict[str, Any] | None]] = []  # (row, instance, previous values or None: new)
    by_external_id: dict[str, Model] = {}
    for row, key in keyed:
        try:
            data = spec.data(row, lookups)
        except RowError as error:
            _row_error(plan, row, error.field, error.message)
            continue
        instance = existing.get(key)
        if instance is None:
            missing = [name for name in spec.needed_for_create if data.get(name) in (None, "")]
            if missing:
                for name in missing:
                    _row_error(plan, row, name, _("required for a new row"))
                continue
            provisional -= 1
            instance = spec.model(**data)
            instance.pk = provisional  # until apply gives it an id: rows of the file may refer to it
            planned.append((row, instance, None))
        else:
            previous = {
                name: getattr(instance, name) for name, value in data.items() if getattr(instance, name) != value
            }
            if spec.kind == ImportKind.CONTRACTS and "account_id" in previous:
                _row_error(
                    plan, row, "account", _("A contract cannot move to another account.")
                )  # contract_update's rule
                continue
            for name, value in data.items():
                setattr(instance, name, value)
            planned.append((row, instance, previous))
        if "external_id" in row.values and row.values["external_id"]:
            by_external_id[row.values["external_id"]] = instance
    if spec.kind == ImportKind.ACCOUNTS:
        _parents_resolved(planned, plan, lookups.accounts, by_external_id)
    elif spec.kind == ImportKind.CONTRACTS:
        _renewals_resolved(planned, plan, lookups.contracts, by_external_id)
    for row, instance, previous in planned:
        if previous == {}:
            plan.unchanged += 1
            continue
        if scope is not None and (problem := scope.problem(spec.kind, instance, previous)):
            _row_error(plan, row, *problem)
            continue
        errors = _instance_errors(spec, instance)
        for name, messages in errors.items():
            for message in messages:
                _row_error(plan, row, name, message, value=_shown(instance, name))
        if errors:
            continue
        if previous is None:
            plan.creates.append(instance)
        else:
            plan.updates.append((instance, previous))


def _parents_resolved(planned, plan: Plan, stored: dict[str, int], by_external_id: dict[str, Model]) -> None:
    """Each row's ``parent`` (an external id in the file or stored) as ``parent_id``, then no account may become its
    own ancestor in the stored tree as the file changes it."""
    if "parent" not in plan.mapping:
        return
    resolved = []
    for row, instance, previous in planned:
        ref = row.values.get("parent")
        target = by_external_id[ref].pk if ref in by_external_id else stored.get(ref)
        if ref and target is None:
            _row_error(plan, row, "parent", _("no account with this external id, in the file or stored"))
            continue
        if previous is not None and instance.parent_id != target:
            previous["parent_id"] = instance.parent_id
        instance.parent_id = target
        resolved.append((row, instance, previous))
    planned[:] = resolved
    parents = dict(Account.objects.filter(parent__isnull=False).values_list("pk", "parent_id"))
    parents.update({instance.pk: instance.parent_id for _row, instance, _previous in planned})
    for row, instance, previous in planned:
        if previous == {} or instance.parent_id is None:
            continue
        seen, ancestor = set(), instance.parent_id
        while ancestor is not None and ancestor not in seen:
            if ancestor == instance.pk:
                _row_error(plan, row, "parent", ACCOUNT_CYCLE)
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
    failed = {error.line for error in plan.errors}
    planned[:] = [item for item in planned if item[0].line not in failed]


def _renewals_resolved(planned, plan: Plan, stored: dict[str, Contract], by_external_id: dict[str, Model]) -> None:
    """Each row's ``renews`` (an external id in the file or stored) as the contract it renews, for the rules."""
    if "renews" not in plan.mapping:
        return
    resolved = []
    for row, instance, previous in planned:
        ref = row.values.get("renews")
        target = by_external_id.get(ref) or stored.get(ref)
        if ref and target is None:
            _row_error(plan, row, "renews", _("no contract with this external id, in the file or stored"))
            continue
        if previous is not None and instance.renews_id != (target.pk if target else None):
            previous["renews_id"] = instance.renews_id
        instance.renews = target
        resolved.append((row, instance, previous))
    planned[:] = resolved


def _instance_errors(spec: ImportKindSpec, instance: Model) -> dict[str, list[str]]:
    """The write path's rules (as ``accounts.services._validated_save`` applies them) on a new or changed object.
    Foreign keys were resolved from the file's lookups; a new object's provisional id is hidden from the rules."""
    new = instance.pk is not None and instance.pk < 0
    if new and spec.kind != ImportKind.CONTRACTS:
        provisional, instance.pk = instance.pk, None
    try:
        found = spec.rule_errors(instance)
        try:
            instance.full_clean(
                exclude={*found, *spec.relation_fields, "id"},
                validate_unique=False,
                validate_constraints=spec.constraints_per_row,
            )
        except ValidationError as error:
            found = error.update_error_dict(found)
    finally:
        if new and spec.kind != ImportKind.CONTRACTS:
            instance.pk = provisional
    return found


def _creates_write(kind: str, plan: Plan) -> list[int]:
    """Insert the new objects (self-references to other new rows set once those have ids); their ids."""
    reference = {ImportKind.ACCOUNTS: "parent_id", ImportKind.CONTRACTS: "renews_id"}.get(kind)
    provisional_refs = {}
    for index, instance in enumerate(plan.creates):
        if reference and (getattr(instance, reference) or 0) < 0:
            provisional_refs[index] = getattr(instance, reference)
            setattr(instance, reference, None)
    provisional_ids = [instance.pk for instance in plan.creates]
    for instance in plan.creates:
        instance.pk = None
    model = kind_spec(kind).model
    model.objects.bulk_create(plan.creates, batch_size=BATCH)
    real = dict(zip(provisional_ids, (instance.pk for instance in plan.creates), strict=True))
    patched = []
    for index, target in provisional_refs.items():
        setattr(plan.creates[index], reference, real[target])
        patched.append(plan.creates[index])
    for instance, _previous in plan.updates:
        if reference and (getattr(instance, reference) or 0) < 0:
            setattr(instance, reference, real[getattr(instance, reference)])
    if patched:
        model.objects.bulk_update(patched, [reference.removesuffix("_id")], batch_size=BATCH)
    return [instance.pk for instance in plan.creates]


def _updates_write(kind: str, plan: Plan) -> None:
    if not plan.updates:
        return
    model = kind_spec(kind).model
    by_fields: dict[tuple[str, ...], list[Model]] = defaultdict(list)
    for instance, previous in plan.updates:
        by_fields[tuple(sorted(previous))].append(instance)
    now = timezone.now()
    for names, instances in by_fields.items():
        fields = [model._meta.get_field(name).name for name in names]
        if model is Account:
            for instance in instances:
                instance.updated_at = now
            fields.append("updated_at")
        model.objects.bulk_update(instances, fields, batch_size=BATCH)


def _audit_write(
    *, run: ImportRun, rows: list[tuple[Model, dict | None]], actor_id: int | None = None, undo: bool = False
) -> None:
    """The audit trail of what an import (or its ``undo``) wrote: bulk writes send no signals, so django-auditlog
    records none itself. One entry per row of ``rows`` (the object written, with the values it had before, or None
    for a row the import created): its changed fields as stored, old and new, as auditlog words them, the run and its
    file in ``additional_data`` (with the contract's account: its timeline finds it), and the actor ``actor_id``,
    else the request's (auditlog's middleware). Written ``BATCH`` rows at a time. Nothing for a kind auditlog does
    not track."""
    model = kind_spec(run.kind).model
    if not auditlog.contains(model):
        return
    content_type = ContentType.objects.get_for_model(model)
    source = {"import_id": run.pk, "import_file": run.file_name, **({"import_undo": True} if undo else {})}
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    # The row's own columns only: auditlog would otherwise read every reverse relation of each object, a query each.
    columns = [field.attname for field in model._meta.concrete_fields]
    for offset in range(0, len(rows), BATCH):
        chunk = rows[offset : offset + BATCH]
        stored = model.objects.in_bulk([instance.pk for instance, _previous in chunk])  # as the database keeps them
        entries = []
        for written, previous in chunk:
            instance = stored[written.pk]
            old = None
            if previous is not None:
                old = model(**{name: getattr(instance, name) for name in columns})
                for name, value in previous.items():
                    setattr(old, name, value)
            changes = model_instance_diff(
                old,
                instance,
                fields_to_check=columns if previous is None else list(previous),
                use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
            )
            if not changes:
                continue
            extra = instance.get_additional_data() if hasattr(instance, "get_additional_data") else {}
            entry = LogEntry(
                content_type=content_type,
                object_pk=str(instance.pk),
                object_id=instance.pk,
                object_repr=str(instance),
                action=LogEntry.Action.CREATE if previous is None else LogEntry.Action.UPDATE,
                changes=changes,
                actor=actor,
                actor_email=actor.email if actor else None,
                additional_data={**extra, **source},
                cid=get_cid(),
            )
            # auditlog's request context (its middleware) fills in the actor when none is given, and the address.
            pre_save.send(sender=LogEntry, instance=entry, raw=False, using=LogEntry.objects.db, update_fields=None)
            entries.append(entry)
        LogEntry.objects.bulk_create(entries)


def _undo_blockers(run: ImportRun) -> list[str]:
    if run.status != ImportRun.Status.APPLIED:
        return [_("Only an applied import can be undone.")]
    newer = ImportRun.objects.filter(status=ImportRun.Status.APPLIED, applied_at__gt=run.applied_at)
    reasons = []
    if newer.filter(kind=run.kind).exists():
        reasons.append(_("A newer import of %(kind)s was applied: undo it first.") % {"kind": run.get_kind_display()})
    for kind in newer.filter(kind__in=DEPENDENTS.get(run.kind, ())).values_list("kind", flat=True).distinct():
        reasons.append(
            _("A newer import of %(kind)s depends on it: undo that first.") % {"kind": ImportKind(kind).label}
        )
    created = run.changes.get("created", [])
    if created and not reasons:
        checks = {
            ImportKind.ACCOUNTS: [
                (Contact.objects.filter(account_id__in=created), _("contacts")),
                (Contract.objects.filter(account_id__in=created), _("contracts")),
                (Activity.objects.filter(account_id__in=created), _("activities")),
                (Account.objects.filter(parent_id__in=created).exclude(pk__in=created), _("child accounts")),
            ],
            ImportKind.CONTACTS: [(Activity.objects.filter(contact_id__in=created), _("activities"))],
            ImportKind.CONTRACTS: [
                (Contract.objects.filter(renews_id__in=created).exclude(pk__in=created), _("renewal contracts"))
            ],
        }.get(run.kind, [])
        for queryset, what in checks:
            count = queryset.count()
            if count:
                reasons.append(
                    _("%(count)d %(what)s added since refer to rows this import created.")
                    % {"count": count, "what": what}
                )
    return reasons


def _account_ids(instances: Iterable[Model]) -> set[int]:
    """The accounts whose figures these objects feed (for the intra-day refresh)."""
    return {
        instance.pk if isinstance(instance, Account) else instance.account_id
        for instance in instances
        if isinstance(instance, Account) or hasattr(instance, "account_id")
    }


def _row_error(plan: Plan, row: Row, name: str, message: str, value: str | None = None) -> None:
    column = plan.mapping.get(name, "" if name == NON_FIELD_ERRORS else name)
    if value is None:
        value = row.values.get(name)
        value = "" if value is None else str(value)
    plan.errors.append(CellError(row.line, column, value, str(message)))


def _shown(instance: Model, name: str) -> str:
    value = getattr(instance, name, None) if name != NON_FIELD_ERRORS else None
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
