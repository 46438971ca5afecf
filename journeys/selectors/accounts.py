"""Reads for one account's journey page and panel: stage, success plan, tasks, surveys and recent timeline."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Activity
from csm_platform.dates import add_months

from ..models import CheckIn, Outcome, Stage, StageChange, SuccessPlan, SurveyResponse, Task
from .journey import account_stage_history
from .surveys import SurveyScore, detractor_answers, journey_settings_get, survey_score
from .tasks import account_open_tasks

TIMELINE_LENGTH = 20


@dataclass(frozen=True)
class AccountJourney:
    as_of: dt.date
    stage: Stage | None
    stage_history: list[StageChange]
    plan: SuccessPlan | None
    outcomes: list[Outcome]
    check_ins: list[CheckIn]
    open_tasks: list[Task]
    nps: SurveyScore
    detractors: list[SurveyResponse]
    timeline: list[Activity]
    next_check_in: dt.date | None  # None without a plan

    @property
    def pending_check_ins(self) -> list[CheckIn]:
        return [c for c in self.check_ins if c.answered_at is None]

    @property
    def last_answered_check_in(self) -> CheckIn | None:
        return next((c for c in self.check_ins if c.answered_at is not None), None)


def check_in_due_on(
    *, next_check_in: dt.date | None, last_asked: dt.date | None, created_on: dt.date, interval: int
) -> dt.date:
    """The day a plan's next check-in is asked: the date set on the plan, else the workspace interval (months)
    after the last check-in, else after the plan was made."""
    return next_check_in or add_months(last_asked or created_on, interval)


def account_recent_activities(*, account_id: int, limit: int = TIMELINE_LENGTH) -> list[Activity]:
    return list(
        Activity.objects.filter(account_id=account_id).select_related("author").order_by("-occurred_at", "-id")[:limit]
    )


def account_journey(*, account_id: int, as_of: dt.date) -> AccountJourney:
    history = account_stage_history(account_id=account_id)
    plan = SuccessPlan.objects.filter(account_id=account_id).first()
    outcomes = list(plan.outcomes.select_related("owner")) if plan else []
    check_ins = list(plan.check_ins.select_related("answered_by", "task")) if plan else []
    next_check_in = None
    if plan:
        next_check_in = check_in_due_on(
            next_check_in=plan.next_check_in,
            last_asked=max((c.asked_on for c in check_ins), default=None),
            created_on=timezone.localdate(plan.created_at, dt.UTC),
            interval=journey_settings_get().check_in_interval_months,
        )
    return AccountJourney(
        as_of=as_of,
        stage=history[0].to_stage if history else None,
        stage_history=history,
        plan=plan,
        outcomes=outcomes,
        check_ins=check_ins,
        open_tasks=account_open_tasks(account_id=account_id),
        nps=survey_score(kind=SurveyResponse.Kind.NPS, as_of=as_of, account_ids=[account_id]),
        detractors=detractor_answers(as_of=as_of, account_ids=[account_id], limit=10),
        timeline=account_recent_activities(account_id=account_id),
        next_check_in=next_check_in,
    )
