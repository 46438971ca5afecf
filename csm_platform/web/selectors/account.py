"""Account 360: the header figures, the health receipt in words, what moved, histories for the charts, contracts,
contacts, timeline and churn drivers. Every read is a fixed number of queries for one account."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Activity, Contact, Contract, UsageUserDay
from accounts.selectors import ZERO, RateBook, accounts_with_engaged_sponsor, contract_acv
from accounts.usage.selectors import usage_by_feature, usage_daily
from csm_platform.dates import add_months
from health.measures import REGISTRY
from health.models import AccountSnapshot
from health.selectors import measure_label, what_moved

from .. import formatting as fmt
from .portfolio import TREND_DAYS, portfolio_list

TIMELINE_LENGTH = 50
HISTORY_DAYS = 365
SPONSOR_WINDOW_DAYS = 90


def account_get(*, user, pk: int, as_of: dt.date | None, today: dt.date) -> Account:
    """The account with the portfolio's annotations (health, ACV, risk, trends, stage, next renewal, last touch,
    open tasks), if ``user`` may read it (``Account.DoesNotExist`` otherwise)."""
    accounts = portfolio_list(user=user, as_of=as_of, today=today, trend_days=TREND_DAYS)
    return accounts.select_related("parent", "owner__team").get(pk=pk)


def account_snapshot(*, account_id: int, as_of: dt.date | None) -> AccountSnapshot | None:
    if as_of is None:
        return None
    return AccountSnapshot.objects.select_related("churn_model").filter(account_id=account_id, as_of=as_of).first()


@dataclass(frozen=True)
class GroupArr:
    arr: Decimal  # Σ ACV of the account and its direct subsidiaries on the snapshot date
    subsidiaries: int


def group_arr(*, account: Account, as_of: dt.date | None) -> GroupArr:
    """ARR of the account's group: its own ACV plus its subsidiaries' (their latest snapshots)."""
    children = AccountSnapshot.objects.filter(account__parent_id=account.pk, as_of=as_of).aggregate(
        acv=Sum("acv"), n=Count("id")
    )
    return GroupArr(arr=(account.acv or ZERO) + (children["acv"] or ZERO), subsidiaries=children["n"])


# ------------------------------------------------------------------------------------------------ the receipt


@dataclass(frozen=True)
class ReceiptLine:
    key: str
    label: str
    description: str
    input_text: str
    score: float | None  # s, 0-100; None: no data
    weight: float  # the scorecard weight
    share: float | None  # normalized weight, 0-1
    contribution: float | None  # points of the health score, w̃·s
    lost: float | None  # points below a perfect score, w̃·(100 − s)
    sentence: str


def _input_text(key: str, x, inputs: dict) -> str:
    """What the measure read, in a CSM's words."""
    n = fmt.number
    if x is None and key != "engagement":
        return _("no data")
    if key == "usage_trend":
        return _("%(now)s events in the last 30 days against %(before)s in the 30 days before (×%(x)s)") % {
            "now": n(inputs.get("events_30")),
            "before": n(inputs.get("events_prev_30")),
            "x": n(x, 2),
        }
    if key == "license_utilization":
        return _("%(mau)s of %(seats)s licensed seats active in the last 30 days (%(x)s)") % {
            "mau": n(inputs.get("mau")),
            "seats": n(inputs.get("seats")),
            "x": fmt.percent(x),
        }
    if key == "feature_breadth":
        return _("%(used)s of %(total)s key features used in the last 30 days") % {
            "used": n(inputs.get("key_features_used")),
            "total": n(inputs.get("key_features_total")),
        }
    if key == "stickiness":
        return _("%(dau)s daily of %(mau)s monthly active users (%(x)s)") % {
            "dau": n(inputs.get("dau"), 1),
            "mau": n(inputs.get("mau")),
            "x": fmt.percent(x),
        }
    if key == "engagement":
        if x is None:
            return _("never touched and no contract yet")
        last = inputs.get("last_touch")
        if last:
            return _("%(days)s days since the last CSM touch (%(day)s)") % {"days": n(x), "day": last}
        return _("%(days)s days since the first contract started, never touched") % {"days": n(x)}
    if key == "executive_sponsor":
        if x:
            return _("an executive sponsor was engaged in the last 90 days")
        return _("no executive sponsor engaged in the last 90 days")
    if key == "nps":
        return _("NPS %(nps)s from %(n)s answers in %(days)s days") % {
            "nps": fmt.signed(x, 0),
            "n": n(inputs.get("n")),
            "days": n(inputs.get("window_days")),
        }
    return _("input %(x)s") % {"x": n(x, 2)}


def _sentence(line: dict, label: str, input_text: str) -> str:
    if line.get("s") is None:
        return _("%(label)s has no data (%(input)s), so its weight goes to the other measures.") % {
            "label": label,
            "input": input_text,
        }
    lost = 100 * line["normalized_weight"] - line["contribution"]
    values = {
        "label": label,
        "score": fmt.number(line["s"]),
        "input": input_text,
        "points": fmt.number(line["contribution"], 1),
        "possible": fmt.number(100 * line["normalized_weight"], 1),
        "lost": fmt.number(lost, 1),
    }
    if round(lost, 1) == 0:
        return _("%(label)s scored %(score)s/100 — %(input)s — and adds all its %(possible)s points.") % values
    return (
        _(
            "%(label)s scored %(score)s/100 — %(input)s — and adds %(points)s of its %(possible)s points, "
            "pulling the score down %(lost)s points."
        )
        % values
    )


def receipt_lines(measures: list[dict]) -> list[ReceiptLine]:
    """Each measure of a snapshot's receipt explained, the ones that cost the most points first."""
    lines = []
    for line in measures:
        key, s, share = line["key"], line.get("s"), line.get("normalized_weight")
        label = measure_label(key)
        input_text = _input_text(key, line.get("x"), line.get("inputs") or {})
        measure = REGISTRY.get(key)
        lines.append(
            ReceiptLine(
                key=key,
                label=label,
                description=str(measure.description) if measure else "",
                input_text=input_text,
                score=s,
                weight=line["weight"],
                share=share if s is not None else None,
                contribution=line.get("contribution") if s is not None else None,
                lost=100 * share - line["contribution"] if s is not None else None,
                sentence=_sentence(line, label, input_text),
            )
        )
    return sorted(lines, key=lambda line: (line.lost is None, -(line.lost or 0)))


@dataclass(frozen=True)
class Movement:
    days: int
    start: float
    end: float
    change: float
    shares: list[tuple[str, float]]  # (measure label, points), largest first


def health_movements(*, account_id: int, as_of: dt.date | None, days: tuple[int, ...] = (7, 30)) -> list[Movement]:
    """What moved the score since 7 and 30 days before ``as_of`` (health.selectors.what_moved); a period without
    both snapshots is left out."""
    movements = []
    for span in days if as_of else ():
        moved = what_moved(account_id=account_id, start=as_of - dt.timedelta(days=span), end=as_of)
        if moved is None:
            continue
        shares = sorted(moved["shares"].items(), key=lambda item: -abs(item[1]))
        movements.append(
            Movement(
                days=span,
                start=moved["start"],
                end=moved["end"],
                change=moved["change"],
                shares=[(measure_label(key), share) for key, share in shares if round(share, 1) != 0],
            )
        )
    return movements


# ------------------------------------------------------------------------------------------------ histories


def health_history(*, account_id: int, as_of: dt.date | None) -> pd.DataFrame:
    """The account's nightly health over the year up to ``as_of``: columns as_of, health, band."""
    columns = ["as_of", "health", "band"]
    if as_of is None:
        return pd.DataFrame(columns=columns)
    rows = AccountSnapshot.objects.filter(
        account_id=account_id, as_of__range=(as_of - dt.timedelta(days=HISTORY_DAYS), as_of)
    ).order_by("as_of")
    return pd.DataFrame.from_records(list(rows.values_list(*columns)), columns=columns)


def monthly_active_users(*, account_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Distinct product users per calendar month (from the daily user rollup): columns month, users."""
    rows = (
        UsageUserDay.objects.filter(account_id=account_id, day__range=(start, end))
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(users=Count("user_id", distinct=True))
        .order_by("month")
        .values_list("month", "users")
    )
    return pd.DataFrame.from_records(list(rows), columns=["month", "users"])


def seats_by_month(*, contracts: list[Contract], months: list[dt.date], today: dt.date) -> list[int | None]:
    """Licensed seats on the contracts live on each month's last day (today for the current month)."""
    result = []
    for month in months:
        following = add_months(month.replace(day=1), 1)
        day = min(following - dt.timedelta(days=1), today)
        live = [c for c in contracts if c.start_date <= day <= c.end_date and c.status != Contract.Status.CANCELLED]
        seats = [c.seats for c in live if c.seats is not None]
        result.append(sum(seats) if seats else None)
    return result


# ------------------------------------------------------------------------------------------------ contracts


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    acv: Decimal  # in the contract's currency
    acv_reporting: Decimal | None  # at today's rate; None without a rate
    live: bool
    converted: bool  # in another currency than the reporting one


def account_contracts(*, account_id: int, today: dt.date) -> tuple[list[ContractRow], pd.DataFrame]:
    """The account's contracts, newest first, with ACV; and the account's ACV over time (a step at every start
    and end, each contract converted at that date's rate): columns day, acv."""
    contracts = list(
        Contract.objects.filter(account_id=account_id).select_related("forecast").order_by("-start_date", "-id")
    )
    rates = RateBook({c.currency for c in contracts})
    acv = {
        c.pk: contract_acv(recurring_tcv=c.recurring_tcv, start_date=c.start_date, end_date=c.end_date)
        for c in contracts
    }
    rows = [
        ContractRow(
            contract=c,
            acv=acv[c.pk],
            acv_reporting=rates.convert(acv[c.pk], c.currency, today),
            live=c.start_date <= today <= c.end_date and c.status != Contract.Status.CANCELLED,
            converted=c.currency != rates.reporting,
        )
        for c in contracts
    ]
    counted = [c for c in contracts if c.status != Contract.Status.CANCELLED]
    steps = sorted({c.start_date for c in counted} | {c.end_date + dt.timedelta(days=1) for c in counted})
    history = []
    for day in steps:
        values = [rates.convert(acv[c.pk], c.currency, day) for c in counted if c.start_date <= day <= c.end_date]
        history.append((day, sum((v for v in values if v is not None), ZERO)))
    return rows, pd.DataFrame.from_records(history, columns=["day", "acv"])


# ------------------------------------------------------------------------------------------------ people, timeline


@dataclass(frozen=True)
class Contacts:
    contacts: list[Contact]
    sponsor_engaged: bool  # an active executive sponsor engaged in the last SPONSOR_WINDOW_DAYS
    has_sponsor: bool


def account_contacts(*, account_id: int, today: dt.date) -> Contacts:
    contacts = list(Contact.objects.filter(account_id=account_id).order_by("-is_executive_sponsor", "-active", "name"))
    engaged = accounts_with_engaged_sponsor(as_of=today, account_ids=[account_id], days=SPONSOR_WINDOW_DAYS)
    return Contacts(
        contacts=contacts,
        sponsor_engaged=account_id in engaged,
        has_sponsor=any(c.is_executive_sponsor and c.active for c in contacts),
    )


def account_timeline(*, account_id: int) -> tuple[list[Activity], int]:
    """The latest activities (with author and contact), and how many there are in all."""
    activities = Activity.objects.filter(account_id=account_id)
    latest = list(activities.select_related("author", "contact").order_by("-occurred_at", "-id")[:TIMELINE_LENGTH])
    return latest, activities.count() if len(latest) == TIMELINE_LENGTH else len(latest)


# ------------------------------------------------------------------------------------------------ churn risk

DRIVER_LABELS = {
    "health": gettext_lazy("Health score"),
    "health_trend_30": gettext_lazy("Health change over 30 days"),
    "acv": gettext_lazy("ACV"),
    "seats": gettext_lazy("Licensed seats"),
    "tenure_days": gettext_lazy("Days as a customer"),
    "days_to_renewal": gettext_lazy("Days to renewal"),
    "segment": gettext_lazy("Segment"),
    "open_high_priority_tasks": gettext_lazy("Open high-priority tasks"),
}


@dataclass(frozen=True)
class Driver:
    label: str
    value: float
    raises_risk: bool


def churn_drivers(drivers: list) -> list[Driver]:
    """The snapshot's signed top drivers (log-odds; positive raises the risk), labelled. The health fallback
    records ``[["health", None]]``: no signed contributions to show."""
    return [
        Driver(label=str(DRIVER_LABELS.get(name) or measure_label(name)), value=value, raises_risk=value > 0)
        for name, value in drivers
        if value is not None
    ]


# ------------------------------------------------------------------------------------------------ the page

USAGE_DAYS = 90
FEATURE_DAYS = 30
SEAT_MONTHS = 12


@dataclass(frozen=True)
class Account360:
    account: Account
    as_of: dt.date | None
    today: dt.date
    snapshot: AccountSnapshot | None
    group: GroupArr
    receipt: list[ReceiptLine]
    movements: list[Movement]
    health_history: pd.DataFrame
    contracts: list[ContractRow]
    acv_history: pd.DataFrame
    daily_usage: pd.DataFrame
    features: pd.DataFrame
    seats_vs_users: pd.DataFrame
    contacts: Contacts
    timeline: list[Activity]
    timeline_total: int
    drivers: list[Driver]

    @property
    def risk_from_fallback(self) -> bool:
        """No trained churn model: the risk comes from health through the documented fallback mapping."""
        return self.snapshot is not None and (
            self.snapshot.churn_model is None or self.snapshot.churn_model.is_fallback
        )


def account_360(*, user, pk: int, as_of: dt.date | None, today: dt.date) -> Account360:
    """Everything the account page shows, for an account ``user`` may read (``Account.DoesNotExist`` otherwise)."""
    account = account_get(user=user, pk=pk, as_of=as_of, today=today)
    snapshot = account_snapshot(account_id=pk, as_of=as_of)
    contracts, acv_over_time = account_contracts(account_id=pk, today=today)
    users = monthly_active_users(account_id=pk, start=add_months(today.replace(day=1), -(SEAT_MONTHS - 1)), end=today)
    users["seats"] = seats_by_month(
        contracts=[row.contract for row in contracts], months=list(users["month"]), today=today
    )
    timeline, timeline_total = account_timeline(account_id=pk)
    return Account360(
        account=account,
        as_of=as_of,
        today=today,
        snapshot=snapshot,
        group=group_arr(account=account, as_of=as_of),
        receipt=receipt_lines(snapshot.measures) if snapshot else [],
        movements=health_movements(account_id=pk, as_of=as_of),
        health_history=health_history(account_id=pk, as_of=as_of),
        contracts=contracts,
        acv_history=acv_over_time,
        daily_usage=usage_daily(account_id=pk, start=today - dt.timedelta(days=USAGE_DAYS - 1), end=today),
        features=usage_by_feature(account_id=pk, start=today - dt.timedelta(days=FEATURE_DAYS - 1), end=today),
        seats_vs_users=users,
        contacts=account_contacts(account_id=pk, today=today),
        timeline=timeline,
        timeline_total=timeline_total,
        drivers=churn_drivers(snapshot.churn_drivers) if snapshot else [],
    )
