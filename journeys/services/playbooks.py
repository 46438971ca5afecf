"""Writes of playbooks: fire the occurrences found by ``selectors.playbooks.playbook_candidates``.

Each playbook is evaluated in its own transaction holding its row lock (the nightly run and an arriving event
never evaluate the same playbook at once). Firings go in with ``ON CONFLICT DO NOTHING`` on
(playbook, account, occurrence) and tasks with a unique dedupe key, so a re-run never duplicates either.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from accounts.models import Account

from ..models import Playbook, PlaybookFiring, PlaybookStep, Task
from ..selectors.playbooks import Occurrence, playbook_candidates


def _assignee(step: PlaybookStep, account: dict) -> tuple[int | None, str]:
    """(owner id, pool segment): the step's person, else the account's CSM, else the segment's pooled queue."""
    person = {
        PlaybookStep.Assignee.OWNER: account["owner_id"],
        PlaybookStep.Assignee.AE: account["account_executive_id"],
        PlaybookStep.Assignee.MANAGER: account["owner__team__manager_id"],
    }[step.assignee] or account["owner_id"]
    return (person, "") if person else (None, account["segment"])


def task_dedupe_key(*, playbook_id: int, account_id: int, occurrence_key: str, step_id: int) -> str:
    return f"playbook:{playbook_id}:{account_id}:{occurrence_key}:{step_id}"


def _fire(playbook: Playbook, occurrences: list[Occurrence], as_of: dt.date) -> tuple[int, int]:
    """Record the firings and create their tasks; returns (firings, tasks)."""
    PlaybookFiring.objects.bulk_create(
        [
            PlaybookFiring(
                playbook=playbook, account_id=o.account_id, occurrence_key=o.key, as_of=as_of, detail=o.detail
            )
            for o in occurrences
        ],
        ignore_conflicts=True,
    )
    firing_ids = {
        (account_id, key): pk
        for pk, account_id, key in PlaybookFiring.objects.filter(
            playbook=playbook,
            account_id__in={o.account_id for o in occurrences},
            occurrence_key__in={o.key for o in occurrences},
        ).values_list("pk", "account_id", "occurrence_key")
    }
    accounts = {
        row["id"]: row
        for row in Account.objects.filter(pk__in={o.account_id for o in occurrences}).values(
            "id", "name", "segment", "owner_id", "account_executive_id", "owner__team__manager_id"
        )
    }
    steps = list(playbook.steps.order_by("order"))
    tasks = []
    for occurrence in occurrences:
        account = accounts[occurrence.account_id]
        for step in steps:
            owner_id, pool_segment = _assignee(step, account)
            tasks.append(
                Task(
                    account_id=occurrence.account_id,
                    title=step.title.replace("{account}", account["name"])[:200],
                    description=step.description,
                    owner_id=owner_id,
                    pool_segment=pool_segment,
                    due_date=as_of + dt.timedelta(days=step.due_in_days),
                    priority=step.priority,
                    source=Task.Source.PLAYBOOK,
                    playbook=playbook,
                    step=step,
                    firing_id=firing_ids.get((occurrence.account_id, occurrence.key)),
                    dedupe_key=task_dedupe_key(
                        playbook_id=playbook.pk,
                        account_id=occurrence.account_id,
                        occurrence_key=occurrence.key,
                        step_id=step.pk,
                    ),
                )
            )
    Task.objects.bulk_create(tasks, ignore_conflicts=True, batch_size=1000)
    return len(occurrences), len(tasks)


def playbooks_evaluate(
    *,
    as_of: dt.date,
    dry_run: bool = False,
    account_ids: Iterable[int] | None = None,
    triggers: Iterable[str] | None = None,
) -> dict:
    """Evaluate the active playbooks on ``as_of`` (optionally only some triggers, for some accounts: an arriving
    event) and fire what they find. ``dry_run`` counts what would fire and writes nothing. Returns counts."""
    ids = None if account_ids is None else list(account_ids)
    playbooks = Playbook.objects.filter(active=True).order_by("pk")
    if triggers is not None:
        playbooks = playbooks.filter(trigger__in=list(triggers))
    counts = {"playbooks_evaluated": 0, "playbook_firings": 0, "playbook_tasks": 0}
    if dry_run:
        for playbook in playbooks.annotate(step_count=Count("steps")):
            occurrences = playbook_candidates(playbook=playbook, as_of=as_of, account_ids=ids)
            counts["playbooks_evaluated"] += 1
            counts["playbook_firings"] += len(occurrences)
            counts["playbook_tasks"] += len(occurrences) * playbook.step_count
        return counts
    for playbook_id in playbooks.values_list("pk", flat=True):
        with transaction.atomic():
            playbook = Playbook.objects.select_for_update().filter(pk=playbook_id, active=True).first()
            if playbook is None:
                continue
            counts["playbooks_evaluated"] += 1
            occurrences = playbook_candidates(playbook=playbook, as_of=as_of, account_ids=ids)
            if occurrences:
                firings, tasks = _fire(playbook, occurrences, as_of)
                counts["playbook_firings"] += firings
                counts["playbook_tasks"] += tasks
    return counts
