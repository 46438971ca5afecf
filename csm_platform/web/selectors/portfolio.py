"""The portfolio: every account a user may read, with its latest nightly snapshot, journey stage, next renewal,
last CSM touch and open tasks, as one annotated queryset (filterable and sortable in SQL, one query per page).

The latest night's figures and today's calendar come from the accounts' stored rows (``AccountRow``, built after
each night and refreshed for the accounts that change, from ``annotated``: the same annotations), so a page is one
indexed query; another night, or a day the rows were not built for, reads the snapshots and the calendar live.

The page's evaluation date is the latest night with snapshots, or the night on or before the date the user picks
(``evaluation_date``); every figure of the snapshot is for that date, and trends compare with the snapshots 7 and
30 days before it. Calendar figures (next renewal, renewal windows, last touch, open tasks) are relative to
``today`` and labelled so.
"""

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import Account, Activity
from accounts.selectors import ZERO, contracts_live_on
from csm_platform.dates import day_end
from health.models import AccountSnapshot
from health.revenue import customer_lifetime_value

from ..models import AccountRow
from .journeys import with_current_stage, with_open_tasks
from .quality import Exclusions, exclusions, na_reason

TREND_DAYS = (7, 30)
RENEWAL_HORIZON_DAYS = 90


def latest_snapshot_date() -> dt.date | None:
    """The evaluation date of the latest nightly snapshots (None before the first night)."""
    return AccountSnapshot.objects.aggregate(latest=Max("as_of"))["latest"]


def evaluation_date(*, picked: dt.date | None = None) -> dt.date | None:
    """The page's evaluation date: the latest night, or the latest night on or before ``picked`` (None when there
    is none)."""
    if picked is None:
        return latest_snapshot_date()
    return AccountSnapshot.objects.filter(as_of__lte=picked).aggregate(latest=Max("as_of"))["latest"]


def _snapshot_on(day: dt.date | None) -> FilteredRelation:
    condition = Q(snapshots__as_of=day) if day else Q(snapshots__as_of__isnull=True)
    return FilteredRelation("snapshots", condition=condition)


def with_snapshot(accounts: QuerySet, *, as_of: dt.date | None, trend_days: tuple[int, ...] = (30,)) -> QuerySet:
    """Annotate the snapshot on ``as_of`` (``snapshot_id``, ``health``, ``band``, ``acv``, ``churn_probability``,
    ``risk_band``, ``churn_model_id``, ``snapshot_measures``, ``snapshot_problems``) and ``health_change_<n>``
    against the snapshot ``n`` days earlier for each of ``trend_days``. Without a snapshot every figure is None
    (shown N/A); a snapshot whose ``acv`` is None has the reason in its problems."""
    before = {days: as_of - dt.timedelta(days=days) if as_of else None for days in trend_days}
    return accounts.alias(
        snapshot=_snapshot_on(as_of), **{f"snapshot_{days}": _snapshot_on(day) for days, day in before.items()}
    ).annotate(
        snapshot_id=F("snapshot__id"),
        snapshot_as_of=F("snapshot__as_of"),
        health=F("snapshot__health"),
        band=F("snapshot__band"),
        acv=F("snapshot__acv"),
        churn_probability=F("snapshot__churn_probability"),
        risk_band=F("snapshot__risk_band"),
        churn_model_id=F("snapshot__churn_model_id"),
        snapshot_measures=F("snapshot__measures"),
        snapshot_problems=F("snapshot__problems"),
        **{f"health_change_{days}": F("snapshot__health") - F(f"snapshot_{days}__health") for days in trend_days},
    )


def with_next_renewal(accounts: QuerySet, *, today: dt.date) -> QuerySet:
    """Annotate ``next_renewal``: the earliest end date among the account's contracts live on ``today``."""
    ends = contracts_live_on(as_of=today).filter(account=OuterRef("pk")).order_by("end_date").values("end_date")[:1]
    return accounts.annotate(next_renewal=Subquery(ends))


def with_last_touch(accounts: QuerySet, *, today: dt.date) -> QuerySet:
    """Annotate ``last_touch``: the time of the latest CSM touch (call, meeting, email, QBR) up to ``today``."""
    touches = (
        Activity.objects.filter(account=OuterRef("pk"), kind__in=Activity.TOUCH_KINDS, occurred_at__lt=day_end(today))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return accounts.annotate(last_touch=Subquery(touches))


def annotated(accounts: QuerySet, *, as_of: dt.date | None, today: dt.date, trend_days: tuple[int, ...] = (30,)):
    """The accounts with the portfolio's annotations, read live: the snapshot on ``as_of`` and its trends, next
    renewal, last touch, stage and open tasks on ``today``."""
    accounts = with_snapshot(accounts, as_of=as_of, trend_days=trend_days)
    accounts = with_next_renewal(accounts, today=today)
    accounts = with_last_touch(accounts, today=today)
    accounts = with_current_stage(accounts)
    return with_open_tasks(accounts, today=today)


# The annotations of ``annotated`` (30-day trend) and the ``AccountRow`` field each is stored in.
ROW_FIELDS = {
    "snapshot_id": "snapshot_id",
    "snapshot_as_of": "snapshot_as_of",
    "health": "health",
    "band": "band",
    "health_change_30": "health_change_30",
    "acv": "acv",
    "churn_probability": "churn_probability",
    "risk_band": "risk_band",
    "churn_model_id": "churn_model_id",
    "snapshot_measures": "measures",
    "snapshot_problems": "problems",
    "next_renewal": "next_renewal",
    "last_touch": "last_touch",
    "stage_id": "stage_id",
    "stage_name": "stage_name",
    "stage_order": "stage_order",
    "open_tasks": "open_tasks",
}


def with_rows(accounts: QuerySet) -> QuerySet:
    """The accounts annotated as ``annotated`` does, from their stored rows (an account created since its row
    was built has no figures yet, and no open tasks)."""
    return accounts.annotate(
        **{name: F(f"list_row__{field}") for name, field in ROW_FIELDS.items() if name != "open_tasks"},
        open_tasks=Coalesce(F("list_row__open_tasks"), Value(0)),
    )


def rows_built_for(*, as_of: dt.date, today: dt.date) -> bool:
    """Every stored row is of the night ``as_of`` and today's calendar (one query): the intra-day refresh rebuilds
    the rows of a few accounts, which must not stand for a whole book built the day before."""
    counts = AccountRow.objects.aggregate(total=Count("pk"), current=Count("pk", filter=Q(as_of=as_of, built_on=today)))
    return counts["total"] > 0 and counts["current"] == counts["total"]


def portfolio_list(
    *, user, as_of: dt.date | None, today: dt.date, trend_days: tuple[int, ...] = (30,)
) -> QuerySet[Account]:
    """The accounts ``user`` may read, annotated for the portfolio table, the API and the CSV export (the account
    page asks for the 7-day trend too, read live): from the stored rows when they were built for ``as_of`` and
    ``today``."""
    accounts = Account.objects.visible_to(user).select_related("owner", "account_executive")
    if trend_days == (30,) and as_of is not None and rows_built_for(as_of=as_of, today=today):
        return with_rows(accounts)
    return annotated(accounts, as_of=as_of, today=today, trend_days=trend_days)


def with_current(accounts: QuerySet, *, as_of: dt.date | None) -> QuerySet:
    """The accounts annotated with their current figures (``current_health``, ``current_band``, ``current_at``) when
    these were re-scored for a later day than the night ``as_of`` (docs/concepts/point-in-time.md, "Current figures
    during the day"); else None. One join in the same query."""
    later = Q(current__as_of__gt=as_of) if as_of else Q(current__isnull=False)
    return accounts.annotate(
        current_health=Case(When(later, then=F("current__health"))),
        current_band=Case(When(later, then=F("current__band"))),
        current_at=Case(When(later, then=F("current__computed_at"))),
    )


def at_risk() -> Q:
    """docs/concepts/renewals-and-value.md: an account is at risk when its health is red or its churn risk is high."""
    return Q(band=AccountSnapshot.Band.RED) | Q(risk_band=AccountSnapshot.RiskBand.HIGH)


@dataclass(frozen=True)
class PortfolioFigures:
    accounts: int
    arr: Decimal  # Σ ACV of the snapshots on the evaluation date (accounts with ACV N/A left out)
    arr_at_risk: Decimal  # Σ ACV of the accounts in red health or high risk
    excluded: Exclusions  # the accounts whose ACV is N/A, left out of both sums
    accounts_at_risk: int
    renewals: int  # accounts whose next renewal is within RENEWAL_HORIZON_DAYS of today
    renewal_horizon_days: int
    median_health: float | None  # over the accounts with a score (N/A ones left out)
    scored: int


def portfolio_figures(*, accounts: QuerySet[Account], as_of: dt.date | None, today: dt.date) -> PortfolioFigures:
    """The header figures of exactly the filtered accounts (three queries)."""
    horizon = today + dt.timedelta(days=RENEWAL_HORIZON_DAYS)
    totals = accounts.order_by().aggregate(
        accounts=Count("pk"),
        arr=Sum("acv"),
        arr_at_risk=Sum("acv", filter=at_risk()),
        accounts_at_risk=Count("pk", filter=at_risk()),
        renewals=Count("pk", filter=Q(next_renewal__lte=horizon)),
    )
    scores = list(accounts.order_by().filter(health__isnull=False).values_list("health", flat=True))
    na = accounts.order_by().filter(snapshot_id__isnull=False, acv__isnull=True).values_list("snapshot_problems")
    return PortfolioFigures(
        accounts=totals["accounts"],
        arr=totals["arr"] or ZERO,
        arr_at_risk=totals["arr_at_risk"] or ZERO,
        excluded=exclusions(na_reason(problems, as_of) for (problems,) in na),
        accounts_at_risk=totals["accounts_at_risk"],
        renewals=totals["renewals"],
        renewal_horizon_days=RENEWAL_HORIZON_DAYS,
        median_health=statistics.median(scores) if scores else None,
        scored=len(scores),
    )


def acv_na_reason(account: Account) -> str:
    """Why an annotated account's ACV is N/A on its snapshot (empty when it has one, or has no snapshot)."""
    if account.acv is not None or account.snapshot_id is None:
        return ""
    return na_reason(account.snapshot_problems, account.snapshot_as_of)


def account_clv(account: Account) -> Decimal | None:
    """Remaining CLV of an annotated account from its snapshot's ACV and churn probability (``health.revenue``):
    the one computation behind the portfolio column, the account page, the API and the CSV export."""
    return customer_lifetime_value(acv=account.acv, churn_probability=account.churn_probability)


def receipt_inputs(measures: list[dict] | None, key: str) -> dict:
    """The inputs a snapshot's receipt recorded for measure ``key`` ({} when the scorecard lacks it)."""
    return next((m.get("inputs") or {} for m in measures or () if m.get("key") == key), {})
