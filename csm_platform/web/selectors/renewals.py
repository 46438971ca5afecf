"""Renewals: upcoming contract ends with the account's latest health and churn risk, the expected renewal value
ACV × (1 − p), the AE's forecast category, and totals per category."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contract
from accounts.selectors import ZERO, RateBook, contract_acv
from health.revenue import expected_renewal_value

from ..models import ForecastCategory, RenewalForecastChange

NOT_SET = "none"


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def renewal_list(*, user, as_of: dt.date | None, today: dt.date) -> QuerySet[Contract]:
    """Contracts of the accounts ``user`` may read that end in the current quarter or later (not cancelled), with
    the account's snapshot on ``as_of`` (``health``, ``band``, ``churn_probability``, ``risk_band``), ``renewed``
    (a contract renews it) and ``can_forecast`` (``user`` may set its forecast), soonest first."""
    snapshot = Q(account__snapshots__as_of=as_of) if as_of else Q(account__snapshots__as_of__isnull=True)
    return (
        Contract.objects.filter(account__in=Account.objects.visible_to(user), end_date__gte=quarter_start(today))
        .exclude(status=Contract.Status.CANCELLED)
        .select_related("account__owner", "account__account_executive", "forecast__set_by")
        .alias(snapshot=FilteredRelation("account__snapshots", condition=snapshot))
        .annotate(
            health=F("snapshot__health"),
            band=F("snapshot__band"),
            churn_probability=F("snapshot__churn_probability"),
            risk_band=F("snapshot__risk_band"),
            renewed=Exists(Contract.objects.filter(renews=OuterRef("pk")).exclude(status=Contract.Status.CANCELLED)),
            can_forecast=Exists(Account.objects.forecast_editable_by(user).filter(pk=OuterRef("account_id"))),
        )
        .order_by("end_date", "account__name", "pk")
    )


@dataclass(frozen=True)
class RenewalRow:
    contract: Contract
    account: Account
    acv: Decimal | None  # the contract's ACV in the reporting currency at today's rate (None: no rate)
    health: float | None
    band: str | None
    churn_probability: float | None
    risk_band: str | None
    expected: Decimal | None  # ACV × (1 − p); None without ACV or p
    category: str  # a ForecastCategory value, or NOT_SET
    renewed: bool
    can_forecast: bool


def renewal_rows(*, contracts: QuerySet[Contract], today: dt.date) -> list[RenewalRow]:
    """The filtered contracts as rows with their values (one query, plus one for exchange rates if needed)."""
    contracts = list(contracts)
    rates = RateBook({c.currency for c in contracts})
    rows = []
    for c in contracts:
        acv = rates.convert(
            contract_acv(recurring_tcv=c.recurring_tcv, start_date=c.start_date, end_date=c.end_date), c.currency, today
        )
        p = c.churn_probability
        forecast = getattr(c, "forecast", None)
        rows.append(
            RenewalRow(
                contract=c,
                account=c.account,
                acv=acv,
                health=c.health,
                band=c.band,
                churn_probability=p,
                risk_band=c.risk_band,
                expected=None if acv is None or p is None else expected_renewal_value(acv=acv, churn_probability=p),
                category=forecast.category if forecast else NOT_SET,
                renewed=c.renewed,
                can_forecast=c.can_forecast,
            )
        )
    return rows


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    label: str
    contracts: int
    acv: Decimal
    expected: Decimal  # Σ ACV × (1 − p) over the rows with a probability


def renewal_totals(rows: list[RenewalRow]) -> tuple[list[CategoryTotal], CategoryTotal]:
    """Totals per forecast category (then "not set"), and over every row."""
    labels = [*ForecastCategory.choices, (NOT_SET, _("Not set"))]

    def total(category: str, label: str, members: list[RenewalRow]) -> CategoryTotal:
        return CategoryTotal(
            category=category,
            label=str(label),
            contracts=len(members),
            acv=sum((r.acv for r in members if r.acv is not None), ZERO),
            expected=sum((r.expected for r in members if r.expected is not None), ZERO),
        )

    per_category = [total(value, label, [r for r in rows if r.category == value]) for value, label in labels]
    return per_category, total("all", "", rows)


def forecast_history(*, contract_id: int) -> list[RenewalForecastChange]:
    return list(
        RenewalForecastChange.objects.filter(contract_id=contract_id)
        .select_related("set_by")
        .order_by("-set_at", "-id")
    )


def forecast_contract(*, user, contract_id: int) -> Contract:
    """A contract of an account ``user`` may read, with its account people and current forecast."""
    return (
        Contract.objects.filter(account__in=Account.objects.visible_to(user))
        .select_related("account__owner", "account__account_executive", "forecast__set_by")
        .get(pk=contract_id)
    )
