"""Reads of journeys' models the pages need as SQL expressions (sortable, filterable, one query for a whole page)
or grouped counts; journeys' own selectors return dicts for given account ids, which cannot sort a page."""

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from journeys.models import StageChange, Task


def _latest_change(field: str) -> Subquery:
    """The ``field`` of the account's latest stage change (its current stage, as journeys defines it)."""
    latest = StageChange.objects.filter(account=OuterRef("pk")).order_by("-changed_at", "-id").values(field)[:1]
    return Subquery(latest)


def with_current_stage(accounts: QuerySet) -> QuerySet:
    """Annotate ``stage_id``, ``stage_name`` and ``stage_order`` (None before the first recorded change)."""
    return accounts.annotate(
        stage_id=_latest_change("to_stage_id"),
        stage_name=_latest_change("to_stage__name"),
        stage_order=_latest_change("to_stage__order"),
    )


def _open(today: dt.date) -> Q:
    """Open and awake on ``today`` (a snoozed task is not counted until it wakes)."""
    return Q(status=Task.Status.OPEN) & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))


def with_open_tasks(accounts: QuerySet, *, today: dt.date) -> QuerySet:
    """Annotate ``open_tasks``: the account's open tasks on ``today`` (snoozed ones excluded)."""
    counts = (
        Task.objects.filter(_open(today), account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(n=Count("id"))
        .values("n")
    )
    return accounts.annotate(open_tasks=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))


def overdue_tasks_by_owner(*, today: dt.date) -> dict[int, int]:
    """``{user_id: open tasks due before today}`` (one grouped query)."""
    rows = (
        Task.objects.filter(_open(today), owner__isnull=False, due_date__lt=today)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return dict(rows)
