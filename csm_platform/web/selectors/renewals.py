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
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import (
    Case,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
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


def _renewals(*, user, as_of: dt.date | None, today: dt.date) -> QuerySet[Contract]:
    snapshot = Q(account__snapshots__as_of=as_of) if as_of else Q(account__snapshots__as_of__isnull=True)
    return (
        Contract.objects.filter(account__in=Account.objects.visible_to(user))
        .exclude(status=Contract.Status.CANCELLED)
        .select_related("account__owner", "account__account_executive", "forecast__set_by")
        .alias(snapshot=FilteredRelation("account__snapshots", condition=snapshot), renewed=_has_successor())
        .annotate(
            health=F("snapshot__health"),
            band=F("snapshot__band"),
            churn_probability=F("snapshot__churn_probability"),
            risk_band=F("snapshot__risk_band"),
            state=Case(
                When(renewed=True, then=Value(RenewalState.RENEWED)),
                When(end_date__gte=today, then=Value(RenewalState.OPEN)),
                default=Value(RenewalState.CHURNED),
            ),
            can_edit_forecast=Exists(Account.objects.forecast_editable_by(user).filter(pk=OuterRef("account_id"))),
        )
    )


def renewal_list(*, user, as_of: dt.date | None, today: dt.date) -> QuerySet[Contract]:
    """Contracts of the accounts ``user`` may read that end in the current quarter or later (not cancelled), with
    the account's snapshot on ``as_of`` (``health``, ``band``, ``churn_probability``, ``risk_band``), ``state``
    and ``can_edit_forecast``, soonest first."""
    return (
        _renewals(user=user, as_of=as_of, today=today)
        .filter(end_date__gte=quarter_start(today))
        .order_by("end_date", "account__name", "pk")
    )


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


def renewal_rows(*, contracts, as_of: dt.date | None, today: dt.date) -> list[RenewalRow]:
    """The contracts as rows with their values, converted at ``as_of``'s rates (today's before the first night):
    one query, plus one for exchange rates if needed."""
    contracts = list(contracts)
    rates_on = as_of or today
    rates = RateBook({c.currency for c in contracts}, until=rates_on)
    rows = []
    for c in contracts:
        exact = contract_acv_exact(recurring_tcv=c.recurring_tcv, start_date=c.start_date, end_date=c.end_date)
        acv = rates.convert(exact, c.currency, rates_on)
        is_open = c.state == RenewalState.OPEN
        forecast = getattr(c, "forecast", None)
        rows.append(
            RenewalRow(
                contract=c,
                account=c.account,
                state=c.state,
                acv=acv,
                acv_na_reason="" if acv is not None else missing_rate_reason([c.currency], rates_on),
                health=c.health,
                band=c.band,
                churn_probability=c.churn_probability,
                risk_band=c.risk_band,
                expected=expected_renewal_value(acv=acv, churn_probability=c.churn_probability) if is_open else None,
                category=forecast.category if forecast else NOT_SET,
                can_forecast=is_open and c.can_edit_forecast,
            )
        )
    return rows


@dataclass(frozen=True)
class Total:
    key: str
    label: str
    contracts: int
    acv: Decimal  # Σ ACV of the rows with one
    expected: Decimal | None  # Σ ACV × (1 − p) over the open rows with a probability; None for decided states
    excluded: Exclusions  # rows whose ACV is N/A, left out of both sums


def _total(key: str, label, members: list[RenewalRow], *, expected: bool) -> Total:
    return Total(
        key=key,
        label=str(label),
        contracts=len(members),
        acv=sum((r.acv for r in members if r.acv is not None), ZERO),
        expected=sum((r.expected for r in members if r.expected is not None), ZERO) if expected else None,
        excluded=exclusions(r.acv_na_reason for r in members if r.acv is None),
    )


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


def renewal_totals(rows: list[RenewalRow]) -> RenewalTotals:
    """Totals per state — the expected value only over the open ones, renewed contracts never discounted — and the
    open renewals per forecast category."""
    states = [
        _total(value, label, [r for r in rows if r.state == value], expected=value == RenewalState.OPEN)
        for value, label in RenewalState.choices
    ]
    open_rows = [r for r in rows if r.state == RenewalState.OPEN]
    labels = [*ForecastCategory.choices, (NOT_SET, _("Not set"))]
    categories = [
        _total(value, label, [r for r in open_rows if r.category == value], expected=True) for value, label in labels
    ]
    return RenewalTotals(states=states, categories=categories)


def forecast_history(*, contract_id: int) -> list[RenewalForecastChange]:
    return list(
        RenewalForecastChange.objects.filter(contract_id=contract_id)
        .select_related("set_by")
        .order_by("-set_at", "-id")
    )


def forecast_row(*, user, contract_id: int, as_of: dt.date | None, today: dt.date) -> RenewalRow:
    """A contract of an account ``user`` may read as a renewal row (whatever its end date): its state, ACV, health,
    risk, expected value and current forecast (``Contract.DoesNotExist`` otherwise)."""
    contract = _renewals(user=user, as_of=as_of, today=today).get(pk=contract_id)
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
