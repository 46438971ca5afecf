"""Reads of the accounts app: the contract-value formulas of ../shared/DOMAIN.md, "Contract value".

Every figure takes the evaluation date ``as_of``. Amounts are ``Decimal``: a contract's ACV is rounded to
cents in its own currency, then converted at ``as_of``'s rate and rounded to cents again, so that account,
total and waterfall sums add up exactly.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db.models import Max, Min, QuerySet, Sum

from csm_platform.dates import day_end, utc_date

from .models import Activity, Contact, Contract, ExchangeRate

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MissingExchangeRate(LookupError):
    """No rate for a currency on or before the evaluation date: the figure cannot be converted."""

    def __init__(self, currency: str, as_of: dt.date):
        super().__init__(f"No exchange rate for {currency} on or before {as_of:%Y-%m-%d}; add one in the admin.")
        self.currency = currency
        self.as_of = as_of


@dataclass(frozen=True)
class Term:
    """A contract term as ``numerator / denominator`` years, kept exact."""

    numerator: int
    denominator: int

    @property
    def years(self) -> Decimal:
        return Decimal(self.numerator) / Decimal(self.denominator)


def contract_term(*, start_date: dt.date, end_date: dt.date) -> Term:
    """DOMAIN.md ``term_years``: whole calendar months / 12 when ``end_date + 1`` falls on the start's day of
    the month, otherwise days / 365 (``end_date`` is inclusive)."""
    after_end = end_date + dt.timedelta(days=1)
    months = (after_end.year - start_date.year) * 12 + after_end.month - start_date.month
    if after_end.day == start_date.day:
        return Term(months, 12)
    return Term((after_end - start_date).days, 365)


def contract_acv(*, recurring_tcv: Decimal, start_date: dt.date, end_date: dt.date) -> Decimal:
    """``ACV(c) = recurring_tcv / term_years``, in the contract's currency, rounded to cents. One-time fees are
    never an input."""
    term = contract_term(start_date=start_date, end_date=end_date)
    annual = Decimal(recurring_tcv) * term.denominator / term.numerator
    return annual.quantize(CENT, rounding=ROUND_HALF_EVEN)


def contracts_live_on(*, as_of: dt.date) -> QuerySet[Contract]:
    """Contracts live on ``as_of``: ``start_date ≤ as_of ≤ end_date`` and not cancelled."""
    return Contract.objects.filter(start_date__lte=as_of, end_date__gte=as_of).exclude(status=Contract.Status.CANCELLED)


def exchange_rates_on(*, as_of: dt.date, currencies: Iterable[str]) -> dict[str, Decimal]:
    """For each currency, the latest rate dated on or before ``as_of`` (the reporting currency is 1)."""
    reporting = settings.REPORTING_CURRENCY
    wanted = set(currencies) - {reporting}
    rates = {reporting: Decimal(1)}
    if wanted:
        rows = (
            ExchangeRate.objects.filter(currency__in=wanted, date__lte=as_of)
            .order_by("currency", "-date")
            .values_list("currency", "rate")
        )
        for currency, rate in rows:
            rates.setdefault(currency, rate)
    for currency in wanted:
        if currency not in rates:
            raise MissingExchangeRate(currency, as_of)
    return rates


def account_acv_map(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """``ACV(account, as_of)`` in the reporting currency for every account with a live contract (one query for
    contracts, one for rates). Accounts without live contracts are absent (their ACV is 0)."""
    contracts = contracts_live_on(as_of=as_of)
    if account_ids is not None:
        contracts = contracts.filter(account_id__in=list(account_ids))
    rows = list(contracts.order_by().values_list("account_id", "currency", "recurring_tcv", "start_date", "end_date"))
    rates = exchange_rates_on(as_of=as_of, currencies={row[1] for row in rows})
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for account_id, currency, tcv, start_date, end_date in rows:
        acv = contract_acv(recurring_tcv=tcv, start_date=start_date, end_date=end_date)
        totals[account_id] += (acv * rates[currency]).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return dict(totals)


def account_acv(*, account_id: int, as_of: dt.date) -> Decimal:
    """``ACV(account, as_of)`` in the reporting currency."""
    return account_acv_map(as_of=as_of, account_ids=[account_id]).get(account_id, ZERO)


def arr_total(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> Decimal:
    """``ARR(as_of)`` = Σ over accounts of ``ACV(account, as_of)``."""
    return sum(account_acv_map(as_of=as_of, account_ids=account_ids).values(), ZERO)


def mrr_total(*, as_of: dt.date) -> Decimal:
    """``MRR = ARR / 12``, rounded to cents."""
    return (arr_total(as_of=as_of) / 12).quantize(CENT, rounding=ROUND_HALF_EVEN)


def million_dollar_customers(
    *, as_of: dt.date, acv_by_account: dict[int, Decimal] | None = None, threshold: Decimal = Decimal(1_000_000)
) -> int:
    """Accounts with ``ACV(account, as_of) ≥ 1,000,000`` in the reporting currency (``acv_by_account`` when the
    caller already has ``account_acv_map(as_of=as_of)``)."""
    acv = account_acv_map(as_of=as_of) if acv_by_account is None else acv_by_account
    return sum(1 for value in acv.values() if value >= threshold)


def last_touch_dates(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """The day of each account's last CSM touch (call, meeting, email, QBR) on or before ``as_of``."""
    rows = (
        Activity.objects.filter(
            account_id__in=list(account_ids), kind__in=Activity.TOUCH_KINDS, occurred_at__lt=day_end(as_of)
        )
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    return {account_id: utc_date(last) for account_id, last in rows}


def first_contract_starts(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """Each account's first contract start on or before ``as_of`` (cancelled contracts excluded)."""
    rows = (
        Contract.objects.filter(account_id__in=list(account_ids), start_date__lte=as_of)
        .exclude(status=Contract.Status.CANCELLED)
        .values("account_id")
        .annotate(first=Min("start_date"))
        .values_list("account_id", "first")
    )
    return dict(rows)


def last_sponsor_engagement(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """The last day (UTC) an active executive sponsor of each account was engaged on or before ``as_of``: a touch
    logged with the sponsor, or the sponsor's ``last_engaged_at``. Accounts never engaged are absent."""
    ids, end = list(account_ids), day_end(as_of)
    sponsors = Contact.objects.filter(account_id__in=ids, is_executive_sponsor=True, active=True)
    touches = (
        Activity.objects.filter(contact__in=sponsors, kind__in=Activity.TOUCH_KINDS, occurred_at__lt=end)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    fields = (
        sponsors.filter(last_engaged_at__lt=end)
        .values("account_id")
        .annotate(last=Max("last_engaged_at"))
        .values_list("account_id", "last")
    )
    result: dict[int, dt.date] = {}
    for account_id, moment in [*touches, *fields]:
        result[account_id] = max(result.get(account_id, dt.date.min), utc_date(moment))
    return result


def accounts_with_engaged_sponsor(*, as_of: dt.date, account_ids: Iterable[int], days: int) -> set[int]:
    """Accounts with an active executive sponsor engaged in ``(as_of − days, as_of]`` (``last_sponsor_engagement``
    after ``as_of − days``)."""
    start = as_of - dt.timedelta(days=days)
    return {a for a, day in last_sponsor_engagement(as_of=as_of, account_ids=account_ids).items() if day > start}


def live_seats(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, int]:
    """Licensed seats on contracts live on ``as_of`` per account; accounts whose live contracts carry no seats
    are absent (license utilization is then N/A)."""
    rows = (
        contracts_live_on(as_of=as_of)
        .filter(account_id__in=list(account_ids), seats__isnull=False)
        .values("account_id")
        .annotate(total=Sum("seats"))
        .values_list("account_id", "total")
    )
    return dict(rows)


def next_contract_ends(*, as_of: dt.date, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """The next renewal: the earliest end date on or after ``as_of`` among each account's live contracts."""
    rows = (
        contracts_live_on(as_of=as_of)
        .filter(account_id__in=list(account_ids))
        .values("account_id")
        .annotate(next_end=Min("end_date"))
        .values_list("account_id", "next_end")
    )
    return dict(rows)


def contract_end_dates(*, ended_on_or_before: dt.date) -> list[tuple[int, dt.date]]:
    """(account, end date) of every non-cancelled contract that ended on or before the date."""
    return list(
        Contract.objects.filter(end_date__lte=ended_on_or_before)
        .exclude(status=Contract.Status.CANCELLED)
        .values_list("account_id", "end_date")
        .distinct()
        .order_by("end_date", "account_id")
    )


def accounts_live_on_dates(*, pairs: Iterable[tuple[int, dt.date]]) -> set[tuple[int, dt.date]]:
    """The (account, date) pairs on which the account has a live contract (one query)."""
    wanted = list(pairs)
    spans: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    rows = (
        Contract.objects.filter(account_id__in={account_id for account_id, _ in wanted})
        .exclude(status=Contract.Status.CANCELLED)
        .values_list("account_id", "start_date", "end_date")
    )
    for account_id, start, end in rows:
        spans[account_id].append((start, end))
    return {
        (account_id, day)
        for account_id, day in wanted
        if any(start <= day <= end for start, end in spans.get(account_id, ()))
    }
