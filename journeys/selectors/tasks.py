"""Reads of tasks: who may act on which task, 'My tasks' with each account's context, the pooled queue, who may
own a task, and point-in-time counts."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, F, FilteredRelation, Max, OuterRef, Q, QuerySet, Subquery

from accounts.models import Account, User
from accounts.roles import Role, user_roles
from accounts.selectors import contracts_live_on
from csm_platform.dates import day_end
from health.models import AccountSnapshot

from ..models import PoolMember, Priority, Task


def tasks_visible_to(user) -> QuerySet[Task]:
    """Tasks a user may read: those of the accounts the user may read."""
    return Task.objects.filter(account__in=Account.objects.visible_to(user))


def tasks_actionable_by(user) -> QuerySet[Task]:
    """Tasks a user may finish, snooze, comment or take: admins all; everyone with the right their own; CSMs the
    pooled tasks of the pools they work; managers their team's and every pooled task. Executives none."""
    if not user.is_authenticated or not user.is_active or not user.has_perm("journeys.change_task"):
        return Task.objects.none()
    roles = user_roles(user)
    if user.is_superuser or Role.ADMIN in roles:
        return Task.objects.all()
    scope = Q(owner=user)
    if Role.MANAGER in roles:
        scope |= Q(owner__team__manager=user) | Q(owner__isnull=True)
    if Role.CSM in roles:
        scope |= Q(owner__isnull=True, pool_segment__in=pool_segments_of(user=user))
    return Task.objects.filter(scope)


def pool_segments_of(*, user) -> list[str]:
    return list(PoolMember.objects.filter(user=user).values_list("segment", flat=True))


@dataclass(frozen=True)
class MyTasks:
    today: dt.date
    overdue: list[Task]
    due_today: list[Task]
    upcoming: list[Task]
    snoozed: list[Task]
    pooled: list[Task]

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.upcoming)


def latest_night(*, today: dt.date) -> dt.date | None:
    """The latest night with snapshots on or before ``today``."""
    return AccountSnapshot.objects.filter(as_of__lte=today).aggregate(day=Max("as_of"))["day"]


def with_account_context(tasks: QuerySet[Task], *, today: dt.date, night: dt.date | None = None) -> QuerySet[Task]:
    """Annotate each task with its account's figures from the night (default: the latest on or before ``today``;
    ``health``, ``band``, ``acv``: None without a snapshot) and ``renews_on``, the next end of a contract live
    today. In SQL, so a list of tasks stays one query."""
    night = night or latest_night(today=today)
    on_night = Q(account__snapshots__as_of=night) if night else Q(account__snapshots__as_of__isnull=True)
    ends = contracts_live_on(as_of=today).filter(account=OuterRef("account_id")).order_by("end_date")
    return tasks.alias(night=FilteredRelation("account__snapshots", condition=on_night)).annotate(
        health=F("night__health"),
        band=F("night__band"),
        acv=F("night__acv"),
        renews_on=Subquery(ends.values("end_date")[:1]),
    )


def my_tasks(*, user, today: dt.date) -> MyTasks:
    """The user's open tasks, overdue first (oldest due first, then by priority), then due today, then upcoming;
    snoozed ones apart; and the pooled queue the user may take from (for a CS manager, every pooled task). Each
    task carries its account's health, ACV and next renewal (``with_account_context``): a query for the
    night and one per list, whatever the number of tasks."""
    night = latest_night(today=today)
    mine = list(
        with_account_context(Task.objects.filter(owner=user, status=Task.Status.OPEN), today=today, night=night)
        .select_related("account", "playbook")
        .order_by("due_date", "-priority", "id")
    )
    actionable = tasks_actionable_by(user).filter(owner__isnull=True, status=Task.Status.OPEN)
    pooled = list(
        with_account_context(actionable, today=today, night=night)
        .select_related("account", "playbook")
        .order_by("due_date", "-priority", "id")
    )
    awake = [task for task in mine if not task.is_snoozed(today)]
    return MyTasks(
        today=today,
        overdue=[task for task in awake if task.due_date < today],
        due_today=[task for task in awake if task.due_date == today],
        upcoming=[task for task in awake if task.due_date > today],
        snoozed=[task for task in mine if task.is_snoozed(today)],
        pooled=[task for task in pooled if not task.is_snoozed(today)],
    )


def task_owner_choices(*, account_id: int) -> QuerySet[User]:
    """Who may own a task of the account: the active users who may change the account
    (``Account.objects.editable_by``): admins, the account's CSM, and the manager of the CSM's team."""
    owner = Account.objects.select_related("owner").get(pk=account_id).owner
    scope = Q(is_superuser=True) | Q(groups__name=Role.ADMIN)
    if owner is not None:
        scope |= Q(pk=owner.pk)
        if owner.team_id:
            scope |= Q(managed_teams=owner.team_id, groups__name=Role.MANAGER)
    return User.objects.filter(scope, is_active=True).distinct().order_by("first_name", "last_name", "username")


def task_detail(*, task_id: int, user) -> Task:
    return (
        tasks_visible_to(user)
        .select_related("account", "owner", "playbook", "completed_by", "created_by")
        .prefetch_related("comments__author")
        .get(pk=task_id)
    )


def account_open_tasks(*, account_id: int) -> list[Task]:
    return list(
        Task.objects.filter(account_id=account_id, status=Task.Status.OPEN)
        .select_related("owner", "playbook")
        .order_by("due_date", "-priority", "id")
    )


def open_tasks_on(*, as_of: dt.date, account_ids: Iterable[int], priority: int | None = None) -> pd.Series:
    """Tasks open at the end of ``as_of`` per account (created by then, not completed by then): point-in-time,
    so churn training rows as of a past date see the tasks open on that date."""
    ids = list(account_ids)
    end = day_end(as_of)
    rows = Task.objects.filter(account_id__in=ids, created_at__lt=end).filter(
        Q(completed_at__isnull=True) | Q(completed_at__gte=end)
    )
    if priority is not None:
        rows = rows.filter(priority=priority)
    counts = dict(rows.values("account_id").annotate(n=Count("id")).values_list("account_id", "n"))
    return pd.Series([float(counts.get(a, 0)) for a in ids], index=pd.Index(ids, name="account_id"), dtype=float)


def open_high_priority_tasks(as_of: dt.date, account_ids: list[int]) -> pd.Series:
    """The churn feature ``open_high_priority_tasks`` (``health.features.register_feature`` signature)."""
    return open_tasks_on(as_of=as_of, account_ids=account_ids, priority=Priority.HIGH)
