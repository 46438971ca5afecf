"""Reads of playbooks: which accounts a playbook would fire for on a date (set-based, one condition at a time)
and how well each playbook worked.

A candidate is an account that passes the playbook's filter, meets all its conditions on ``as_of`` (AND), has not
fired for the same occurrence yet, and is out of the playbook's cooldown. See ``Playbook`` for each trigger's
occurrence. Evaluation is a read: the dry run and the nightly evaluation share it, only the latter writes.
"""

import datetime as dt
import hashlib
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, DateField, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts import selectors as account_selectors
from accounts.models import Account
from csm_platform.dates import day_end, utc_date
from health.models import AccountSnapshot

from ..models import Playbook, PlaybookCondition, PlaybookFiring, StageChange, SurveyResponse, Task, Trigger
from ..stats import too_few
from .journey import current_stages, stage_changes_known
from .occurrences import occurrence_sentence
from .surveys import DETRACTOR_UP_TO

RED, NA = AccountSnapshot.Band.RED, AccountSnapshot.Band.NA
# How far back the nightly evaluation looks for answers and stage changes (they also fire as they arrive).
EVENT_LOOKBACK_DAYS = 7
HEALTH_DROP_DAYS = 30
# Days after a firing at which its health outcome is read (effectiveness).
OUTCOME_DAYS = 30
EFFECTIVENESS_HORIZON_DAYS = 365
OCCURRENCE_KEY_LENGTH = PlaybookFiring._meta.get_field("occurrence_key").max_length


@dataclass(frozen=True)
class Occurrence:
    account_id: int
    key: str
    detail: dict = field(default_factory=dict)


def playbook_universe(*, playbook: Playbook, as_of: dt.date, account_ids: Iterable[int] | None = None) -> list[int]:
    """Accounts the playbook's filter lets through on ``as_of``: not churned, the segment, ACV at least, the stage."""
    accounts = Account.objects.exclude(status=Account.Status.CHURNED)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    if playbook.segment:
        accounts = accounts.filter(segment=playbook.segment)
    ids = list(accounts.order_by("pk").values_list("pk", flat=True))
    if ids and playbook.min_acv is not None:
        book = account_selectors.account_acv_book(as_of=as_of, account_ids=ids)
        # An ACV that is N/A (a missing rate) cannot be shown to reach the minimum: the account is left out.
        ids = [a for a in ids if book.get(a) is not None and book.get(a) >= playbook.min_acv]
    if ids and playbook.stage_id is not None:
        stages = current_stages(as_of=as_of, account_ids=ids)
        ids = [a for a in ids if stages.get(a) == playbook.stage_id]
    return ids


def _health_red(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """Red on ``as_of``; the occurrence is the red episode, keyed by its first red day (N/A nights don't end it)."""
    last_not_red = (
        AccountSnapshot.objects.filter(account_id=OuterRef("account_id"), as_of__lt=as_of)
        .exclude(band__in=[RED, NA])
        .order_by("-as_of")
        .values("as_of")[:1]
    )
    episode_start = (
        AccountSnapshot.objects.filter(
            account_id=OuterRef("account_id"),
            band=RED,
            as_of__lte=as_of,
            as_of__gt=Coalesce(OuterRef("last_not_red"), Value(dt.date.min, output_field=DateField())),
        )
        .order_by("as_of")
        .values("as_of")[:1]
    )
    rows = (
        AccountSnapshot.objects.filter(as_of=as_of, band=RED, account_id__in=ids)
        .annotate(last_not_red=Subquery(last_not_red))
        .annotate(episode_start=Subquery(episode_start))
        .values_list("account_id", "episode_start", "health")
    )
    return [
        Occurrence(account_id, f"red:{start.isoformat()}", {"health": health, "red_since": start.isoformat()})
        for account_id, start, health in rows
    ]


def _snapshot_values(ids: list[int], days: Iterable[dt.date], value: Callable[[dict], float | None]) -> dict:
    """``{(account_id, day): value(row)}`` for the accounts' snapshots on the given days (one query)."""
    rows = AccountSnapshot.objects.filter(account_id__in=ids, as_of__in=list(days)).values(
        "account_id", "as_of", "health", "measures"
    )
    return {(row["account_id"], row["as_of"]): value(row) for row in rows}


def _crossings(
    ids: list[int], as_of: dt.date, holds: Callable[[int, dt.date], tuple[bool, dict]], name: str
) -> list[Occurrence]:
    """Accounts for which ``holds`` on ``as_of`` but did not on the day before: keyed by ``as_of``."""
    yesterday = as_of - dt.timedelta(days=1)
    result = []
    for account_id in ids:
        now, detail = holds(account_id, as_of)
        if now and not holds(account_id, yesterday)[0]:
            result.append(Occurrence(account_id, f"{name}:{as_of.isoformat()}", detail))
    return result


def _health_drop(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """health(d) − health(d − 30) ≤ −threshold, starting tonight."""
    days = [as_of - dt.timedelta(days=n) for n in (0, 1, HEALTH_DROP_DAYS, HEALTH_DROP_DAYS + 1)]
    health = _snapshot_values(ids, days, lambda row: row["health"])

    def holds(account_id: int, day: dt.date) -> tuple[bool, dict]:
        now, before = health.get((account_id, day)), health.get((account_id, day - dt.timedelta(days=HEALTH_DROP_DAYS)))
        if now is None or before is None:
            return False, {}
        return now - before <= -condition.threshold, {"health": now, "health_30_days_before": before}

    return _crossings(ids, as_of, holds, "drop")


def _measure_below(measure_key: str) -> Callable[[PlaybookCondition, dt.date, list[int]], list[Occurrence]]:
    """The measure's raw input (from the snapshot's receipt) below the threshold, starting tonight."""

    def x_of(row: dict) -> float | None:
        return next((m.get("x") for m in row["measures"] or [] if m.get("key") == measure_key), None)

    def candidates(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
        x = _snapshot_values(ids, [as_of, as_of - dt.timedelta(days=1)], x_of)

        def holds(account_id: int, day: dt.date) -> tuple[bool, dict]:
            value = x.get((account_id, day))
            return value is not None and value < condition.threshold, {measure_key: value}

        return _crossings(ids, as_of, holds, measure_key)

    return candidates


def _renewal_within(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """The next contract end is within ``days``: one occurrence per end date."""
    ends = account_selectors.next_contract_ends(as_of=as_of, account_ids=ids)
    return [
        Occurrence(a, f"renewal:{end.isoformat()}", {"renews_on": end.isoformat(), "days": (end - as_of).days})
        for a, end in sorted(ends.items())
        if (end - as_of).days <= condition.days
    ]


def _detractor(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """An NPS answer of 0-6 in the last week: the latest per account, one occurrence per answer."""
    answers = SurveyResponse.objects.filter(
        account_id__in=ids,
        kind=SurveyResponse.Kind.NPS,
        score__lte=DETRACTOR_UP_TO,
        responded_at__gte=day_end(as_of - dt.timedelta(days=EVENT_LOOKBACK_DAYS)),
        responded_at__lt=day_end(as_of),
    ).order_by("account_id", "-responded_at", "-id")
    latest: dict[int, Occurrence] = {}
    for pk, account_id, score, responded_at in answers.values_list("pk", "account_id", "score", "responded_at"):
        detail = {"score": score, "responded_on": utc_date(responded_at).isoformat()}
        latest.setdefault(account_id, Occurrence(account_id, f"detractor:{pk}", detail))
    return list(latest.values())


def _no_executive_sponsor(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """No sponsor engaged in ``(as_of − days, as_of]``, among accounts customers for at least ``days``: one
    occurrence per last engagement (or "never")."""
    starts = account_selectors.first_contract_starts(as_of=as_of - dt.timedelta(days=condition.days), account_ids=ids)
    last = account_selectors.last_sponsor_engagement(as_of=as_of, account_ids=starts)
    cutoff = as_of - dt.timedelta(days=condition.days)
    result = []
    for account_id in sorted(starts):
        engaged = last.get(account_id)
        if engaged is None or engaged <= cutoff:
            key = engaged.isoformat() if engaged else "never"
            result.append(Occurrence(account_id, f"sponsor:{key}", {"last_engaged": engaged and engaged.isoformat()}))
    return result


def _stage_entered(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """A change into ``stage`` in the last week: one occurrence per change."""
    changes = StageChange.objects.filter(
        account_id__in=ids,
        to_stage_id=condition.stage_id,
        changed_at__gte=day_end(as_of - dt.timedelta(days=EVENT_LOOKBACK_DAYS)),
        changed_at__lt=day_end(as_of),
    ).order_by("account_id", "-changed_at", "-id")
    latest: dict[int, Occurrence] = {}
    for pk, account_id, changed_at in changes.values_list("pk", "account_id", "changed_at"):
        detail = {"stage": condition.stage.name, "entered_on": utc_date(changed_at).isoformat()}
        latest.setdefault(account_id, Occurrence(account_id, f"stage:{pk}", detail))
    return list(latest.values())


def _stage_longer_than(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """In ``stage`` on ``as_of`` and entered it more than ``days`` ago: one occurrence per entry."""
    result = []
    for account_id, changes in sorted(stage_changes_known(as_of=as_of, account_ids=ids).items()):
        entered = changes[-1]
        days = (as_of - entered.day).days
        if entered.to_stage_id == condition.stage_id and days > condition.days:
            detail = {"stage": condition.stage.name, "entered_on": entered.day.isoformat(), "days": days}
            result.append(Occurrence(account_id, f"in_stage:{condition.stage_id}:{entered.day.isoformat()}", detail))
    return result


def _no_touch(condition: PlaybookCondition, as_of: dt.date, ids: list[int]) -> list[Occurrence]:
    """No CSM touch for ``days`` (never touched: counted from the first contract start): one occurrence per last
    touch (or "never")."""
    last = account_selectors.last_touch_dates(as_of=as_of, account_ids=ids)
    starts = account_selectors.first_contract_starts(as_of=as_of, account_ids=ids)
    result = []
    for account_id in ids:
        since = last.get(account_id) or starts.get(account_id)
        if since is None or (as_of - since).days < condition.days:
            continue
        touched = last.get(account_id)
        key = touched.isoformat() if touched else "never"
        detail = {"last_touch": touched and touched.isoformat(), "days": (as_of - since).days}
        result.append(Occurrence(account_id, f"touch:{key}", detail))
    return result


TRIGGERS: dict[str, Callable[[PlaybookCondition, dt.date, list[int]], list[Occurrence]]] = {
    Trigger.HEALTH_RED: _health_red,
    Trigger.HEALTH_DROP: _health_drop,
    Trigger.USAGE_TREND_BELOW: _measure_below("usage_trend"),
    Trigger.LICENSE_UTILIZATION_BELOW: _measure_below("license_utilization"),
    Trigger.RENEWAL_WITHIN: _renewal_within,
    Trigger.DETRACTOR: _detractor,
    Trigger.NO_EXECUTIVE_SPONSOR: _no_executive_sponsor,
    Trigger.STAGE_ENTERED: _stage_entered,
    Trigger.NO_TOUCH: _no_touch,
    Trigger.STAGE_LONGER_THAN: _stage_longer_than,
}


def occurrence_key(keys: list[str]) -> str:
    """One occurrence of all the conditions: their keys joined (a single condition keeps its own key, so firings
    recorded before playbooks had several conditions still count); hashed when too long for the column."""
    key = "|".join(keys)
    return key if len(key) <= OCCURRENCE_KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def conditions_met(
    *, conditions: Iterable[PlaybookCondition], as_of: dt.date, account_ids: list[int]
) -> list[Occurrence]:
    """The accounts that meet every condition on ``as_of`` (AND), each condition evaluated only on the accounts
    the previous ones left; the occurrence's detail holds each condition's inputs under its trigger."""
    conditions = sorted(conditions, key=lambda c: c.trigger)
    if not conditions:
        return []
    found: dict[int, list[Occurrence]] = {a: [] for a in account_ids}
    for condition in conditions:
        if not found:
            break
        met = {o.account_id: o for o in TRIGGERS[condition.trigger](condition, as_of, sorted(found))}
        found = {a: [*parts, met[a]] for a, parts in found.items() if a in met}
    return [
        Occurrence(
            account_id,
            occurrence_key([part.key for part in parts]),
            {condition.trigger: part.detail for condition, part in zip(conditions, parts, strict=True)},
        )
        for account_id, parts in sorted(found.items())
    ]


def playbook_candidates(
    *, playbook: Playbook, as_of: dt.date, account_ids: Iterable[int] | None = None
) -> list[Occurrence]:
    """The occurrences the playbook would fire on ``as_of``: filter, all the conditions, minus occurrences already
    fired and accounts in cooldown (a firing less than ``cooldown_days`` away from ``as_of``). Writes nothing."""
    ids = playbook_universe(playbook=playbook, as_of=as_of, account_ids=account_ids)
    if not ids:
        return []
    conditions = playbook.conditions.select_related("stage")
    found = conditions_met(conditions=conditions, as_of=as_of, account_ids=ids)
    if not found:
        return []
    firings = PlaybookFiring.objects.filter(playbook=playbook, account_id__in={o.account_id for o in found})
    fired = set(firings.filter(occurrence_key__in={o.key for o in found}).values_list("account_id", "occurrence_key"))
    cooling: set[int] = set()
    if playbook.cooldown_days:
        window = dt.timedelta(days=playbook.cooldown_days - 1)
        cooling = set(
            firings.filter(as_of__range=(as_of - window, as_of + window)).values_list("account_id", flat=True)
        )
    return sorted(
        (o for o in found if (o.account_id, o.key) not in fired and o.account_id not in cooling),
        key=lambda o: (o.account_id, o.key),
    )


# Effectiveness -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effectiveness:
    playbook_id: int
    firings: int
    accounts: int
    tasks: int
    tasks_done: int
    tasks_done_on_time: int
    tasks_overdue: int
    # Mean health change over the 30 days after firing (firings whose outcome is known), and the same for similar
    # accounts (same segment and band on the firing day) that did not fire that day; None without data.
    health_change_fired: float | None
    health_change_similar: float | None
    outcomes: int

    @property
    def too_few(self) -> bool:
        """The health comparison is a mean over ``outcomes`` firings: too few to compare under 5."""
        return too_few(self.outcomes)

    @property
    def lift(self) -> float | None:
        if self.health_change_fired is None or self.health_change_similar is None:
            return None
        return self.health_change_fired - self.health_change_similar


def playbook_effectiveness(*, playbook_ids: Iterable[int], as_of: dt.date) -> dict[int, Effectiveness]:
    """Per playbook: accounts that fired, tasks done (on time: completed on or before the due date), and health 30
    days after firing compared with similar accounts that did not fire. Firings of the last year whose outcome
    day has passed count for health. A handful of aggregate queries for all the playbooks."""
    ids = list(playbook_ids)
    end = day_end(as_of)
    firing_counts = {
        row["playbook_id"]: row
        for row in PlaybookFiring.objects.filter(playbook_id__in=ids, as_of__lte=as_of)
        .values("playbook_id")
        .annotate(n=Count("id"), accounts=Count("account_id", distinct=True))
    }
    done = Q(status=Task.Status.DONE, completed_at__lt=end)
    task_counts = {
        row["playbook_id"]: row
        for row in Task.objects.filter(playbook_id__in=ids, created_at__lt=end)
        .values("playbook_id")
        .annotate(
            n=Count("id"),
            done=Count("id", filter=done),
            on_time=Count("id", filter=done & Q(completed_at__date__lte=F("due_date"))),
            overdue=Count("id", filter=~done & Q(due_date__lt=as_of)),
        )
    }
    changes = _health_changes(playbook_ids=ids, as_of=as_of)
    result = {}
    for playbook_id in ids:
        firing_row, task_row = firing_counts.get(playbook_id, {}), task_counts.get(playbook_id, {})
        fired, similar = changes.get(playbook_id, ([], []))
        result[playbook_id] = Effectiveness(
            playbook_id=playbook_id,
            firings=firing_row.get("n", 0),
            accounts=firing_row.get("accounts", 0),
            tasks=task_row.get("n", 0),
            tasks_done=task_row.get("done", 0),
            tasks_done_on_time=task_row.get("on_time", 0),
            tasks_overdue=task_row.get("overdue", 0),
            health_change_fired=statistics.fmean(fired) if fired else None,
            health_change_similar=statistics.fmean(similar) if similar else None,
            outcomes=len(fired),
        )
    return result


def _health_changes(*, playbook_ids: list[int], as_of: dt.date) -> dict[int, tuple[list[float], list[float]]]:
    """Per playbook: the health change of each firing with a known outcome, and, matched to each, the mean change
    of the similar accounts that did not fire on that day (only firings with at least one similar account)."""
    firings = list(
        PlaybookFiring.objects.filter(
            playbook_id__in=playbook_ids,
            as_of__lte=as_of - dt.timedelta(days=OUTCOME_DAYS),
            as_of__gt=as_of - dt.timedelta(days=EFFECTIVENESS_HORIZON_DAYS),
        ).values_list("playbook_id", "account_id", "as_of")
    )
    if not firings:
        return {}
    days = sorted({day for _, _, day in firings})
    outcome_on = Case(
        *[When(as_of=day, then=Value(day + dt.timedelta(days=OUTCOME_DAYS))) for day in days],
        output_field=DateField(),
    )
    later = AccountSnapshot.objects.filter(account_id=OuterRef("account_id"), as_of=OuterRef("outcome_on"))
    snapshots = (
        AccountSnapshot.objects.filter(as_of__in=days, health__isnull=False)
        .annotate(outcome_on=outcome_on)
        .annotate(health_later=Subquery(later.values("health")[:1]))
        .filter(health_later__isnull=False)
    )
    # Every account's change, summed per (day, segment, band): the pool similar accounts are drawn from.
    cells: dict[tuple, tuple[int, float]] = {
        (row["as_of"], row["account__segment"], row["band"]): (row["n"], row["total"])
        for row in snapshots.values("as_of", "account__segment", "band").annotate(
            n=Count("id"), total=Sum(F("health_later") - F("health"))
        )
    }
    fired_accounts = {account_id for _, account_id, _ in firings}
    own = {
        (row["account_id"], row["as_of"]): (row["health_later"] - row["health"], row["account__segment"], row["band"])
        for row in snapshots.filter(account_id__in=fired_accounts).values(
            "account_id", "as_of", "health", "health_later", "account__segment", "band"
        )
    }
    fired_in_cell: dict[tuple, dict[tuple, list[float]]] = defaultdict(lambda: defaultdict(list))
    for playbook_id, account_id, day in firings:
        if (account_id, day) in own:
            change, segment, band = own[(account_id, day)]
            fired_in_cell[playbook_id][(day, segment, band)].append(change)
    result: dict[int, tuple[list[float], list[float]]] = {}
    for playbook_id, by_cell in fired_in_cell.items():
        fired, similar = [], []
        for cell, changes in by_cell.items():
            n, total = cells[cell]
            others = n - len(changes)
            if others <= 0:
                continue
            mean_others = (total - math.fsum(changes)) / others
            fired += changes
            similar += [mean_others] * len(changes)
        result[playbook_id] = (fired, similar)
    return result


@dataclass(frozen=True)
class DryRunRow:
    account_id: int
    account_name: str
    owner: str
    acv: Decimal | None  # N/A when a rate is missing
    health: int | None
    band: str
    occurrence_key: str
    why: str


@dataclass(frozen=True)
class DryRun:
    as_of: dt.date
    rows: list[DryRunRow]  # by ACV, highest first (N/A last)

    @property
    def total_acv(self) -> Decimal:
        return sum((row.acv for row in self.rows if row.acv is not None), Decimal(0))

    @property
    def acv_na(self) -> int:
        """Accounts whose ACV is N/A: left out of the total."""
        return sum(1 for row in self.rows if row.acv is None)


def playbook_dry_run(*, playbook: Playbook, as_of: dt.date) -> DryRun:
    """The accounts the playbook would fire for on ``as_of``, by ARR (ACV on ``as_of``), with their owner, health
    and a sentence of why; nothing is written."""
    occurrences = playbook_candidates(playbook=playbook, as_of=as_of)
    ids = [o.account_id for o in occurrences]
    book = account_selectors.account_acv_book(as_of=as_of, account_ids=ids)
    accounts = {
        row["pk"]: row
        for row in Account.objects.filter(pk__in=ids).values(
            "pk", "name", "owner__username", "owner__first_name", "owner__last_name"
        )
    }
    health = {
        row["account_id"]: row
        for row in AccountSnapshot.objects.filter(account_id__in=ids, as_of=as_of).values(
            "account_id", "health", "band"
        )
    }
    rows = []
    for o in occurrences:
        account = accounts[o.account_id]
        owner = " ".join(filter(None, [account["owner__first_name"], account["owner__last_name"]]))
        snapshot = health.get(o.account_id, {})
        rows.append(
            DryRunRow(
                account_id=o.account_id,
                account_name=account["name"],
                owner=owner or account["owner__username"] or "",
                acv=book.get(o.account_id),
                health=snapshot.get("health"),
                band=snapshot.get("band", NA),
                occurrence_key=o.key,
                why=occurrence_sentence(detail=o.detail, as_of=as_of),
            )
        )
    rows.sort(key=lambda row: (row.acv is None, -(row.acv or 0), row.account_name, row.account_id))
    return DryRun(as_of=as_of, rows=rows)
