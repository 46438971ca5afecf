"""Writes of success plans: outcomes, the periodic check-in (asked through a task) and its answer."""

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Account, Activity
from accounts.services import activity_create

from ..errors import JourneyError
from ..models import CheckIn, Outcome, SuccessPlan, Task
from ..selectors.accounts import check_in_due_on
from ..selectors.surveys import journey_settings_get
from .tasks import task_complete

CHECK_IN_QUESTION = gettext_noop("Success plan check-in: has the customer achieved what they expected?")
CHECK_IN_DUE_DAYS = 14


def success_plan_ensure(*, account_id: int, user) -> SuccessPlan:
    plan, _created = SuccessPlan.objects.get_or_create(account_id=account_id, defaults={"created_by_id": user.pk})
    return plan


def success_plan_update(*, account_id: int, user, summary: str) -> SuccessPlan:
    plan = success_plan_ensure(account_id=account_id, user=user)
    plan.summary = summary.strip()
    plan.save(update_fields=["summary"])
    return plan


def outcome_create(
    *, account_id: int, user, description: str, target_date: dt.date, owner_id: int | None = None
) -> Outcome:
    description = description.strip()
    if not description:
        raise JourneyError(_("Describe the outcome the customer expects."))
    plan = success_plan_ensure(account_id=account_id, user=user)
    return Outcome.objects.create(
        plan=plan, description=description, target_date=target_date, owner_id=owner_id or user.pk
    )


def outcome_status_set(*, outcome_id: int, account_id: int, status: str) -> Outcome:
    if status not in Outcome.Status.values:
        raise JourneyError(_("Unknown outcome status %(status)r.") % {"status": status})
    updated = Outcome.objects.filter(pk=outcome_id, plan__account_id=account_id).update(status=status)
    if not updated:
        raise JourneyError(_("There is no outcome %(id)s on this account.") % {"id": outcome_id})
    return Outcome.objects.get(pk=outcome_id)


def success_plan_next_check_in_set(*, account_id: int, user, on: dt.date, today: dt.date) -> SuccessPlan:
    """Schedule the plan's next check-in (today or later); the nightly job asks it then, once."""
    if on < today:
        raise JourneyError(_("Schedule the check-in for today or a later day."))
    plan = success_plan_ensure(account_id=account_id, user=user)
    plan.next_check_in = on
    plan.save(update_fields=["next_check_in"])
    return plan


@transaction.atomic
def check_ins_schedule(*, as_of: dt.date) -> int:
    """Ask every plan of a non-churned account whose check-in is due on or before ``as_of``
    (``check_in_due_on``): a check-in dated on the due day and a task for the CSM (or the segment's pool), and the
    plan's scheduled date is cleared (the interval counts from this check-in on). Unique per (plan, day), so a
    re-run asks nothing twice. Returns check-ins created."""
    interval = journey_settings_get().check_in_interval_months
    plans = (
        SuccessPlan.objects.exclude(account__status=Account.Status.CHURNED)
        .annotate(last_asked=Max("check_ins__asked_on"))
        .values(
            "pk",
            "account_id",
            "created_at",
            "next_check_in",
            "last_asked",
            "account__owner_id",
            "account__segment",
        )
    )
    due = []
    for plan in plans:
        asked_on = check_in_due_on(
            next_check_in=plan["next_check_in"],
            last_asked=plan["last_asked"],
            created_on=timezone.localdate(plan["created_at"], dt.UTC),
            interval=interval,
        )
        if asked_on <= as_of and (plan["last_asked"] is None or asked_on > plan["last_asked"]):
            due.append((plan, asked_on))
    if not due:
        return 0
    tasks = Task.objects.bulk_create(
        [
            Task(
                account_id=plan["account_id"],
                title=_(CHECK_IN_QUESTION),
                owner_id=plan["account__owner_id"],
                pool_segment="" if plan["account__owner_id"] else plan["account__segment"],
                due_date=asked_on + dt.timedelta(days=CHECK_IN_DUE_DAYS),
                source=Task.Source.CHECK_IN,
                dedupe_key=f"check-in:{plan['pk']}:{asked_on.isoformat()}",
            )
            for plan, asked_on in due
        ],
        ignore_conflicts=True,
    )
    task_ids = dict(Task.objects.filter(dedupe_key__in=[t.dedupe_key for t in tasks]).values_list("dedupe_key", "pk"))
    created = CheckIn.objects.bulk_create(
        [
            CheckIn(
                plan_id=plan["pk"],
                asked_on=asked_on,
                task_id=task_ids[f"check-in:{plan['pk']}:{asked_on.isoformat()}"],
            )
            for plan, asked_on in due
        ],
        ignore_conflicts=True,
    )
    SuccessPlan.objects.filter(pk__in=[plan["pk"] for plan, _asked_on in due]).update(next_check_in=None)
    return len(created)


@transaction.atomic
def check_in_record(
    *, account_id: int, user, achieved: str, notes: str = "", check_in_id: int | None = None
) -> CheckIn:
    """Record the customer's answer to the check-in ``check_in_id`` (default: the oldest unanswered one, or a new
    one asked today), close its task, and log the answer on the account's timeline."""
    if achieved not in CheckIn.Achieved.values:
        raise JourneyError(_("Answer yes, partly or no."))
    now = timezone.now()
    plan = success_plan_ensure(account_id=account_id, user=user)
    pending = CheckIn.objects.select_for_update().filter(plan=plan, answered_at__isnull=True)
    if check_in_id is not None:
        check_in = pending.filter(pk=check_in_id).first()
        if check_in is None:
            raise JourneyError(_("That check-in does not exist or is already answered."))
    else:
        check_in = pending.order_by("asked_on", "pk").first() or CheckIn(plan=plan, asked_on=now.date())
        if check_in.pk is None and CheckIn.objects.filter(plan=plan, asked_on=check_in.asked_on).exists():
            raise JourneyError(_("A check-in was already recorded today."))
    check_in.achieved = achieved
    check_in.notes = notes.strip()
    check_in.answered_at = now
    check_in.answered_by_id = user.pk
    check_in.save()
    if check_in.task_id and Task.objects.filter(pk=check_in.task_id, status=Task.Status.OPEN).exists():
        task_complete(task_id=check_in.task_id, user=user, log_activity=False)
    activity_create(
        account_id=account_id,
        kind=Activity.Kind.NOTE,
        author_id=user.pk,
        occurred_at=now,
        subject=_("Success plan check-in: achieved %(answer)s") % {"answer": CheckIn.Achieved(achieved).label.lower()},
        body=check_in.notes,
    )
    return check_in
