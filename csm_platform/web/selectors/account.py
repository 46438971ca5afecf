"""Account 360: the header figures, the health receipt in words, what moved, histories for the charts, contracts,
contacts and churn drivers (the timeline: ``selectors.timeline``). Every read is a fixed number of queries for one
account.

Every figure is for the page's evaluation date ``as_of`` (the night shown; before the first night, today): the
snapshot, the usage windows, the contracts' ACV at that date's rates, the executive sponsor window. Calendar items
(next renewal, open tasks, the timeline) are relative to today."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Contact, Contract, UsageUserDay
from accounts.selectors import (
    ZERO,
    RateBook,
    accounts_with_engaged_sponsor,
    acv_converted,
    contract_acv,
    contract_acv_exact,
    missing_rate_reason,
)
from accounts.usage.selectors import usage_by_feature, usage_daily
from csm_platform.dates import add_months
from health.measures import REGISTRY
from health.models import AccountCurrent, AccountSnapshot
from health.selectors import measure_label, what_moved

from .. import formatting as fmt
from .portfolio import TREND_DAYS, account_clv, acv_na_reason, portfolio_list
from .quality import Exclusions, exclusions, na_reason

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
    arr: Decimal | None  # Σ ACV of the account and its subsidiaries that night (N/A left out; all N/A: None)
    subsidiaries: int
    excluded: Exclusions  # the group's accounts whose ACV is N/A


def group_arr(*, account: Account, as_of: dt.date | None) -> GroupArr:
    """ARR of the account's group on ``as_of``: its own ACV plus its subsidiaries' (their snapshots that night),
    saying which ACVs are N/A."""
    children = list(
        AccountSnapshot.objects.filter(account__parent_id=account.pk, as_of=as_of).values_list("acv", "problems")
    )
    na = [na_reason(problems, as_of) for acv, problems in children if acv is None]
    if acv_na_reason(account):
        na.append(acv_na_reason(account))
    values = [acv for acv in (account.acv, *(acv for acv, _problems in children)) if acv is not None]
    return GroupArr(
        arr=sum(values, ZERO) if values or not na else None,
        subsidiaries=len(children),
        excluded=exclusions(na),
    )


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
    contribution: float | None  # points of the health score, w̃·s, exact
    lost: float | None  # points below a perfect score, w̃·(100 − s)
    sentence: str

    @property
    def points(self) -> Decimal | None:
        """The contribution as shown (hundredths)."""
        return None if self.contribution is None else shown_points(self.contribution)


POINTS = Decimal("0.01")


def shown_points(value: float) -> Decimal:
    """Points as the receipt shows them: hundredths, half up."""
    return Decimal(str(value)).quantize(POINTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Receipt:
    """The snapshot's receipt: each measure's exact contribution, and the rounding line that takes their sum to the
    whole score that is stored, shown and banded (shown lines + rounding = score, exactly as printed)."""

    lines: list["ReceiptLine"]
    health: int | None

    @property
    def exact(self) -> Decimal:
        return sum((line.points for line in self.lines if line.points is not None), Decimal(0))

    @property
    def rounding(self) -> Decimal | None:
        return None if self.health is None else self.health - self.exact


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
    """What moved the whole score: each measure's share (hundredths), and the rounding line (the whole scores'
    change less the shares as shown), so the lines add up to the change."""

    days: int
    start: int
    end: int
    change: int
    shares: list[tuple[str, Decimal]]  # (measure label, points), largest first; shares that show as 0 left out
    rounding: Decimal


def health_movements(*, account_id: int, as_of: dt.date | None, days: tuple[int, ...] = (7, 30)) -> list[Movement]:
    """What moved the score since 7 and 30 days before ``as_of`` (``health.selectors.what_moved``, whose exact
    shares + rounding = change); a period without both snapshots is left out."""
    movements = []
    for span in days if as_of else ():
        moved = what_moved(account_id=account_id, start=as_of - dt.timedelta(days=span), end=as_of)
        if moved is None:
            continue
        shown = sorted(
            ((measure_label(key), shown_points(share)) for key, share in moved["shares"].items()),
            key=lambda item: -abs(item[1]),
        )
        movements.append(
            Movement(
                days=span,
                start=moved["start"],
                end=moved["end"],
                change=moved["change"],
                shares=[(label, points) for label, points in shown if points != 0],
                rounding=moved["change"] - sum((points for _label, points in shown), Decimal(0)),
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


def seats_by_month(*, contracts: list[Contract], months: list[dt.date], as_of: dt.date) -> list[int | None]:
    """Licensed seats on the contracts live on each month's last day (``as_of`` for its month)."""
    result = []
    for month in months:
        following = add_months(month.replace(day=1), 1)
        day = min(following - dt.timedelta(days=1), as_of)
        live = [c for c in contracts if c.start_date <= day <= c.end_date and c.status != Contract.Status.CANCELLED]
        seats = [c.seats for c in live if c.seats is not None]
        result.append(sum(seats) if seats else None)
    return result


# ------------------------------------------------------------------------------------------------ contracts


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    acv: Decimal  # in the contract's currency
    acv_reporting: Decimal | None  # at the evaluation date's rate; None without a rate on or before it
    acv_na_reason: str  # why acv_reporting is None, else ""
    live: bool  # live on the evaluation date
    converted: bool  # in another currency than the reporting one


def account_contracts(*, account_id: int, as_of: dt.date) -> tuple[list[ContractRow], pd.DataFrame]:
    """The account's contracts, newest first, with ACV in the reporting currency at ``as_of``'s rates (the same
    conversion as ``account_acv_book``); and the account's ACV up to ``as_of`` (a step at every start and end,
    each at that day's rates; N/A contracts left out): columns day, acv."""
    contracts = list(
        Contract.objects.filter(account_id=account_id).select_related("forecast").order_by("-start_date", "-id")
    )
    rates = RateBook({c.currency for c in contracts}, until=as_of)
    exact = {
        c.pk: contract_acv_exact(recurring_tcv=c.recurring_tcv, start_date=c.start_date, end_date=c.end_date)
        for c in contracts
    }
    rows = []
    for c in contracts:
        reporting = rates.convert(exact[c.pk], c.currency, as_of)
        rows.append(
            ContractRow(
                contract=c,
                acv=contract_acv(recurring_tcv=c.recurring_tcv, start_date=c.start_date, end_date=c.end_date),
                acv_reporting=reporting,
                acv_na_reason="" if reporting is not None else missing_rate_reason([c.currency], as_of),
                live=c.start_date <= as_of <= c.end_date and c.status != Contract.Status.CANCELLED,
                converted=c.currency != rates.reporting,
            )
        )
    counted = [c for c in contracts if c.status != Contract.Status.CANCELLED]
    steps = sorted({c.start_date for c in counted} | {c.end_date + dt.timedelta(days=1) for c in counted})
    history = []
    for day in (step for step in steps if step <= as_of):
        live = [(exact[c.pk], c.currency) for c in counted if c.start_date <= day <= c.end_date]
        acv, _lacking = acv_converted(amounts=live, book=rates, day=day)  # a missing rate: the day is N/A
        history.append((day, acv))
    return rows, pd.DataFrame.from_records(history, columns=["day", "acv"])


# ------------------------------------------------------------------------------------------------ people, timeline


@dataclass(frozen=True)
class Contacts:
    contacts: list[Contact]
    sponsor_engaged: bool  # an active executive sponsor engaged in the SPONSOR_WINDOW_DAYS up to the evaluation date
    has_sponsor: bool


def account_contacts(*, account_id: int, as_of: dt.date) -> Contacts:
    """The contacts, and whether a sponsor was engaged in ``(as_of − 90 days, as_of]``: the health measure's own
    reading (``accounts_with_engaged_sponsor``), so the block and the receipt never disagree."""
    contacts = list(Contact.objects.filter(account_id=account_id).order_by("-is_executive_sponsor", "-active", "name"))
    engaged = accounts_with_engaged_sponsor(as_of=as_of, account_ids=[account_id], days=SPONSOR_WINDOW_DAYS)
    return Contacts(
        contacts=contacts,
        sponsor_engaged=account_id in engaged,
        has_sponsor=any(c.is_executive_sponsor and c.active for c in contacts),
    )


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


def account_current(*, account_id: int, snapshot: AccountSnapshot | None) -> AccountCurrent | None:
    """The account's figures re-scored during a day after its data changed, when they are for a later day than the
    night shown (the latest) and were computed after it: the page shows them as the current value, labelled with
    their time. None otherwise."""
    current = AccountCurrent.objects.filter(account_id=account_id).first()
    if current is None or (
        snapshot is not None and (current.as_of <= snapshot.as_of or current.computed_at <= snapshot.computed_at)
    ):
        return None
    return current


@dataclass(frozen=True)
class Account360:
    account: Account
    as_of: dt.date | None  # the night shown (None before the first night)
    today: dt.date
    snapshot: AccountSnapshot | None
    current: AccountCurrent | None  # re-scored today after a change (shown with the latest night only)
    acv_na_reason: str  # why the snapshot's ACV is N/A, else ""
    clv: Decimal | None  # remaining CLV from the snapshot's ACV and churn probability
    group: GroupArr
    receipt: Receipt
    movements: list[Movement]
    health_history: pd.DataFrame
    contracts: list[ContractRow]
    acv_history: pd.DataFrame
    daily_usage: pd.DataFrame
    features: pd.DataFrame
    seats_vs_users: pd.DataFrame
    contacts: Contacts
    drivers: list[Driver]

    @property
    def risk_from_fallback(self) -> bool:
        """No trained churn model: the risk comes from health through the documented fallback mapping."""
        return self.snapshot is not None and (
            self.snapshot.churn_model is None or self.snapshot.churn_model.is_fallback
        )


def account_360(*, user, pk: int, as_of: dt.date | None, today: dt.date, latest: bool = True) -> Account360:
    """Everything the account page shows for ``as_of`` (usage, contracts and contacts read on today before the
    first night), for an account ``user`` may read (``Account.DoesNotExist`` otherwise); ``latest``: ``as_of`` is
    the latest night (not one picked in the past), so today's re-scored figures are shown too."""
    account = account_get(user=user, pk=pk, as_of=as_of, today=today)
    snapshot = account_snapshot(account_id=pk, as_of=as_of)
    current = account_current(account_id=pk, snapshot=snapshot) if latest else None
    day = as_of or today
    contracts, acv_over_time = account_contracts(account_id=pk, as_of=day)
    users = monthly_active_users(account_id=pk, start=add_months(day.replace(day=1), -(SEAT_MONTHS - 1)), end=day)
    users["seats"] = seats_by_month(
        contracts=[row.contract for row in contracts], months=list(users["month"]), as_of=day
    )
    return Account360(
        account=account,
        as_of=as_of,
        today=today,
        snapshot=snapshot,
        current=current,
        acv_na_reason=acv_na_reason(account),
        clv=account_clv(account),
        group=group_arr(account=account, as_of=as_of),
        receipt=Receipt(lines=receipt_lines(snapshot.measures) if snapshot else [], health=account.health),
        movements=health_movements(account_id=pk, as_of=as_of),
        health_history=health_history(account_id=pk, as_of=as_of),
        contracts=contracts,
        acv_history=acv_over_time,
        daily_usage=usage_daily(account_id=pk, start=day - dt.timedelta(days=USAGE_DAYS - 1), end=day),
        features=usage_by_feature(account_id=pk, start=day - dt.timedelta(days=FEATURE_DAYS - 1), end=day),
        seats_vs_users=users,
        contacts=account_contacts(account_id=pk, as_of=day),
        drivers=churn_drivers(snapshot.churn_drivers) if snapshot else [],
    )
