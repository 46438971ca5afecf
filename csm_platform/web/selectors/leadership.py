"""The leadership dashboard for one evaluation date (the latest night, or the night picked).

The night computes what it shows (``leadership_night``, stored by ``services.leadership_night_write`` after each
recompute): ARR, customers, $1M customers, retention, the twelve-month bridge, the monthly movements and the ARR by
month from one set of ACV books read from the contracts (``accounts.selectors.account_acv_book``, the function the
revenue snapshot uses), so that they agree with each other; the bands per month, the figures of each CSM's book,
CLV by segment from the account snapshots (as the portfolio shows it), and time to value. A back-dated contract
moves them when the nights it touches are recomputed. The page (``leadership``) reads the stored night, with the
retention history of the revenue snapshots and, relative to today, each CSM's overdue tasks: a fixed number of
queries whatever the number of accounts. Every total says which accounts it leaves out (ACV N/A)."""

import dataclasses
import datetime as dt
import statistics
import types
import typing
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count

from accounts.models import Account, User
from accounts.selectors import ZERO, AcvBook, account_acv_book, million_dollar_customers
from health.models import AccountSnapshot, RevenueSnapshot
from health.revenue import (
    Period,
    Retention,
    Waterfall,
    customer_lifetime_value,
    period_from_books,
    retention_from_period,
    waterfall_from_period,
    year_before,
)
from journeys.selectors.journey import TimeToValueRow, time_to_value

from ..models import LeadershipNight
from .journeys import overdue_tasks_by_owner
from .quality import Exclusions, book_exclusions, exclusions, na_reason

MONTHS = 13
MILLION = Decimal(1_000_000)


def month_boundaries(*, as_of: dt.date) -> list[dt.date]:
    """A year before ``as_of``, the last day of each month in between, and ``as_of``: the dates of the monthly
    movements, whose sum is the year's bridge."""
    start = year_before(as_of)
    days, month = [start], dt.date(start.year, start.month, 1)
    while True:
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        last = following - dt.timedelta(days=1)
        if last >= as_of:
            break
        if last > start:
            days.append(last)
        month = following
    return [*days, as_of]


@dataclass(frozen=True)
class Revenue:
    """Revenue on the evaluation date, from the contracts."""

    as_of: dt.date
    arr: Decimal  # Σ ACV of the accounts that have one
    customers: int  # accounts with ACV > 0
    million_customers: int
    retention: Retention  # trailing twelve months, constant currency
    bridge: Waterfall  # trailing twelve months
    excluded: Exclusions  # accounts whose ACV is N/A on the evaluation date, left out of ARR
    retention_excluded: Exclusions  # accounts left out of retention and the bridge (N/A on either date)


@dataclass(frozen=True)
class RevenueBooks:
    revenue: Revenue
    period: Period  # the trailing twelve months (per-CSM retention)
    end: AcvBook
    by_month: pd.DataFrame  # month, arr (at each boundary, as reported)
    movements: pd.DataFrame  # month, currency_effect, new, expansion, contraction, churn, net


def revenue_books(*, as_of: dt.date) -> RevenueBooks:
    """One ACV book per month boundary (as reported) and one per month at its end's rates (constant currency), and
    every revenue figure from them: two queries a book at most."""
    days = month_boundaries(as_of=as_of)
    reported = {day: account_acv_book(as_of=day) for day in days}
    rows = []
    for start, end in zip(days, days[1:], strict=False):
        month = waterfall_from_period(
            period_from_books(
                start=reported[start],
                start_constant=account_acv_book(as_of=start, rates_on=end),
                end=reported[end],
            )
        )
        net = month.currency_effect + month.new + month.expansion - month.contraction - month.churn
        rows.append(
            {
                "month": end,
                "currency_effect": month.currency_effect,
                "new": month.new,
                "expansion": month.expansion,
                "contraction": month.contraction,
                "churn": month.churn,
                "net": net,
            }
        )
    first, book = days[0], reported[as_of]
    period = period_from_books(
        start=reported[first], start_constant=account_acv_book(as_of=first, rates_on=as_of), end=book
    )
    revenue = Revenue(
        as_of=as_of,
        arr=book.total,
        customers=sum(1 for value in book.acv.values() if value > 0),
        million_customers=million_dollar_customers(book=book),
        retention=retention_from_period(period),
        bridge=waterfall_from_period(period),
        excluded=book_exclusions(book.excluded),
        retention_excluded=book_exclusions(period.excluded),
    )
    return RevenueBooks(
        revenue=revenue,
        period=period,
        end=book,
        by_month=pd.DataFrame(
            [{"month": day, "arr": reported[day].total} for day in days[1:]], columns=["month", "arr"]
        ),
        movements=pd.DataFrame(
            rows, columns=["month", "currency_effect", "new", "expansion", "contraction", "churn", "net"]
        ),
    )


def retention_history(*, as_of: dt.date, months: int = MONTHS) -> pd.DataFrame:
    """NRR, GRR and logo churn as each month's last nightly revenue snapshot up to ``as_of`` recorded them:
    columns month (the date), nrr, grr, logo_churn."""
    columns = ["as_of", "nrr", "grr", "logo_churn"]
    rows = RevenueSnapshot.objects.filter(as_of__gt=as_of - dt.timedelta(days=31 * months), as_of__lte=as_of)
    frame = pd.DataFrame.from_records(list(rows.order_by("as_of").values_list(*columns)), columns=columns)
    if not frame.empty:
        frame = frame[frame["as_of"].isin(_month_ends(list(frame["as_of"])))]
    return frame.rename(columns={"as_of": "month"}).reset_index(drop=True)


def _month_ends(days: list[dt.date]) -> list[dt.date]:
    """The last of the given days in each calendar month, in order."""
    last: dict[tuple[int, int], dt.date] = {}
    for day in sorted(days):
        last[(day.year, day.month)] = day
    return sorted(last.values())


def snapshot_month_ends(*, as_of: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The last night with account snapshots in each of the last ``months`` months."""
    days = (
        AccountSnapshot.objects.filter(as_of__gt=as_of - dt.timedelta(days=31 * months), as_of__lte=as_of)
        .order_by()
        .values_list("as_of", flat=True)
        .distinct()
    )
    return _month_ends(list(days))


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


@dataclass(frozen=True)
class MillionRow:
    account: Account
    acv: Decimal
    snapshot: AccountSnapshot | None  # health and risk on the evaluation date


def million_dollar_accounts(*, as_of: dt.date, acv: dict[int, Decimal]) -> list[MillionRow]:
    """The accounts the $1M count counts (``acv``: theirs, ≥ 1,000,000 on ``as_of``), largest first, with their
    snapshot that night."""
    accounts = Account.objects.filter(pk__in=list(acv)).select_related("owner")
    snapshots = {
        s.account_id: s for s in AccountSnapshot.objects.filter(account_id__in=list(acv), as_of=as_of).order_by()
    }
    rows = [MillionRow(account=a, acv=acv[a.pk], snapshot=snapshots.get(a.pk)) for a in accounts]
    return sorted(rows, key=lambda row: (-row.acv, row.account.name))


@dataclass(frozen=True)
class CsmFigures:
    """A CSM's book on the evaluation date, as the night stores it."""

    owner_id: int | None  # None: the accounts without a CSM ("Unassigned")
    accounts: int
    arr: Decimal  # Σ ACV of their accounts on the evaluation date (N/A ones left out)
    excluded: Exclusions
    retention: Retention  # of the CSM's current book over the trailing twelve months
    median_health: float | None
    scored: int


@dataclass(frozen=True)
class CsmRow:
    user: User | None  # None: the accounts without a CSM ("Unassigned")
    accounts: int
    arr: Decimal
    excluded: Exclusions
    retention: Retention
    median_health: float | None
    scored: int
    overdue_tasks: int  # today


@dataclass(frozen=True)
class CsmTotal:
    """The By-CSM table's total: every account once, so its ARR is the headline ARR."""

    accounts: int
    arr: Decimal
    excluded: Exclusions


def csm_figures(*, as_of: dt.date, books: RevenueBooks) -> list[CsmFigures]:
    """A row per CSM owning accounts, then one for the accounts without a CSM: accounts, ARR and NRR/GRR of the
    book (from the same books as the page's totals), median health (snapshots on ``as_of``)."""
    owners = dict(Account.objects.order_by().values_list("pk", "owner_id"))
    accounts: dict[int | None, list[int]] = defaultdict(list)
    for account_id, owner_id in owners.items():
        accounts[owner_id].append(account_id)
    scores: dict[int | None, list[float]] = defaultdict(list)
    healths = AccountSnapshot.objects.filter(as_of=as_of, health__isnull=False)
    for owner_id, health in healths.values_list("account__owner", "health"):
        scores[owner_id].append(health)
    excluded = {item["account_id"]: item["reason"] for item in books.end.excluded}
    return [
        CsmFigures(
            owner_id=key,
            accounts=len(ids),
            arr=sum((books.end.acv.get(a, ZERO) for a in ids), ZERO),
            excluded=exclusions(excluded[a] for a in ids if a in excluded),
            retention=retention_from_period(_book_of(books.period, ids)),
            median_health=statistics.median(scores[key]) if scores[key] else None,
            scored=len(scores[key]),
        )
        for key, ids in accounts.items()
    ]


def csm_rows(*, figures: list[CsmFigures], today: dt.date) -> list[CsmRow]:
    """The stored rows by CSM name, the accounts without a CSM last, with each CSM's overdue tasks (today)."""
    by_owner = {row.owner_id: row for row in figures}
    overdue = overdue_tasks_by_owner(today=today)
    users = User.objects.filter(pk__in=[key for key in by_owner if key is not None]).select_related("team")

    def row(user: User | None) -> CsmRow:
        stored = by_owner[user.pk if user else None]
        return CsmRow(
            user=user,
            accounts=stored.accounts,
            arr=stored.arr,
            excluded=stored.excluded,
            retention=stored.retention,
            median_health=stored.median_health,
            scored=stored.scored,
            overdue_tasks=overdue.get(user.pk, 0) if user else 0,
        )

    ordered = users.order_by("first_name", "last_name", "username")
    return [*(row(user) for user in ordered), *([row(None)] if None in by_owner else [])]


def csm_total(rows: list[CsmRow], *, excluded: Exclusions) -> CsmTotal:
    """The rows added up (``excluded``: the headline's exclusions, the same accounts)."""
    return CsmTotal(
        accounts=sum(row.accounts for row in rows), arr=sum((row.arr for row in rows), ZERO), excluded=excluded
    )


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
class SegmentClv:
    segment: str
    label: str
    clv: Decimal  # Σ remaining CLV of the segment's accounts that have one
    accounts: int  # accounts counted
    excluded: Exclusions  # accounts whose CLV is N/A (ACV or churn probability N/A)


def clv_by_segment(*, as_of: dt.date) -> list[SegmentClv]:
    """Total remaining CLV per segment from the snapshots on ``as_of``: each account's
    ``customer_lifetime_value`` as its portfolio row shows it (one query)."""
    rows = AccountSnapshot.objects.filter(as_of=as_of).values_list(
        "account__segment", "acv", "churn_probability", "problems"
    )
    totals: dict[str, list[Decimal]] = defaultdict(list)
    missing: dict[str, list[str]] = defaultdict(list)
    for segment, acv, p, problems in rows:
        clv = customer_lifetime_value(acv=acv, churn_probability=p)
        if clv is None:
            missing[segment].append(na_reason(problems, as_of) or "no churn probability")
        else:
            totals[segment].append(clv)
    labels = dict(Account.Segment.choices)
    return [
        SegmentClv(
            segment=segment,
            label=str(labels.get(segment, segment)),
            clv=sum(totals[segment], ZERO),
            accounts=len(totals[segment]),
            excluded=exclusions(missing[segment]),
        )
        for segment in Account.Segment.values
        if segment in totals or segment in missing
    ]


@dataclass(frozen=True)
class Night:
    """What the dashboard of one evaluation date shows that the night computes (``leadership_night``)."""

    revenue: Revenue
    by_month: pd.DataFrame  # month, arr
    movements: pd.DataFrame  # month, currency_effect, new, expansion, contraction, churn, net
    bands: pd.DataFrame  # as_of, red, yellow, green, na
    millions: dict[int, Decimal]  # ACV of the accounts with ACV ≥ 1,000,000
    csms: list[CsmFigures]
    clv: list[SegmentClv]
    time_to_value: list[TimeToValueRow]


def leadership_night(*, as_of: dt.date) -> Night:
    """Everything the dashboard shows for ``as_of`` but the retention history and the overdue tasks: ~26 ACV books
    and Kaplan-Meier, the night's work (``services.leadership_night_write``)."""
    books = revenue_books(as_of=as_of)
    return Night(
        revenue=books.revenue,
        by_month=books.by_month,
        movements=books.movements,
        bands=band_distribution(days=snapshot_month_ends(as_of=as_of)),
        millions={a: value for a, value in books.end.acv.items() if value >= MILLION},
        csms=csm_figures(as_of=as_of, books=books),
        clv=clv_by_segment(as_of=as_of),
        time_to_value=time_to_value(as_of=as_of),
    )


# The night as JSON (``LeadershipNight.figures``) and back, by the dataclasses' field types. Columns of the frames
# that are not money: their type (money columns are Decimal).
FRAME_COLUMNS = {
    "by_month": {"month": dt.date},
    "movements": {"month": dt.date},
    "bands": {"as_of": dt.date, "red": int, "yellow": int, "green": int, "na": int},
}


def night_to_json(night: Night) -> dict:
    return _to_json(night)


def night_from_json(figures: dict) -> Night:
    night = _from_json(Night, figures)
    labels = dict(Account.Segment.choices)  # in the reader's language
    return dataclasses.replace(
        night,
        clv=[dataclasses.replace(row, label=str(labels.get(row.segment, row.segment))) for row in night.clv],
        time_to_value=[
            dataclasses.replace(row, label=str(labels.get(row.segment, row.segment))) for row in night.time_to_value
        ],
    )


def _to_json(value):
    if dataclasses.is_dataclass(value):
        return {field.name: _to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return {"columns": list(value.columns), "rows": [[_to_json(v) for v in row] for row in value.itertuples(False)]}
    if isinstance(value, dict):
        return [[_to_json(key), _to_json(item)] for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value.item() if hasattr(value, "item") else value  # numpy scalars


def _from_json(kind, value, *, name: str = ""):
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        (kind,) = [arg for arg in args if arg is not type(None)]
        return _from_json(kind, value, name=name)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{field: _from_json(hints[field], item, name=field) for field, item in value.items()})
    if kind is pd.DataFrame:
        column_types = [FRAME_COLUMNS[name].get(column, Decimal) for column in value["columns"]]
        rows = [[_from_json(t, item) for t, item in zip(column_types, row, strict=True)] for row in value["rows"]]
        return pd.DataFrame(rows, columns=value["columns"])
    if origin is dict:
        return {_from_json(args[0], key): _from_json(args[1], item) for key, item in value}
    if origin in (list, tuple):
        items = [_from_json(args[0], item) for item in value]
        return items if origin is list else tuple(items)
    if kind is Decimal:
        return Decimal(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    return value


@dataclass(frozen=True)
class Leadership:
    as_of: dt.date | None
    today: dt.date
    revenue: Revenue | None  # None: no stored night for ``as_of`` (before the first night)
    by_month: pd.DataFrame
    movements: pd.DataFrame
    retention: pd.DataFrame
    bands: pd.DataFrame
    millions: list[MillionRow]
    csms: list[CsmRow]
    csm_total: CsmTotal | None
    clv: list[SegmentClv]
    time_to_value: list[TimeToValueRow]


def leadership(*, as_of: dt.date | None, today: dt.date) -> Leadership:
    """What the dashboard shows for ``as_of``: the stored night (empty before it is stored), the retention history
    and each CSM's overdue tasks on ``today``."""
    stored = LeadershipNight.objects.filter(as_of=as_of).values_list("figures", flat=True).first() if as_of else None
    if stored is None:
        empty = pd.DataFrame()
        return Leadership(as_of, today, None, empty, empty, empty, empty, [], [], None, [], [])
    night = night_from_json(stored)
    csms = csm_rows(figures=night.csms, today=today)
    return Leadership(
        as_of=as_of,
        today=today,
        revenue=night.revenue,
        by_month=night.by_month,
        movements=night.movements,
        retention=retention_history(as_of=as_of),
        bands=night.bands,
        millions=million_dollar_accounts(as_of=as_of, acv=night.millions) if night.millions else [],
        csms=csms,
        csm_total=csm_total(csms, excluded=night.revenue.excluded),
        clv=night.clv,
        time_to_value=night.time_to_value,
    )
