"""Reads of the journey: stages on a date, the funnel, time in stage, days to Adoption and time to value.

Everything comes from the ``StageChange`` record (and, for time to value, contracts and first product use), as
known on ``as_of``. Durations are whole days between UTC dates.

- Reached a stage: the account's furthest stage (by order) on ``as_of`` is that stage or a later one. Conversion
  from a stage to the next = reached(next) / reached(stage).
- Time in stage: a stay starts with the change into the stage and ends with the account's next change; the
  median is over the stays that ended on or before ``as_of`` (``n``), the stays still running are counted apart.
- Days to Adoption: from the account's first recorded change to its first change into the adoption stage or a
  later one; accounts still on the way count as censored at ``as_of`` (Kaplan-Meier). Accounts whose first record
  is already at or past Adoption are left out.
- Time to value (docs/concepts/usage.md): from the first contract start to the value milestone (the settings' value
  event, else reaching the adoption stage); per segment, Kaplan-Meier with accounts still onboarding censored at
  ``as_of`` (churned ones at their churn date). Value reached before the contract started counts as 0 days.
"""

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from accounts import selectors as account_selectors
from accounts.models import Account
from accounts.usage.selectors import feature_first_use
from csm_platform.dates import day_end, utc_date

from ..models import Stage, StageChange
from ..stats import kaplan_meier, survival_quantile, too_few
from .surveys import journey_settings_get


@dataclass(frozen=True)
class Change:
    account_id: int
    from_stage_id: int | None
    to_stage_id: int
    day: dt.date


def stage_changes_known(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> dict[int, list[Change]]:
    """Each account's changes on or before ``as_of``, oldest first (one query)."""
    rows = StageChange.objects.filter(changed_at__lt=day_end(as_of))
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    changes: dict[int, list[Change]] = defaultdict(list)
    for account_id, from_id, to_id, changed_at in rows.order_by("account_id", "changed_at", "id").values_list(
        "account_id", "from_stage_id", "to_stage_id", "changed_at"
    ):
        changes[account_id].append(Change(account_id, from_id, to_id, utc_date(changed_at)))
    return changes


def current_stages(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> dict[int, int]:
    """``{account_id: stage_id}`` on ``as_of``: the target of each account's latest change by then."""
    return {
        a: changes[-1].to_stage_id for a, changes in stage_changes_known(as_of=as_of, account_ids=account_ids).items()
    }


def account_stage_history(*, account_id: int) -> list[StageChange]:
    return list(
        StageChange.objects.filter(account_id=account_id)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")
    )


@dataclass(frozen=True)
class FunnelRow:
    stage: Stage
    current: int
    reached: int
    conversion_to_next: float | None  # None for the last stage, or nobody reached this one
    median_days_in_stage: float | None
    completed_stays: int
    open_stays: int

    @property
    def conversion_too_few(self) -> bool:
        """The conversion is a rate over the accounts that reached the stage: too few to compare under 5."""
        return too_few(self.reached)

    @property
    def median_too_few(self) -> bool:
        return too_few(self.completed_stays)


@dataclass(frozen=True)
class KaplanMeierSummary:
    median: float | None
    p90: float | None
    reached: int
    censored: int

    @property
    def n(self) -> int:
        """Accounts the estimate is over (reached and censored)."""
        return self.reached + self.censored

    @property
    def too_few(self) -> bool:
        return too_few(self.n)


@dataclass(frozen=True)
class Funnel:
    as_of: dt.date
    rows: list[FunnelRow]
    days_to_adoption: KaplanMeierSummary | None  # None without an adoption stage


def _summary(durations: list[float], observed: list[bool]) -> KaplanMeierSummary:
    steps = kaplan_meier(durations, observed)
    return KaplanMeierSummary(
        median=survival_quantile(steps, 0.5),
        p90=survival_quantile(steps, 0.9),
        reached=sum(observed),
        censored=len(observed) - sum(observed),
    )


def journey_funnel(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> Funnel:
    """Stage counts on ``as_of``, accounts that reached each stage, conversion to the next stage, median days in
    stage, and days to Adoption (Kaplan-Meier). Two queries."""
    stages = list(Stage.objects.order_by("order"))
    order = {stage.pk: stage.order for stage in stages}
    changes = stage_changes_known(as_of=as_of, account_ids=account_ids)
    current: dict[int, int] = defaultdict(int)
    furthest: list[int] = []
    stays: dict[int, list[int]] = defaultdict(list)
    open_stays: dict[int, int] = defaultdict(int)
    for history in changes.values():
        current[history[-1].to_stage_id] += 1
        furthest.append(max(order[change.to_stage_id] for change in history))
        for change, following in zip(history, history[1:], strict=False):
            stays[change.to_stage_id].append((following.day - change.day).days)
        open_stays[history[-1].to_stage_id] += 1

    reached = [sum(1 for f in furthest if f >= stage.order) for stage in stages]
    rows = []
    for position, stage in enumerate(stages):
        following = reached[position + 1] if position + 1 < len(stages) else None
        durations = stays.get(stage.pk, [])
        rows.append(
            FunnelRow(
                stage=stage,
                current=current.get(stage.pk, 0),
                reached=reached[position],
                conversion_to_next=None
                if following is None or not reached[position]
                else following / reached[position],
                median_days_in_stage=statistics.median(durations) if durations else None,
                completed_stays=len(durations),
                open_stays=open_stays.get(stage.pk, 0),
            )
        )
    adoption = journey_settings_get().adoption_stage
    days_to_adoption = None
    if adoption is not None:
        durations, observed = [], []
        for history in changes.values():
            if order[history[0].to_stage_id] >= adoption.order:
                continue
            start = history[0].day
            arrival = next((c.day for c in history if order[c.to_stage_id] >= adoption.order), None)
            durations.append(((arrival or as_of) - start).days)
            observed.append(arrival is not None)
        days_to_adoption = _summary(durations, observed)
    return Funnel(as_of=as_of, rows=rows, days_to_adoption=days_to_adoption)


def value_reached_on(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """The day each account first reached the value milestone, on or before ``as_of``."""
    ids = list(account_ids)
    settings = journey_settings_get()
    if settings.value_event:
        first = feature_first_use(event_name=settings.value_event, account_ids=ids)
        return {a: utc_date(moment) for a, moment in first.items() if moment < day_end(as_of)}
    if settings.adoption_stage_id is None:
        return {}
    adoption_order = settings.adoption_stage.order
    reached = StageChange.objects.filter(
        account_id__in=ids, changed_at__lt=day_end(as_of), to_stage__order__gte=adoption_order
    )
    result: dict[int, dt.date] = {}
    for account_id, changed_at in reached.order_by("account_id", "changed_at").values_list("account_id", "changed_at"):
        result.setdefault(account_id, utc_date(changed_at))
    return result


@dataclass(frozen=True)
class TimeToValueRow:
    segment: str
    label: str
    summary: KaplanMeierSummary


def time_to_value(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> list[TimeToValueRow]:
    """TTV median and p90 per segment (Kaplan-Meier, onboarding accounts censored), over accounts whose first
    contract started on or before ``as_of``."""
    accounts = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=list(account_ids))
    info = {
        pk: (segment, churned_on) for pk, segment, churned_on in accounts.values_list("pk", "segment", "churned_on")
    }
    starts = account_selectors.first_contract_starts(as_of=as_of, account_ids=info)
    reached = value_reached_on(as_of=as_of, account_ids=starts)
    by_segment: dict[str, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    for account_id, start in starts.items():
        segment, churned_on = info[account_id]
        durations, observed = by_segment[segment]
        if account_id in reached:
            durations.append(max(0, (reached[account_id] - start).days))
            observed.append(True)
        else:
            end = min(as_of, churned_on) if churned_on else as_of
            durations.append(max(0, (end - start).days))
            observed.append(False)
    labels = dict(Account.Segment.choices)
    return [
        TimeToValueRow(segment, str(labels.get(segment, segment)), _summary(*by_segment[segment]))
        for segment in Account.Segment.values
        if segment in by_segment
    ]
