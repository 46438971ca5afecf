"""Writes of playbooks: fire the occurrences found by ``selectors.playbooks.playbook_candidates``.

Each playbook is evaluated in its own transaction holding its row lock (the nightly run and an arriving event
never evaluate the same playbook at once). Firings go in with ``ON CONFLICT DO NOTHING`` on
(playbook, account, occurrence) and tasks with a unique dedupe key, so a re-run never duplicates either. E-mail
steps are sent after the transaction commits, for the firings it created.
"""

import datetime as dt
from collections.abc import Callable, Iterable

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Account, User

from ..models import Playbook, PlaybookCondition, PlaybookFiring, PlaybookStep, Task
from ..selectors.occurrences import occurrence_sentence
from ..selectors.playbooks import Occurrence, playbook_candidates
from ..webhooks.services import webhook_playbooks_fired
from .digest import site_url


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


def _emails(playbook: Playbook, steps: list[PlaybookStep], occurrences: list[Occurrence], accounts: dict, as_of):
    """The e-mails of the firings' e-mail steps, plain text, to each step's person (none for a pooled account)."""
    people = {
        user.pk: user
        for user in User.objects.filter(
            pk__in={_assignee(step, accounts[o.account_id])[0] for step in steps for o in occurrences},
            is_active=True,
        ).exclude(email="")
    }
    messages = []
    for occurrence in occurrences:
        account = accounts[occurrence.account_id]
        why = occurrence_sentence(detail=occurrence.detail, as_of=as_of)
        for step in steps:
            person = people.get(_assignee(step, account)[0])
            if person is None:
                continue
            link = site_url(reverse("web:account", args=[occurrence.account_id]))
            body = "\n\n".join(
                filter(
                    None,
                    [
                        step.description,
                        _("Why: %(why)s.") % {"why": why},
                        link,
                        _("Playbook: %(name)s") % {"name": playbook.name},
                    ],
                )
            )
            subject = step.title.replace("{account}", account["name"])
            messages.append(EmailMessage(subject=subject, body=body, to=[person.email]))
    return messages


def _fire(playbook: Playbook, occurrences: list[Occurrence], as_of: dt.date) -> tuple[int, int, list[EmailMessage]]:
    """Record the firings and create their tasks; returns (firings, tasks, the e-mails to send)."""
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
    webhook_playbooks_fired(firing_ids=firing_ids.values())
    accounts = {
        row["id"]: row
        for row in Account.objects.filter(pk__in={o.account_id for o in occurrences}).values(
            "id", "name", "segment", "owner_id", "account_executive_id", "owner__team__manager_id"
        )
    }
    steps = list(playbook.steps.order_by("order"))
    task_steps = [step for step in steps if step.action == PlaybookStep.Action.TASK]
    tasks = []
    for occurrence in occurrences:
        account = accounts[occurrence.account_id]
        for step in task_steps:
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
    email_steps = [step for step in steps if step.action == PlaybookStep.Action.EMAIL]
    return len(occurrences), len(tasks), _emails(playbook, email_steps, occurrences, accounts, as_of)


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
        playbooks = playbooks.filter(
            pk__in=PlaybookCondition.objects.filter(trigger__in=list(triggers)).values("playbook")
        )
    counts = {"playbooks_evaluated": 0, "playbook_firings": 0, "playbook_tasks": 0, "playbook_emails": 0}
    if dry_run:
        steps = playbooks.annotate(
            task_steps=Count("steps", filter=Q(steps__action=PlaybookStep.Action.TASK)),
            email_steps=Count("steps", filter=Q(steps__action=PlaybookStep.Action.EMAIL)),
        )
        for playbook in steps:
            occurrences = playbook_candidates(playbook=playbook, as_of=as_of, account_ids=ids)
            counts["playbooks_evaluated"] += 1
            counts["playbook_firings"] += len(occurrences)
            counts["playbook_tasks"] += len(occurrences) * playbook.task_steps
            counts["playbook_emails"] += len(occurrences) * playbook.email_steps
        return counts
    for playbook_id in playbooks.values_list("pk", flat=True):
        with transaction.atomic():
            playbook = Playbook.objects.select_for_update().filter(pk=playbook_id, active=True).first()
            if playbook is None:
                continue
            counts["playbooks_evaluated"] += 1
            occurrences = playbook_candidates(playbook=playbook, as_of=as_of, account_ids=ids)
            if occurrences:
                firings, tasks, emails = _fire(playbook, occurrences, as_of)
                counts["playbook_firings"] += firings
                counts["playbook_tasks"] += tasks
                counts["playbook_emails"] += len(emails)
                if emails:
                    # Sent once the firings are committed; a mail server that fails is logged, the firing stays.
                    transaction.on_commit(_sender(emails), robust=True)
    return counts


def _sender(emails: list[EmailMessage]) -> Callable[[], None]:
    """The on-commit callback that sends ``emails`` (a named function: Django logs a failure by its name)."""

    def send_playbook_emails() -> None:
        get_connection().send_messages(emails)

    return send_playbook_emails
