"""Writes of the journeys app. The public entry points are re-exported here; each lives in its own module."""

import datetime as dt

from .digest import digest_run_due, digest_send
from .plans import (
    check_in_record,
    check_ins_schedule,
    outcome_create,
    outcome_status_set,
    success_plan_next_check_in_set,
    success_plan_update,
)
from .playbooks import playbooks_evaluate
from .stages import stage_change, stage_milestones_apply
from .starter_playbooks import starter_playbooks_load
from .surveys import survey_response_create, survey_response_from_track, survey_responses_import_csv
from .tasks import task_comment_add, task_complete, task_create, task_snooze, task_take, task_update


def journeys_nightly(*, as_of: dt.date) -> dict:
    """After each nightly recompute: milestones move stages, playbooks fire, success plan check-ins are asked.
    Every step is idempotent for ``as_of``; returns the counts recorded on the run."""
    counts = {"stage_milestones": stage_milestones_apply(as_of=as_of)}
    counts.update(playbooks_evaluate(as_of=as_of))
    counts["check_ins"] = check_ins_schedule(as_of=as_of)
    return counts


__all__ = [
    "check_in_record",
    "check_ins_schedule",
    "digest_run_due",
    "digest_send",
    "journeys_nightly",
    "outcome_create",
    "outcome_status_set",
    "playbooks_evaluate",
    "stage_change",
    "stage_milestones_apply",
    "starter_playbooks_load",
    "success_plan_next_check_in_set",
    "success_plan_update",
    "survey_response_create",
    "survey_response_from_track",
    "survey_responses_import_csv",
    "task_comment_add",
    "task_complete",
    "task_create",
    "task_snooze",
    "task_take",
    "task_update",
]
