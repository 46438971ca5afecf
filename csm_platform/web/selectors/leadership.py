"""The leadership dashboard: ARR by month and its movements, retention trends, health bands over time, $1M
customers, a row per CSM and time to value. Everything is read from the nightly snapshots (revenue and account)
and contracts, set-based: a fixed number of queries whatever the number of accounts."""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, DecimalField, F, FilteredRelation, Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Account, User
from accounts.selectors import ZERO
from health.models import AccountSnapshot, RevenueSnapshot
from health.revenue import Period, Retention, period_acv, retention_from_period, year_before
from journeys.selectors.journey import TimeToValueRow, time_to_value

from .journeys import overdue_tasks_by_owner

MONTHS = 13
MILLION = Decimal(1_000_000)


def latest_revenue() -> RevenueSnapshot | None:
    return RevenueSnapshot.objects.order_by("-as_of").first()


def _month_ends(days: list[dt.date]) -> list[dt.date]:
    """The last of the given days in each calendar month, in order."""
    last: dict[tuple[int, int], dt.date] = {}
    for day in sorted(days):
        last[(day.year, day.month)] = day
    return sorted(last.values())


def revenue_by_month(*, as_of: dt.date, months: int = MONTHS) -> pd.DataFrame:
    """The revenue snapshot at each month's last night over ``months`` months up to ``as_of``: columns month (the
    date), arr, customers, million_customers, nrr, grr, logo_churn."""
    columns = ["as_of", "arr", "customers", "million_customers", "nrr", "grr", "logo_churn"]
    rows = RevenueSnapshot.objects.filter(as_of__gt=as_of - dt.timedelta(days=31 * months), as_of__lte=as_of)
    frame = pd.DataFrame.from_records(list(rows.order_by("as_of").values_list(*columns)), columns=columns)
    if frame.empty:
        return frame.rename(columns={"as_of": "month"})
    frame = frame[frame["as_of"].isin(_month_ends(list(frame["as_of"])))]
    return frame.rename(columns={"as_of": "month"}).reset_index(drop=True)


def snapshot_month_ends(*, as_of: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The last night with account snapshots in each of the last ``months`` months."""
    days = (
        AccountSnapshot.objects.filter(as_of__gt=as_of - dt.timedelta(days=31 * months), as_of__lte=as_of)
        .order_by()
        .values_list("as_of", flat=True)
        .distinct()
    )
    return _month_ends(list(days))


def _movement(start: dt.date, end: dt.date) -> dict[str, Decimal]:
    """New, expansion, contraction and churn between two nights' snapshot ACVs (DOMAIN.md's waterfall terms):
    one aggregate query over every account."""
    money = DecimalField(max_digits=16, decimal_places=2)
    zero = Value(ZERO, output_field=money)
    before, after = F("acv_start"), F("acv_end")
    totals = (
        Account.objects.alias(
            s0=FilteredRelation("snapshots", condition=Q(snapshots__as_of=start)),
            s1=FilteredRelation("snapshots", condition=Q(snapshots__as_of=end)),
        )
        .annotate(acv_start=Coalesce("s0__acv", zero), acv_end=Coalesce("s1__acv", zero))
        .aggregate(
            new=Sum(after, filter=Q(acv_start=0, acv_end__gt=0)),
            churn=Sum(before, filter=Q(acv_start__gt=0, acv_end=0)),
            expansion=Sum(after - before, filter=Q(acv_start__gt=0, acv_end__gt=before)),
            contraction=Sum(before - after, filter=Q(acv_end__gt=0, acv_end__lt=before)),
        )
    )
    return {key: value or ZERO for key, value in totals.items()}


def arr_movements(*, month_ends: list[dt.date]) -> pd.DataFrame:
    """Per month (its last night against the previous month's): new, expansion, contraction, churn and the net
    change = new + expansion − contraction − churn."""
    rows = []
    for start, end in zip(month_ends, month_ends[1:], strict=False):
        moved = _movement(start, end)
        net = moved["new"] + moved["expansion"] - moved["contraction"] - moved["churn"]
        rows.append({"month": end, **moved, "net": net})
    return pd.DataFrame(rows, columns=["month", "new", "expansion", "contraction", "churn", "net"])


def band_distribution(*, days: list[dt.date]) -> pd.DataFrame:
    """Accounts per health band on each of ``days``: columns as_of, red, yellow, green, na."""
    rows = (
        AccountSnapshot.objects.filter(as_of__in=days)
        .values("as_of", "band")
        .annotate(n=Count("id"))
        .values_list("as_of", "band", "n")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["as_of", "band", "n"])
    if frame.empty:
        return pd.DataFrame(columns=["as_of", "red", "yellow", "green", "na"])
    table = frame.pivot_table(index="as_of", columns="band", values="n", aggfunc="sum", fill_value=0)
    return table.reindex(columns=["red", "yellow", "green", "na"], fill_value=0).reset_index()


def million_dollar_accounts(*, as_of: dt.date | None) -> list[AccountSnapshot]:
    """Snapshots on ``as_of`` with ACV ≥ 1,000,000 in the reporting currency, largest first."""
    return list(
        AccountSnapshot.objects.filter(as_of=as_of, acv__gte=MILLION)
        .select_related("account__owner")
        .order_by("-acv", "account__name")
    )


@dataclass(frozen=True)
class CsmRow:
    user: User
    accounts: int
    arr: Decimal
    retention: Retention  # of the CSM's current book over the trailing twelve months
    median_health: float | None
    scored: int
    overdue_tasks: int


def csm_rows(*, as_of: dt.date, today: dt.date) -> list[CsmRow]:
    """A row per CSM owning accounts: accounts, ARR (latest snapshots), NRR and GRR of their current book over the
    trailing twelve months (ACV from contracts on both dates), median health, overdue tasks."""
    owners = dict(Account.objects.filter(owner__isnull=False).order_by().values_list("pk", "owner_id"))
    books: dict[int, list[int]] = defaultdict(list)
    for account_id, owner_id in owners.items():
        books[owner_id].append(account_id)
    snapshots = AccountSnapshot.objects.filter(as_of=as_of, account__owner__isnull=False)
    arr = dict(snapshots.values("account__owner").annotate(arr=Sum("acv")).values_list("account__owner", "arr"))
    scores: dict[int, list[float]] = defaultdict(list)
    for owner_id, health in snapshots.filter(health__isnull=False).values_list("account__owner", "health"):
        scores[owner_id].append(health)
    period = period_acv(start=year_before(as_of), end=as_of)
    overdue = overdue_tasks_by_owner(today=today)
    users = User.objects.filter(pk__in=books).select_related("team").order_by("first_name", "last_name", "username")
    return [
        CsmRow(
            user=user,
            accounts=len(books[user.pk]),
            arr=arr.get(user.pk) or ZERO,
            retention=retention_from_period(_book_of(period, books[user.pk])),
            median_health=statistics.median(scores[user.pk]) if scores[user.pk] else None,
            scored=len(scores[user.pk]),
            overdue_tasks=overdue.get(user.pk, 0),
        )
        for user in users
    ]


def _book_of(period: Period, account_ids: list[int]) -> Period:
    """The period restricted to some accounts (a CSM's book)."""
    ids = set(account_ids)

    def mine(values: dict[int, Decimal]) -> dict[int, Decimal]:
        return {a: value for a, value in values.items() if a in ids}

    return Period(
        start=period.start,
        end=period.end,
        acv_start=mine(period.acv_start),
        acv_end=mine(period.acv_end),
        start_reported=mine(period.start_reported),
        excluded=[item for item in period.excluded if item["account_id"] in ids],
    )


@dataclass(frozen=True)
class Leadership:
    as_of: dt.date | None
    today: dt.date
    revenue: RevenueSnapshot | None
    by_month: pd.DataFrame
    movements: pd.DataFrame
    bands: pd.DataFrame
    millions: list[AccountSnapshot]
    csms: list[CsmRow]
    time_to_value: list[TimeToValueRow]


def leadership(*, as_of: dt.date | None, today: dt.date) -> Leadership:
    month_ends = snapshot_month_ends(as_of=as_of) if as_of else []
    return Leadership(
        as_of=as_of,
        today=today,
        revenue=latest_revenue(),
        by_month=revenue_by_month(as_of=as_of) if as_of else pd.DataFrame(),
        movements=arr_movements(month_ends=month_ends),
        bands=band_distribution(days=month_ends),
        millions=million_dollar_accounts(as_of=as_of),
        csms=csm_rows(as_of=as_of, today=today) if as_of else [],
        time_to_value=time_to_value(as_of=today),
    )
