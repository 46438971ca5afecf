"""Writes of the journey: the one way an account moves between stages, by hand or by a milestone."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Activity
from accounts.services import activities_create, activity_create
from accounts.usage.selectors import feature_first_use
from csm_platform.dates import day_end, utc_date

from ..errors import JourneyError
from ..models import Stage, StageChange, StageMilestone, Trigger
from .playbooks import playbooks_evaluate


def stage_change_subject(from_stage: Stage | None, to_stage: Stage) -> str:
    """The timeline's subject of a stage change, in the active language."""
    if from_stage is None:
        return _("Stage: %(to)s") % {"to": to_stage.name}
    return _("Stage: %(from)s → %(to)s") % {"from": from_stage.name, "to": to_stage.name}


@transaction.atomic
def stage_change(
    *,
    account_id: int,
    to_stage_id: int,
    changed_by_id: int | None,
    reason: str,
    changed_at: dt.datetime | None = None,
) -> StageChange:
    """Move the account to ``to_stage_id``, recording who, when and why; the move goes on the timeline and the
    "stage entered" playbooks are evaluated for the account at once."""
    changed_at = changed_at or timezone.now()
    reason = reason.strip()
    if not reason:
        raise JourneyError(_("Say why the account changes stage."))
    if not Account.objects.select_for_update().filter(pk=account_id).exists():
        raise JourneyError(_("There is no account %(id)s.") % {"id": account_id})
    to_stage = Stage.objects.filter(pk=to_stage_id).first()
    if to_stage is None:
        raise JourneyError(_("There is no stage %(id)s.") % {"id": to_stage_id})
    latest = (
        StageChange.objects.filter(account_id=account_id)
        .select_related("to_stage")
        .order_by("-changed_at", "-id")
        .first()
    )
    if latest is not None and latest.to_stage_id == to_stage.pk:
        raise JourneyError(_("The account is already in %(stage)s.") % {"stage": to_stage.name})
    if latest is not None and changed_at < latest.changed_at:
        raise JourneyError(
            _("The account's last stage change was on %(day)s; a change cannot be recorded before it.")
            % {"day": f"{latest.changed_at:%Y-%m-%d}"}
        )
    from_stage = latest.to_stage if latest else None
    change = StageChange.objects.create(
        account_id=account_id,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=changed_at,
        changed_by_id=changed_by_id,
        reason=reason,
        source=StageChange.Source.MANUAL,
    )
    activity_create(
        account_id=account_id,
        kind=Activity.Kind.STAGE_CHANGE,
        author_id=changed_by_id,
        occurred_at=changed_at,
        subject=stage_change_subject(from_stage, to_stage),
        body=reason,
    )
    playbooks_evaluate(as_of=utc_date(changed_at), account_ids=[account_id], triggers=[Trigger.STAGE_ENTERED])
    return change


@transaction.atomic
def stage_milestones_apply(*, as_of: dt.date) -> int:
    """Move accounts whose milestone event first happened on or before ``as_of`` to the milestone's stage, when
    they were in an earlier stage (or none) at that moment and have not changed stage since. The change is dated
    at the event. Returns how many accounts moved; a re-run moves none."""
    stages = {stage.pk: stage for stage in Stage.objects.all()}
    moved = 0
    for milestone in StageMilestone.objects.select_related("stage").order_by("stage__order", "event_name"):
        first = {
            a: moment
            for a, moment in feature_first_use(event_name=milestone.event_name).items()
            if moment < day_end(as_of)
        }
        if not first:
            continue
        latest: dict[int, tuple[dt.datetime, int]] = {}
        rows = StageChange.objects.filter(account_id__in=first).order_by("account_id", "changed_at", "id")
        for account_id, changed_at, to_stage_id in rows.values_list("account_id", "changed_at", "to_stage_id"):
            latest[account_id] = (changed_at, to_stage_id)
        target = milestone.stage
        changes = []
        for account_id, moment in sorted(first.items()):
            changed_at, stage_id = latest.get(account_id, (None, None))
            if changed_at is not None and (changed_at > moment or stages[stage_id].order >= target.order):
                continue
            from_stage = stages.get(stage_id)
            changes.append(
                StageChange(
                    account_id=account_id,
                    from_stage=from_stage,
                    to_stage=target,
                    changed_at=moment,
                    reason=_("Milestone: first %(event)s") % {"event": milestone.event_name},
                    source=StageChange.Source.MILESTONE,
                )
            )
        StageChange.objects.bulk_create(changes)
        activities_create(
            activities=[
                {
                    "account_id": change.account_id,
                    "kind": Activity.Kind.STAGE_CHANGE,
                    "occurred_at": change.changed_at,
                    "subject": stage_change_subject(change.from_stage, target),
                    "body": change.reason,
                }
                for change in changes
            ]
        )
        moved += len(changes)
    return moved
