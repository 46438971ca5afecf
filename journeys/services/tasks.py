"""Writes of tasks: create, edit, finish (logged on the account's timeline), snooze, take from the pool, comment.

Every action on an existing task is a conditional UPDATE on the rows the user may act on
(``selectors.tasks.tasks_actionable_by``), so two clicks or two people never finish or take a task twice.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Activity, User
from accounts.services import accounts_mark_changed, activity_create

from ..errors import JourneyError
from ..models import Priority, Task, TaskComment
from ..selectors.tasks import tasks_actionable_by


def task_create(
    *,
    account_id: int,
    title: str,
    due_date: dt.date,
    owner_id: int,
    created_by_id: int | None,
    priority: int = Priority.NORMAL,
    description: str = "",
) -> Task:
    """A manual task for ``owner_id``."""
    title = title.strip()
    if not title:
        raise JourneyError(_("A task needs a title."))
    if priority not in Priority.values:
        raise JourneyError(_("Priority must be low, normal or high."))
    if not Account.objects.filter(pk=account_id).exists():
        raise JourneyError(_("There is no account %(id)s.") % {"id": account_id})
    with transaction.atomic():
        task = Task.objects.create(
            account_id=account_id,
            title=title,
            description=description.strip(),
            owner_id=owner_id,
            due_date=due_date,
            priority=priority,
            source=Task.Source.MANUAL,
            created_by_id=created_by_id,
        )
        # Open tasks are a churn feature and a column of the portfolio: the intra-day refresh re-reads them.
        accounts_mark_changed(account_ids=[account_id])
    return task


def _claim(user, task_id: int, **changes) -> Task:
    """Apply ``changes`` to the open task if ``user`` may act on it; refuse with the reason otherwise."""
    updated = tasks_actionable_by(user).filter(pk=task_id, status=Task.Status.OPEN).update(**changes)
    task = Task.objects.select_related("account").filter(pk=task_id).first()
    if task is None:
        raise JourneyError(_("There is no task %(id)s.") % {"id": task_id})
    if not updated:
        if not tasks_actionable_by(user).filter(pk=task_id).exists():
            raise PermissionDenied(_("You may not act on this task."))
        raise JourneyError(_("This task is already done."))
    accounts_mark_changed(account_ids=[task.account_id])
    return task


@transaction.atomic
def task_complete(*, task_id: int, user, log_activity: bool = True) -> Task:
    """Mark the task done and log "Task done: <title>" on the account's timeline."""
    now = timezone.now()
    task = _claim(user, task_id, status=Task.Status.DONE, completed_at=now, completed_by_id=user.pk, snoozed_until=None)
    if log_activity:
        activity_create(
            account_id=task.account_id,
            kind=Activity.Kind.TASK_DONE,
            author_id=user.pk,
            occurred_at=now,
            subject=_("Task done: %(title)s") % {"title": task.title},
            body=task.description,
        )
    return task


def task_update(*, task_id: int, user, title: str, due_date: dt.date, owner_id: int) -> Task:
    """Change an open task's title, due date and owner. The new owner must be someone who may change the task's
    account (``Account.objects.editable_by``): the account's CSM, their manager, an admin."""
    title = title.strip()
    if not title:
        raise JourneyError(_("A task needs a title."))
    task = tasks_actionable_by(user).filter(pk=task_id).select_related("account").first()
    if task is None:
        if Task.objects.filter(pk=task_id).exists():
            raise PermissionDenied(_("You may not act on this task."))
        raise JourneyError(_("There is no task %(id)s.") % {"id": task_id})
    if owner_id != task.owner_id:
        owner = User.objects.filter(pk=owner_id, is_active=True).first()
        if owner is None or not Account.objects.editable_by(owner).filter(pk=task.account_id).exists():
            raise JourneyError(
                _("%(name)s may not work on %(account)s: choose its CSM, their manager or an admin.")
                % {"name": owner or _("That user"), "account": task.account.name}
            )
    return _claim(user, task_id, title=title[:200], due_date=due_date, owner_id=owner_id)


def task_snooze(*, task_id: int, user, until: dt.date | None, today: dt.date) -> Task:
    """Hide the task from 'My tasks' until ``until`` (a later day)."""
    if not tasks_actionable_by(user).filter(pk=task_id).exists():
        raise PermissionDenied(_("You may not act on this task."))
    if until is None or until <= today:
        raise JourneyError(_("Snooze until a day after today."))
    return _claim(user, task_id, snoozed_until=until)


@transaction.atomic
def task_take(*, task_id: int, user) -> Task:
    """Take a pooled task: it becomes the user's (first come, first served)."""
    if not user.has_perm("journeys.change_task"):
        raise PermissionDenied(_("You may not take tasks."))
    if not Task.objects.filter(pk=task_id, owner__isnull=True).exists():
        if Task.objects.filter(pk=task_id).exists():
            raise JourneyError(_("Someone has already taken this task."))
        raise JourneyError(_("There is no task %(id)s.") % {"id": task_id})
    updated = tasks_actionable_by(user).filter(pk=task_id, owner__isnull=True).update(owner_id=user.pk)
    if not updated:
        raise PermissionDenied(_("You may not take this task: it is not in one of your pools."))
    return Task.objects.get(pk=task_id)


def task_comment_add(*, task_id: int, user, body: str) -> TaskComment:
    body = body.strip()
    if not body:
        raise JourneyError(_("A comment cannot be empty."))
    if not tasks_actionable_by(user).filter(pk=task_id).exists():
        raise PermissionDenied(_("You may not comment on this task."))
    return TaskComment.objects.create(task_id=task_id, author_id=user.pk, body=body)
