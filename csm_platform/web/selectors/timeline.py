"""An account's timeline: its activities (touches, notes, stage changes, tasks done) and its audit trail (owner,
AE and status changes, contract changes: ``accounts.selectors.account_changes``), newest first, as one list of
items, filtered by kind, searched, and paged. A page is a fixed number of queries: each source's first
``offset + size`` items are read and merged; a source is counted only when it has more than that."""

import datetime as dt
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Activity, Contract, User
from accounts.selectors import account_changes

TIMELINE_PAGE = 20
CHANGE = "change"  # the kind of an audit-trail item
KINDS = [*Activity.Kind.choices, (CHANGE, gettext_lazy("Record change"))]
USER_FIELDS = ("owner", "account_executive")


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # an Activity.Kind value, or CHANGE
    label: str
    at: dt.datetime
    subject: str
    body: str
    who: User | None
    contact: str
    activity: Activity | None  # the activity itself (its author may change or delete it); None for a change


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    total: int
    page: int
    pages: int
    kind: str
    q: str

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def account_timeline(*, account_id: int, kind: str = "", q: str = "", page: int = 1) -> Timeline:
    """One page of the account's timeline (``kind``: an activity kind or ``CHANGE``; ``q``: words in the subject,
    notes or change)."""
    activities = Activity.objects.filter(account_id=account_id)
    changes = account_changes(account_id=account_id)
    if kind == CHANGE:
        activities = activities.none()
    elif kind:
        activities, changes = activities.filter(kind=kind), changes.none()
    if q:
        activities = activities.filter(Q(subject__icontains=q) | Q(body__icontains=q))
        changes = changes.filter(Q(changes_text__icontains=q) | Q(object_repr__icontains=q) | Q(changes__icontains=q))
    page = max(page, 1)
    end = page * TIMELINE_PAGE
    latest = list(activities.select_related("author", "contact").order_by("-occurred_at", "-id")[:end])
    entries = list(changes[:end])
    total = _count(activities, latest, end) + _count(changes, entries, end)
    pages = max(1, -(-total // TIMELINE_PAGE))
    merged = sorted(
        [*(_activity_item(activity) for activity in latest), *_change_items(entries)],
        key=lambda item: item.at,
        reverse=True,
    )
    return Timeline(items=merged[end - TIMELINE_PAGE : end], total=total, page=page, pages=pages, kind=kind, q=q)


def _count(queryset, read: list, limit: int) -> int:
    """How many rows the source has: what was read, unless the read stopped at its limit (then one COUNT)."""
    return len(read) if len(read) < limit else queryset.count()


def _activity_item(activity: Activity) -> TimelineItem:
    return TimelineItem(
        kind=activity.kind,
        label=activity.get_kind_display(),
        at=activity.occurred_at,
        subject=activity.subject,
        body=activity.body,
        who=activity.author,
        contact=str(activity.contact) if activity.contact else "",
        activity=activity,
    )


def _change_items(entries: list[LogEntry]) -> list[TimelineItem]:
    """Audit entries in words: "CSM: Alice Smith → Bob Jones; Status: Active → Churned" (people named with one
    query for the whole page)."""
    ids = {
        int(value)
        for entry in entries
        for name, values in (entry.changes_dict or {}).items()
        if name in USER_FIELDS
        for value in values
        if str(value).isdigit()
    }
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)} if ids else {}
    return [
        TimelineItem(
            kind=CHANGE,
            label=str(dict(KINDS)[CHANGE]),
            at=entry.timestamp,
            subject=_change_subject(entry),
            body=_change_body(entry, names),
            who=entry.actor,
            contact="",
            activity=None,
        )
        for entry in entries
    ]


def _model_of(entry: LogEntry) -> type:
    return Contract if entry.content_type.model == "contract" else Account


def _change_subject(entry: LogEntry) -> str:
    what = _("Contract %(contract)s") % {"contract": entry.object_repr} if _model_of(entry) is Contract else ""
    if entry.action == LogEntry.Action.CREATE:
        return _("%(what)s added") % {"what": what} if what else _("Account created")
    if entry.action == LogEntry.Action.DELETE:
        return _("%(what)s deleted") % {"what": what} if what else _("Account deleted")
    return _("%(what)s changed") % {"what": what} if what else _("Account changed")


def _change_source(entry: LogEntry) -> str:
    """Where a change came from when it was not typed in: the spreadsheet import that wrote it, or undid it."""
    data = entry.additional_data or {}
    if "import_file" not in data:
        return ""
    if data.get("import_undo"):
        return _("Undo of the import of %(file)s") % {"file": data["import_file"]}
    return _("Imported from %(file)s") % {"file": data["import_file"]}


def _change_body(entry: LogEntry, names: dict[int, str]) -> str:
    source = _change_source(entry)
    if entry.action != LogEntry.Action.UPDATE:
        return source
    model = _model_of(entry)
    parts = [source] if source else []
    for name, values in (entry.changes_dict or {}).items():
        field = model._meta.get_field(name) if name in {f.name for f in model._meta.fields} else None
        label = capfirst(str(field.verbose_name)) if field else name
        choices = dict(field.choices) if field is not None and field.choices else {}
        shown = [_value(name, value, names, choices) for value in values]
        parts.append(f"{label}: {' → '.join(shown)}")
    return "; ".join(parts)


def _value(name: str, value, names: dict[int, str], choices: dict) -> str:
    if value in (None, "None", ""):
        return _("none")
    if name in USER_FIELDS and str(value).isdigit():
        return names.get(int(value), _("a removed user"))
    return str(choices.get(value, value))
