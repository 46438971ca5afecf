"""The journeys part of the demo, registered with ``accounts.demo`` in ``JourneysConfig.ready``.

Once the book is written (``demo_load``), every account gets a journey that follows its trajectory (the latent
propensity ``z`` of ``accounts.demo.book``):

- stages: prospects in Awareness → Research → Decision; customers from Decision to Purchase (onboarding) on their
  first contract's start, then to Adoption after a time to value that is longer for the weaker accounts (some
  never get there), and the strongest on to Advocacy. Customers of the last ``days`` (those with usage) stay in
  onboarding until the value milestone, their first ``VALUE_MILESTONE`` event, moves them on a backfilled night;
- survey answers of the last ``SURVEY_MONTHS`` by the account's contacts, through the CSV import: NPS twice a year,
  CSAT and customer effort after interactions, scored by ``z`` (the coming renewal's, else today's), with comments;
- success plans of the high-touch customers: a summary, outcomes (achieved or missed when due, by ``z``) and the
  check-ins answered every ``check_in_interval_months`` until ``CHECK_INS_ANSWERED_UNTIL`` days ago; the nights
  ask the later ones;
- the starter playbook library, active, so that the backfilled nights fire it, and the CSMs who work the pooled
  tech-touch queue.

After the backfill (``demo_after_backfill``) the team has worked on what the nights made: each generated task is
dated on its night, and a share of them, drawn from a hash of the seed and the task, is done on a past day.
"""

import csv
import datetime as dt
import io
import math
import zlib
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.demo import DEMO_USERS, DemoBook, demo_accounts
from accounts.demo.book import Decision, Plan
from accounts.models import Account, Activity
from accounts.roles import Role
from accounts.services import activities_create
from csm_platform.dates import add_months, day_start

from .errors import JourneyError
from .models import (
    CheckIn,
    Outcome,
    Playbook,
    PoolMember,
    Priority,
    Stage,
    StageChange,
    StageMilestone,
    SuccessPlan,
    Task,
    TaskComment,
)
from .selectors.surveys import journey_settings_get
from .services import starter_playbooks_load, survey_responses_import_csv, task_create
from .services.stages import stage_change_subject

VALUE_MILESTONE = "Integration Connected"
SURVEY_MONTHS = 18
CHECK_INS_ANSWERED_UNTIL = 120  # days before as_of
# Median days from the first contract to Adoption, by segment, for an account of propensity 0.
TIME_TO_VALUE_DAYS = {Account.Segment.HIGH_TOUCH: 75, Account.Segment.MID_TOUCH: 45, Account.Segment.TECH_TOUCH: 25}
POOL_CSMS = ("csm", "csm5")  # one CSM per team works the pooled tech-touch queue
CSV_CHUNK = 10_000
# After the backfill, the share of the nights' tasks their owner has done, by days past the due date (the first
# row it is past; tasks due from 3 days on are left open).
DONE_SHARES = ((30, 0.92), (3, 0.7), (-3, 0.25))
# The owner's note on a share of the tasks: on one done, a little before finishing it; on one overdue, the day after
# it was due (the demo's words, translated where the workspace speaks Korean).
COMMENTED_SHARE = 0.4
DONE_NOTES = (
    gettext_noop("Spoke with the champion: no blockers, next check in a month."),
    gettext_noop("Walked the admin through the reports they were missing; they will roll them out to the team."),
    gettext_noop("Sent the renewal summary and the usage review to the sponsor."),
    gettext_noop("Booked a working session with their ops lead for next week."),
    gettext_noop("The customer confirmed the issue is solved; closing."),
)
OVERDUE_NOTES = (
    gettext_noop("Left a voicemail and an e-mail; trying again on Thursday."),
    gettext_noop("Waiting on the customer: their admin is out until next week."),
    gettext_noop("Rescheduled at the customer's request."),
)

ADVOCACY_REASONS = ("Agreed to be a reference", "Case study published", "Spoke at our customer webinar")
NPS_COMMENTS = {
    "detractor": (
        "Reports are too slow at month end.",
        "We lost our admin and nobody knows how to build dashboards.",
        "Support took a week to answer a blocking ticket.",
        "Too expensive for what our team uses.",
        "The integration with our warehouse keeps breaking.",
    ),
    "passive": ("Does the job, but onboarding new people is hard.", "Good product, the mobile app lags behind."),
    "promoter": (
        "Our weekly business review runs on it.",
        "The alerts saved us twice this quarter.",
        "Great support team, quick answers.",
    ),
}
PLAN_SUMMARIES = (
    "One source of truth for operations reporting, replacing spreadsheets e-mailed around every Monday.",
    "Self-serve dashboards for every regional manager, so that analysts stop building one-off reports.",
    "Faster month-end close: finance and operations working from the same live numbers.",
    "Alerts on the key operational metrics, so that the team hears about problems before customers do.",
)
OUTCOMES = (
    "Retire the legacy reporting tool",
    "Weekly business review run from live dashboards",
    "Month-end close two days faster",
    "Every regional manager on self-serve dashboards",
    "Data warehouse connected with nightly refresh",
    "Alerts on the top five operational metrics",
    "Roll out to the second business unit",
)
# A CS manager's own tasks on the team's weakest accounts: (title, due in days from as_of, priority).
MANAGER_TASKS = (
    ("Review the rescue plan of {account} with its CSM", -3, Priority.HIGH),
    ("Approve the renewal discount for {account}", 2, Priority.HIGH),
    ("Join the executive call with {account}", 6, Priority.NORMAL),
    ("Coach the CSM on {account}'s adoption plan", 12, Priority.LOW),
)
# A CSM's own tasks on their largest accounts.
CSM_TASKS = (
    ("Prepare the business review deck for {account}", 5, Priority.NORMAL),
    ("Send {account} the quarterly adoption report", 9, Priority.LOW),
)
CHECK_IN_NOTES = {
    CheckIn.Achieved.YES: ("On track; the sponsor is happy with the results.", "Goals met, agreed new ones."),
    CheckIn.Achieved.PARTLY: ("Rollout slower than planned; training booked.", "Half the teams live, the rest next."),
    CheckIn.Achieved.NO: ("Blocked by their IT; escalated to the sponsor.", "Project paused after a reorganisation."),
}


def _at(day: dt.date, hours: float) -> dt.datetime:
    return day_start(day) + dt.timedelta(hours=hours)


def _days(low: float, high: float, rng: np.random.Generator) -> dt.timedelta:
    return dt.timedelta(days=int(rng.integers(low, high)))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _propensity_on(plan: Plan, day: dt.date) -> float:
    """The account's ``z`` on a day: that of the renewal decided in the following year, else today's."""
    coming: Decision | None = next((d for d in plan.decisions if day <= d.end <= day + dt.timedelta(days=365)), None)
    return coming.propensity if coming else plan.propensity


def _first_propensity(plan: Plan) -> float:
    return plan.decisions[0].propensity if plan.decisions else plan.propensity


# Stages --------------------------------------------------------------------------------------------------------


def _stage_changes(book: DemoBook, rng: np.random.Generator) -> list[StageChange]:
    """Each account's moves, oldest first; none when the workspace has no adoption stage."""
    adoption = journey_settings_get().adoption_stage
    if adoption is None:
        return []
    stages = list(Stage.objects.order_by("order"))
    at = next(i for i, stage in enumerate(stages) if stage.pk == adoption.pk)
    if at == 0:
        return []
    early, onboarding, advocacy = stages[: at - 1], stages[at - 1], stages[at + 1] if at + 1 < len(stages) else None
    recent_from = book.as_of - dt.timedelta(days=book.days - 30)
    last_day = book.as_of - dt.timedelta(days=1)
    changes = []
    for plan in book.plans:
        account, moves = plan.account, []
        if not plan.contracts:
            day = book.as_of - _days(20, 240, rng)
            for stage in early[: 1 + int(rng.random() < 0.6) + int(rng.random() < 0.4)]:
                moves.append((min(day, last_day), stage, "Inbound interest" if not moves else "Evaluation moved on"))
                day += _days(10, 60, rng)
        else:
            start = plan.contracts[0].start_date
            if early:
                moves.append((start - _days(20, 75, rng), early[-1], "Proposal accepted by the buyer"))
            moves.append((start, onboarding, "Contract signed"))
            z = _first_propensity(plan)
            end = min(account.churned_on or book.as_of, last_day)
            speed = math.exp(-0.35 * z + rng.normal(0, 0.35))
            adopted = start + dt.timedelta(days=round(TIME_TO_VALUE_DAYS[account.segment] * speed))
            stuck = rng.random() < _sigmoid(-3 - 1.5 * z)
            live = account.status == Account.Status.ACTIVE and start >= recent_from  # the milestone moves them
            if not (stuck or live) and adopted < end:
                moves.append((adopted, adoption, "Live in production: the first workflows run"))
                advocate = advocacy and account.status == Account.Status.ACTIVE
                if advocate and rng.random() < _sigmoid(2.5 * (plan.propensity - 0.9)):
                    day = adopted + _days(120, 500, rng)
                    if day < end:
                        moves.append((day, advocacy, ADVOCACY_REASONS[int(rng.integers(len(ADVOCACY_REASONS)))]))
        previous = None
        for index, (day, stage, reason) in enumerate(moves):
            # The signature starts the day (the milestone may come within hours); the others during the day.
            moment = day_start(day) if stage is onboarding else _at(day, 9 + index + int(rng.integers(0, 6)))
            changes.append(
                StageChange(
                    account=account,
                    from_stage=previous,
                    to_stage=stage,
                    changed_at=moment,
                    changed_by=account.owner,
                    reason=reason,
                    source=StageChange.Source.MANUAL,
                )
            )
            previous = stage
    return changes


def _stages_create(book: DemoBook, rng: np.random.Generator) -> int:
    changes = _stage_changes(book, rng)
    if not changes:
        return 0
    adoption = journey_settings_get().adoption_stage
    StageMilestone.objects.get_or_create(event_name=VALUE_MILESTONE, defaults={"stage": adoption})
    StageChange.objects.bulk_create(changes, batch_size=5000)
    activities_create(
        activities=[
            {
                "account_id": change.account.pk,
                "kind": Activity.Kind.STAGE_CHANGE,
                "author_id": change.changed_by.pk if change.changed_by else None,
                "occurred_at": change.changed_at,
                "subject": stage_change_subject(change.from_stage, change.to_stage),
                "body": change.reason,
            }
            for change in changes
        ]
    )
    return len(changes)


# Surveys -------------------------------------------------------------------------------------------------------


def _answers(book: DemoBook, rng: np.random.Generator) -> Iterator[dict]:
    """Survey answers as CSV rows (account, kind, score, responded_at, contact_email, comment)."""
    first_day = add_months(book.as_of, -SURVEY_MONTHS)
    latest = min(day_start(book.as_of), timezone.now())
    for plan in book.plans:
        people = [c for c in plan.contacts if c.email and not c.is_billing]
        if not plan.contracts or not people:
            continue
        start = max(first_day, plan.contracts[0].start_date + dt.timedelta(days=45))
        end = min(plan.account.churned_on or book.as_of, book.as_of)
        if start >= end:
            continue
        span = (end - start).days
        moments: list[tuple[str, dt.date, object]] = []
        wave = first_day + dt.timedelta(days=plan.number % 60)
        while wave < end:  # the relationship survey, twice a year
            for contact in people:
                chance = 0.6 if contact.is_champion else 0.5 if contact.is_executive_sponsor else 0.3
                answered = wave + _days(0, 14, rng)
                if wave >= start and answered < end and rng.random() < chance:
                    moments.append(("nps", answered, contact))
            wave = add_months(wave, 6)
        for kind, per_month in (("csat", 0.5), ("ces", 0.25)):  # after support tickets and onboarding sessions
            for offset in rng.integers(0, span, rng.poisson(per_month * span / 30.4)):
                moments.append((kind, start + dt.timedelta(days=int(offset)), people[int(rng.integers(len(people)))]))
        for kind, day, contact in moments:
            z = _propensity_on(plan, day)
            if kind == "nps":
                score = int(np.clip(round(7.4 + 1.5 * z + rng.normal(0, 1.6)), 0, 10))
                mood = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
                chance = {"detractor": 0.7, "passive": 0.2, "promoter": 0.3}[mood]
                comments = NPS_COMMENTS[mood]
                comment = comments[int(rng.integers(len(comments)))] if rng.random() < chance else ""
            elif kind == "csat":
                score, comment = int(np.clip(round(3.9 + 0.6 * z + rng.normal(0, 0.8)), 1, 5)), ""
            else:
                score, comment = int(np.clip(round(3.2 - 0.8 * z + rng.normal(0, 1.0)), 1, 7)), ""
            moment = _at(day, float(rng.uniform(7, 19)))
            if moment <= latest:
                yield {
                    "account": plan.account.external_id,
                    "kind": kind,
                    "score": score,
                    "responded_at": moment.isoformat(),
                    "contact_email": contact.email,
                    "comment": comment,
                }


def _surveys_create(book: DemoBook, rng: np.random.Generator) -> int:
    """Through the CSV import (``survey_responses_import_csv``), a file of at most ``CSV_CHUNK`` rows at a time."""
    rows, created = list(_answers(book, rng)), 0
    columns = ["account", "kind", "score", "responded_at", "contact_email", "comment"]
    for first in range(0, len(rows), CSV_CHUNK):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows[first : first + CSV_CHUNK])
        result = survey_responses_import_csv(file=io.BytesIO(text.getvalue().encode()), created_by_id=None)
        if result.errors:
            line, message = result.errors[0]
            raise JourneyError(f"Demo survey answers refused at line {line}: {message}")
        created += result.created
    return created


# Success plans -------------------------------------------------------------------------------------------------


def _plans_create(book: DemoBook, rng: np.random.Generator) -> dict[str, int]:
    interval = journey_settings_get().check_in_interval_months
    answered_until = book.as_of - dt.timedelta(days=CHECK_INS_ANSWERED_UNTIL)
    plans, outcomes, check_ins, notes = [], [], [], []
    for plan in book.plans:
        account = plan.account
        if account.segment != Account.Segment.HIGH_TOUCH or account.status != Account.Status.ACTIVE:
            continue
        created_on = max(plan.contracts[0].start_date + dt.timedelta(days=14), book.as_of - _days(200, 700, rng))
        success_plan = SuccessPlan(
            account=account,
            summary=PLAN_SUMMARIES[int(rng.integers(len(PLAN_SUMMARIES)))],
            created_at=_at(created_on, 10),
            created_by=account.owner,
        )
        plans.append(success_plan)
        z = plan.propensity
        for description in rng.choice(OUTCOMES, size=int(rng.integers(2, 5)), replace=False):
            target = created_on + _days(90, 540, rng)
            if target < book.as_of:
                status = Outcome.Status.ACHIEVED if rng.random() < _sigmoid(0.5 + 1.5 * z) else Outcome.Status.MISSED
            else:
                status = Outcome.Status.IN_PROGRESS if rng.random() < 0.6 else Outcome.Status.PLANNED
            outcomes.append(
                Outcome(
                    plan=success_plan,
                    description=str(description),
                    owner=account.owner,
                    target_date=target,
                    status=status,
                    created_at=_at(created_on, 11),
                )
            )
        asked_on = add_months(created_on, interval)
        while asked_on <= answered_until:
            mood = z + rng.normal(0, 0.5)
            achieved = CheckIn.Achieved.YES if mood > 0.6 else CheckIn.Achieved.PARTLY
            if mood <= -0.3:
                achieved = CheckIn.Achieved.NO
            answered_at = _at(asked_on + _days(1, 10, rng), 15)
            choices = CHECK_IN_NOTES[achieved]
            note = choices[int(rng.integers(len(choices)))]
            check_ins.append(
                CheckIn(
                    plan=success_plan,
                    asked_on=asked_on,
                    achieved=achieved,
                    notes=note,
                    answered_at=answered_at,
                    answered_by=account.owner,
                )
            )
            notes.append(
                {
                    "account_id": account.pk,
                    "kind": Activity.Kind.NOTE,
                    "author_id": account.owner.pk,
                    "occurred_at": answered_at,
                    "subject": gettext("Success plan check-in: achieved %(answer)s")
                    % {"answer": CheckIn.Achieved(achieved).label.lower()},
                    "body": note,
                }
            )
            asked_on = add_months(asked_on, interval)
    SuccessPlan.objects.bulk_create(plans)
    Outcome.objects.bulk_create(outcomes)
    CheckIn.objects.bulk_create(check_ins)
    activities_create(activities=notes)
    return {"success plans": len(plans), "outcomes": len(outcomes), "check-ins answered": len(check_ins)}


def _own_tasks_create(book: DemoBook) -> int:
    """The tasks people set themselves (``task_create``): each CS manager's on the weakest active accounts of the
    team, each CSM's on their largest ones."""
    active = [plan for plan in book.plans if plan.account.owner and plan.account.status == Account.Status.ACTIVE]
    work = []
    for demo_user in DEMO_USERS:
        user = book.users[demo_user.username]
        if demo_user.role == Role.MANAGER:
            team = [plan for plan in active if plan.account.owner.team_id == user.team_id]
            work += [(user, plan, task) for plan, task in zip(sorted(team, key=_weakest), MANAGER_TASKS, strict=False)]
        elif demo_user.role == Role.CSM:
            own = [plan for plan in active if plan.account.owner_id == user.pk]
            work += [(user, plan, task) for plan, task in zip(sorted(own, key=_largest), CSM_TASKS, strict=False)]
    for user, plan, (title, due_in, priority) in work:
        task_create(
            account_id=plan.account.pk,
            title=title.format(account=plan.account.name),
            due_date=book.as_of + dt.timedelta(days=due_in),
            owner_id=user.pk,
            created_by_id=user.pk,
            priority=priority,
        )
    return len(work)


def _weakest(plan: Plan) -> tuple[float, int]:
    return plan.propensity, plan.number


def _largest(plan: Plan) -> tuple[int, int]:
    return -plan.users, plan.number


def demo_load(book: DemoBook) -> dict[str, int]:
    counts = {
        "stage changes": _stages_create(book, book.rng("journeys stages")),
        # Before the playbooks are active: the detractors fire on the backfilled nights, not today.
        "survey answers": _surveys_create(book, book.rng("journeys surveys")),
        **_plans_create(book, book.rng("journeys success plans")),
    }
    pool = [book.users[username] for username in POOL_CSMS if username in book.users]
    PoolMember.objects.bulk_create(
        [PoolMember(user=user, segment=Account.Segment.TECH_TOUCH) for user in pool], ignore_conflicts=True
    )
    counts["own tasks"] = _own_tasks_create(book)
    starter_playbooks_load(activate=True)
    counts["active playbooks"] = Playbook.objects.filter(active=True).count()
    return counts


# After the backfill --------------------------------------------------------------------------------------------


def _share(seed: int, *parts: object) -> float:
    """A number in [0, 1) drawn from the seed and the parts, the same on every run."""
    return zlib.crc32(":".join(map(str, (seed, *parts))).encode()) / 2**32


def demo_after_backfill(*, seed: int, as_of: dt.date) -> dict[str, int]:
    """Date each generated task of the demo accounts on its night (a playbook's firing, a check-in's day), then
    finish a share of them by how long ago they were due (``DONE_SHARES``: most of the old ones, a quarter of
    those due around today), on a day between the night and a few days past the due date, by their owner (a
    pooled one taken by one of its pool's CSMs). Idempotent: a done task stays done, a dated one keeps its date."""
    tasks = Task.objects.filter(account__in=demo_accounts()).exclude(source=Task.Source.MANUAL)
    nights = {
        pk: night or asked_on
        for pk, night, asked_on in tasks.values_list("pk", "firing__as_of", "check_in__asked_on")
        if night or asked_on
    }
    dated = []
    for task in tasks.filter(pk__in=list(nights)).only("pk", "created_at"):
        created_at = _at(nights[task.pk], 6)
        if task.created_at != created_at:
            task.created_at = created_at
            dated.append(task)
    Task.objects.bulk_update(dated, ["created_at"], batch_size=1000)

    done, timeline = [], []
    yesterday = as_of - dt.timedelta(days=1)
    last_due = as_of - dt.timedelta(days=DONE_SHARES[-1][0])
    pools: dict[str, list[int]] = defaultdict(list)
    for segment, user_id in PoolMember.objects.order_by("user_id").values_list("segment", "user_id"):
        pools[segment].append(user_id)
    candidates = tasks.filter(status=Task.Status.OPEN, due_date__lt=last_due)
    for task in candidates.select_related("account").only(
        "pk", "title", "description", "due_date", "created_at", "owner_id", "pool_segment", "account__external_id"
    ):
        if task.owner_id is None:  # a pooled task is taken by one of its pool's CSMs
            pool = pools.get(task.pool_segment)
            if not pool:
                continue
            task.owner_id = pool[int(_share(seed, task.account.external_id, task.title, "pool") * len(pool))]
        overdue_days = (as_of - task.due_date).days
        done_share = next(share for days, share in DONE_SHARES if overdue_days > days)
        if _share(seed, task.account.external_id, task.title, task.due_date) >= done_share:
            continue
        night = task.created_at.date()
        latest = min(task.due_date + dt.timedelta(days=4), yesterday)
        if latest < night:
            continue
        spread = _share(seed, task.account.external_id, task.title, "day")
        day = night + dt.timedelta(days=int(spread * ((latest - night).days + 1)))
        task.status, task.completed_at, task.completed_by_id = Task.Status.DONE, _at(day, 16), task.owner_id
        done.append(task)
        timeline.append(
            {
                "account_id": task.account_id,
                "kind": Activity.Kind.TASK_DONE,
                "author_id": task.owner_id,
                "occurred_at": task.completed_at,
                "subject": gettext("Task done: %(title)s") % {"title": task.title},
                "body": task.description,
            }
        )
    Task.objects.bulk_update(done, ["owner", "status", "completed_at", "completed_by"], batch_size=1000)
    activities_create(activities=timeline)
    comments = _comments_write(
        seed=seed, done=done, overdue=tasks.filter(status=Task.Status.OPEN, due_date__lt=yesterday)
    )
    by_state: dict[str, int] = defaultdict(int)
    for status, due in tasks.values_list("status", "due_date"):
        by_state["tasks done" if status == Task.Status.DONE else "tasks overdue" if due < as_of else "tasks open"] += 1
    return {
        "tasks dated on their night": len(dated),
        "tasks finished now": len(done),
        "task comments": comments,
        **by_state,
    }


def _comments_write(*, seed: int, done: list[Task], overdue: QuerySet[Task]) -> int:
    """The owners' notes on a ``COMMENTED_SHARE`` of the tasks just done (two hours before finishing) and of the
    ``overdue`` ones with an owner and no note yet (the morning after their due date); how many were written."""
    notes = []
    for task in done:
        if _share(seed, task.pk, "note") < COMMENTED_SHARE:
            body = gettext(DONE_NOTES[int(_share(seed, task.pk, "done note") * len(DONE_NOTES))])
            at = max(task.completed_at - dt.timedelta(hours=2), task.created_at)
            notes.append(TaskComment(task_id=task.pk, author_id=task.owner_id, body=body, created_at=at))
    for task in overdue.filter(owner__isnull=False, comments__isnull=True).only("pk", "owner", "due_date"):
        if _share(seed, task.pk, "note") < COMMENTED_SHARE:
            body = gettext(OVERDUE_NOTES[int(_share(seed, task.pk, "overdue note") * len(OVERDUE_NOTES))])
            at = _at(task.due_date + dt.timedelta(days=1), 9)
            notes.append(TaskComment(task_id=task.pk, author_id=task.owner_id, body=body, created_at=at))
    TaskComment.objects.bulk_create(notes, batch_size=1000)
    return len(notes)
