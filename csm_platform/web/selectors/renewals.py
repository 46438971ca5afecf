"""Renewals (docs/concepts/renewals-and-value.md): upcoming and recent contract ends, each in one state — open (ends
today or later, no successor), renewed (a successor contract exists) or churned (ended, no successor) — with the
account's health and churn risk from the snapshot on the evaluation date, the contract's ACV at that date's exchange
rates, the expected renewal value ACV × (1 − p) of the open ones, the AE's forecast (category, amount, next step),
and totals per state and per forecast category.

A successor belongs to the renewal decision, not to one contract: the contracts of an account that end on the same
day are decided together (a co-termed expansion renews or churns with the contract it extends), so two contracts of
one account never disagree. A contract of the decision is renewed when another contract renews one of them, or
when the account has a contract starting within ``RENEWAL_GRACE_DAYS`` after the end (the churn model's rule).
End dates and states are calendar items, relative to today.

The list reads each contract's ACV and expected value for the latest night from its stored row (``ContractRow``, built
by the night with the same function), so a page is filtered, sorted and paged in SQL and its totals are one aggregate
query; another night, or a contract listed whose row is not current, is read live (every contract's ACV computed
here).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contract
from accounts.selectors import ZERO, RateBook, contract_acv_exact, missing_rate_reason
from health.features import RENEWAL_GRACE_DAYS
from health.revenue import expected_renewal_value

from ..models import ForecastCategory, QuarterTarget, RenewalForecastChange
from .quality import Exclusions, exclusions

NOT_SET = "none"


class RenewalState(models.TextChoices):
    OPEN = "open", _("Open")
    RENEWED = "renewed", _("Renewed")
    CHURNED = "churned", _("Churned")


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _has_successor() -> Exists:
    """A live-able contract of the same account that renews one of the contracts ending on this contract's end
    date, or starts within the grace period after it."""
    end = OuterRef("end_date")
    grace_end = ExpressionWrapper(end + dt.timedelta(days=RENEWAL_GRACE_DAYS), output_field=DateField())
    successors = (
        Contract.objects.filter(account_id=OuterRef("account_id"))
        .exclude(status=Contract.Status.CANCELLED)
        .filter(Q(renews__end_date=end) | Q(start_date__gt=end, start_date__lte=grace_end))
    )
    return Exists(successors)


def _renewals(*, user, today: dt.date, editable: QuerySet[Account] | None) -> QuerySet[Contract]:
    """The contracts of the accounts ``user`` may read (not cancelled) with ``state`` and ``can_edit_forecast``
    (an account of ``editable``, by default ``forecast_editable_by(user)``, which reads the user's roles)."""
    if editable is None:
        editable = Account.objects.forecast_editable_by(user)
    return (
        Contract.objects.filter(account__in=Account.objects.visible_to(user))
        .exclude(status=Contract.Status.CANCELLED)
        .select_related("account__owner", "account__account_executive", "forecast__set_by")
        .alias(renewed=_has_successor())
        .annotate(
            state=Case(
                When(renewed=True, then=Value(RenewalState.RENEWED)),
                When(end_date__gte=today, then=Value(RenewalState.OPEN)),
                default=Value(RenewalState.CHURNED),
            ),
            can_edit_forecast=Exists(editable.filter(pk=OuterRef("account_id"))),
        )
    )


def _live(*, user, as_of: dt.date | None, today: dt.date, editable=None) -> QuerySet[Contract]:
    """``_renewals`` with the account's snapshot on ``as_of`` (``health``, ``band``, ``churn_probability``,
    ``risk_band``)."""
    snapshot = Q(account__snapshots__as_of=as_of) if as_of else Q(account__snapshots__as_of__isnull=True)
    return (
        _renewals(user=user, today=today, editable=editable)
        .alias(snapshot=FilteredRelation("account__snapshots", condition=snapshot))
        .annotate(
            health=F("snapshot__health"),
            band=F("snapshot__band"),
            churn_probability=F("snapshot__churn_probability"),
            risk_band=F("snapshot__risk_band"),
        )
    )


DEFAULT_ORDER = ("end_date", "account__name", "pk")


def renewal_list(*, user, as_of: dt.date | None, today: dt.date, editable=None) -> QuerySet[Contract]:
    """Contracts of the accounts ``user`` may read that end in the current quarter or later (not cancelled), with
    the account's snapshot on ``as_of`` (``health``, ``band``, ``churn_probability``, ``risk_band``), ``state``
    and ``can_edit_forecast``, soonest first."""
    contracts = _live(user=user, as_of=as_of, today=today, editable=editable)
    return contracts.filter(end_date__gte=quarter_start(today)).order_by(*DEFAULT_ORDER)


def renewal_list_from_rows(*, user, as_of: dt.date, today: dt.date, editable=None) -> QuerySet[Contract]:
    """``renewal_list`` with the contract's figures of the night ``as_of`` from its stored row (``ContractRow``):
    ``acv``, ``expected`` (open renewals only), ``acv_na_currency`` (the currency lacking a rate; "" with an ACV),
    ``category`` (NOT_SET without a forecast) and ``current``: the row is of ``as_of`` and was computed from the
    contract's present inputs and the account's probability on the snapshot. Every filter of the page reads live
    columns only, so the contracts selected are the live list's; their figures hold where all are ``current``
    (``totals_from_rows`` checks)."""
    stored = {
        "list_row__as_of": as_of,
        **{f"list_row__{field}": F(field) for field in ROW_INPUTS},
    }
    same_probability = Q(list_row__churn_probability=F("snapshot__churn_probability")) | Q(
        list_row__churn_probability__isnull=True, snapshot__churn_probability__isnull=True
    )
    return renewal_list(user=user, as_of=as_of, today=today, editable=editable).annotate(
        acv=F("list_row__acv"),
        expected=Case(When(state=RenewalState.OPEN, then=F("list_row__expected"))),
        acv_na_currency=Case(When(list_row__acv__isnull=True, then=F("currency")), default=Value("")),
        category=Coalesce(F("forecast__category"), Value(NOT_SET)),
        current=Q(**stored) & same_probability,
    )


# The fields of a contract its stored row's figures are computed from (with the account's churn probability).
ROW_INPUTS = ("recurring_tcv", "start_date", "end_date", "currency")


@dataclass(frozen=True)
class RenewalRow:
    contract: Contract
    account: Account
    state: str  # a RenewalState value
    acv: Decimal | None  # the contract's ACV in the reporting currency at the evaluation date's rate
    acv_na_reason: str  # why ``acv`` is None ("no GBP exchange rate on or before …"), else ""
    health: int | None
    band: str | None
    churn_probability: float | None
    risk_band: str | None
    expected: Decimal | None  # ACV × (1 − p) of an open renewal; None without ACV or p, or once decided
    category: str  # a ForecastCategory value, or NOT_SET
    can_forecast: bool  # the user may set the forecast, and the renewal is still open

    @property
    def renewed(self) -> bool:
        return self.state == RenewalState.RENEWED

    @property
    def forecast(self):
        return getattr(self.contract, "forecast", None)


def contract_figures(
    *,
    recurring_tcv: Decimal,
    start_date: dt.date,
    end_date: dt.date,
    currency: str,
    churn_probability: float | None,
    rates: RateBook,
    rates_on: dt.date,
) -> tuple[Decimal | None, Decimal | None]:
    """A contract's ACV in the reporting currency at ``rates_on``'s rate (None without a rate) and its expected
    renewal value ACV × (1 − p) (None without ACV or p), whatever its state: the one computation behind the page
    read live and the stored rows."""
    exact = contract_acv_exact(recurring_tcv=recurring_tcv, start_date=start_date, end_date=end_date)
    acv = rates.convert(exact, currency, rates_on)
    return acv, expected_renewal_value(acv=acv, churn_probability=churn_probability)


def _row(c: Contract, *, acv: Decimal | None, expected: Decimal | None, rates_on: dt.date) -> RenewalRow:
    is_open = c.state == RenewalState.OPEN
    forecast = getattr(c, "forecast", None)
    return RenewalRow(
        contract=c,
        account=c.account,
        state=c.state,
        acv=acv,
        acv_na_reason="" if acv is not None else missing_rate_reason([c.currency], rates_on),
        health=c.health,
        band=c.band,
        churn_probability=c.churn_probability,
        risk_band=c.risk_band,
        expected=expected if is_open else None,
        category=forecast.category if forecast else NOT_SET,
        can_forecast=is_open and c.can_edit_forecast,
    )


def renewal_rows(*, contracts, as_of: dt.date | None, today: dt.date) -> list[RenewalRow]:
    """The contracts as rows with their values, converted at ``as_of``'s rates (today's before the first night):
    one query, plus one for exchange rates if needed."""
    contracts = list(contracts)
    rates_on = as_of or today
    rates = RateBook({c.currency for c in contracts}, until=rates_on)
    rows = []
    for c in contracts:
        acv, expected = contract_figures(
            recurring_tcv=c.recurring_tcv,
            start_date=c.start_date,
            end_date=c.end_date,
            currency=c.currency,
            churn_probability=c.churn_probability,
            rates=rates,
            rates_on=rates_on,
        )
        rows.append(_row(c, acv=acv, expected=expected, rates_on=rates_on))
    return rows


def row_from_rows(contract: Contract, *, as_of: dt.date) -> RenewalRow:
    """A contract of ``renewal_list_from_rows`` as a row (no query)."""
    return _row(contract, acv=contract.acv, expected=contract.expected, rates_on=as_of)


@dataclass(frozen=True)
class Total:
    key: str
    label: str
    contracts: int
    acv: Decimal  # Σ ACV of the rows with one
    expected: Decimal | None  # Σ ACV × (1 − p) over the open rows with a probability; None for decided states
    excluded: Exclusions  # rows whose ACV is N/A, left out of both sums


@dataclass(frozen=True)
class RenewalTotals:
    states: list[Total]  # open ("up for renewal", with the expected value), renewed, churned
    categories: list[Total]  # the open renewals per forecast category, then "not set"

    @property
    def open(self) -> Total:
        return self.states[0]

    @property
    def contracts(self) -> int:
        return sum(total.contracts for total in self.states)


def _total(key: str, label, groups: list[dict], *, expected: bool) -> Total:
    return Total(
        key=key,
        label=str(label),
        contracts=sum(g["contracts"] for g in groups),
        acv=sum((g["acv"] for g in groups if g["acv"] is not None), ZERO),
        expected=sum((g["expected"] for g in groups if g["expected"] is not None), ZERO) if expected else None,
        excluded=exclusions(g["na_reason"] for g in groups if g["na_reason"] for _ in range(g["contracts"])),
    )


def _totals(groups: list[dict]) -> RenewalTotals:
    """Totals per state — the expected value only over the open ones, renewed contracts never discounted — and the
    open renewals per forecast category, from groups of rows: ``state``, ``category``, ``na_reason`` (why their ACV
    is N/A, "" with one), ``contracts``, Σ ``acv`` and Σ ``expected`` (None: none)."""
    states = [
        _total(value, label, [g for g in groups if g["state"] == value], expected=value == RenewalState.OPEN)
        for value, label in RenewalState.choices
    ]
    open_groups = [g for g in groups if g["state"] == RenewalState.OPEN]
    labels = [*ForecastCategory.choices, (NOT_SET, _("Not set"))]
    categories = [
        _total(value, label, [g for g in open_groups if g["category"] == value], expected=True)
        for value, label in labels
    ]
    return RenewalTotals(states=states, categories=categories)


def renewal_totals(rows: list[RenewalRow]) -> RenewalTotals:
    """The totals of rows read live (each row a group of one)."""
    return _totals(
        [
            {
                "state": r.state,
                "category": r.category,
                "na_reason": r.acv_na_reason if r.acv is None else "",
                "contracts": 1,
                "acv": r.acv,
                "expected": r.expected,
            }
            for r in rows
        ]
    )


def totals_from_rows(contracts: QuerySet[Contract], *, as_of: dt.date) -> RenewalTotals | None:
    """The totals of ``renewal_list_from_rows`` contracts (filtered) in one aggregate query, grouped by state,
    forecast category and the currency an N/A ACV lacks; None when a contract listed has no current rows (the page
    reads live then)."""
    groups = list(
        contracts.order_by()
        .values("state", "category", "acv_na_currency")
        .annotate(
            contracts=Count("pk"),
            current=Count("pk", filter=Q(current=True)),
            acv_sum=Sum("acv"),
            expected_sum=Sum("list_row__expected"),  # read for the open groups only
        )
    )
    if any(g["current"] != g["contracts"] for g in groups):
        return None
    return _totals(
        [
            {
                "state": g["state"],
                "category": g["category"],
                "na_reason": missing_rate_reason([g["acv_na_currency"]], as_of) if g["acv_na_currency"] else "",
                "contracts": g["contracts"],
                "acv": g["acv_sum"],
                "expected": g["expected_sum"],
            }
            for g in groups
        ]
    )


@dataclass(frozen=True)
class Renewals:
    """The filtered renewals of a page and their totals: from the stored rows, ``contracts`` (sorted and paged in
    SQL, each made a row by ``row_from_rows``); read live, every row in ``rows``."""

    totals: RenewalTotals
    contracts: QuerySet[Contract] | None = None
    rows: list[RenewalRow] | None = None


def renewals_read(
    *, user, as_of: dt.date | None, today: dt.date, narrow: Callable[[QuerySet[Contract]], QuerySet[Contract]]
) -> Renewals:
    """The renewals ``user`` may read, narrowed by ``narrow`` (the page's filters): from the night's stored rows
    (``renewal_list_from_rows``) when every contract selected has current rows — their totals in one aggregate
    query, their rows a page at a time — else read live (``renewal_list``), every row computed here."""
    editable = Account.objects.forecast_editable_by(user)  # the user's roles, read once for either list
    if as_of is not None:
        from_rows = narrow(renewal_list_from_rows(user=user, as_of=as_of, today=today, editable=editable))
        totals = totals_from_rows(from_rows, as_of=as_of)
        if totals is not None:
            return Renewals(totals=totals, contracts=from_rows)
    live = narrow(renewal_list(user=user, as_of=as_of, today=today, editable=editable))
    rows = renewal_rows(contracts=live, as_of=as_of, today=today)
    return Renewals(totals=renewal_totals(rows), rows=rows)


def forecast_history(*, contract_id: int) -> list[RenewalForecastChange]:
    return list(
        RenewalForecastChange.objects.filter(contract_id=contract_id)
        .select_related("set_by")
        .order_by("-set_at", "-id")
    )


def forecast_row(*, user, contract_id: int, as_of: dt.date | None, today: dt.date) -> RenewalRow:
    """A contract of an account ``user`` may read as a renewal row (whatever its end date): its state, ACV, health,
    risk, expected value and current forecast (``Contract.DoesNotExist`` otherwise)."""
    contract = _live(user=user, as_of=as_of, today=today).get(pk=contract_id)
    return renewal_rows(contracts=[contract], as_of=as_of, today=today)[0]


@dataclass(frozen=True)
class Attainment:
    quarter: str  # "2024-Q3"
    renewed: Decimal  # Σ ACV of the quarter's renewed contracts shown
    target: Decimal | None  # the quarter's target (None: none set)

    @property
    def ratio(self) -> float | None:
        """Renewed ARR ÷ target (None without a target)."""
        return float(self.renewed / self.target) if self.target else None


def quarter_attainment(*, quarter: str, totals: RenewalTotals) -> Attainment:
    """The renewed ACV of the quarter's rows against the quarter's target (one query)."""
    renewed = next(total.acv for total in totals.states if total.key == RenewalState.RENEWED)
    target = QuarterTarget.objects.filter(quarter=quarter).values_list("target", flat=True).first()
    return Attainment(quarter=quarter, renewed=renewed, target=target)
