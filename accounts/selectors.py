"""Reads of the accounts app: the contract-value formulas of docs/concepts/contract-value.md.

Every figure takes the evaluation date ``as_of``. Amounts are ``Decimal``: a contract's ACV is kept exact in its own
currency and converted at the rate on or before the rate date; money is rounded to cents once, per account, so
that account, total and waterfall sums add up exactly. An account with a live contract in a currency that has no
rate on or before the rate date has no ACV (N/A, never 0): it is listed in ``AcvBook.missing`` with the currencies
to add, and every total built on the book says what it leaves out.
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils.translation import gettext

from csm_platform.dates import day_end, utc_date

from .models import Account, Activity, Contact, ContactEngagement, Contract, ExchangeRate

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# docs/concepts/contract-value.md "Short terms": a contract must cover at least this many days (end date inclusive).
MIN_TERM_DAYS = 28


def cents(amount: Decimal) -> Decimal:
    """Money rounded to cents (half to even), once, where it is shown or summed for display."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Term:
    """A contract term as ``numerator / denominator`` years, kept exact."""

    numerator: int
    denominator: int

    @property
    def years(self) -> Decimal:
        return Decimal(self.numerator) / Decimal(self.denominator)


def contract_term(*, start_date: dt.date, end_date: dt.date) -> Term:
    """``term_years`` (docs/concepts/contract-value.md): whole calendar months / 12 when ``end_date + 1`` falls on
    the start's day of the month, otherwise days / 365 (``end_date`` is inclusive)."""
    after_end = end_date + dt.timedelta(days=1)
    months = (after_end.year - start_date.year) * 12 + after_end.month - start_date.month
    if after_end.day == start_date.day:
        return Term(months, 12)
    return Term((after_end - start_date).days, 365)


def contract_acv_exact(*, recurring_tcv: Decimal, start_date: dt.date, end_date: dt.date) -> Decimal:
    """``ACV(c) = recurring_tcv / term_years`` in the contract's currency, unrounded (28 significant digits).
    One-time fees are never an input."""
    term = contract_term(start_date=start_date, end_date=end_date)
    return Decimal(recurring_tcv) * term.denominator / term.numerator


def contract_acv(*, recurring_tcv: Decimal, start_date: dt.date, end_date: dt.date) -> Decimal:
    """One contract's ACV in its own currency, rounded to cents for display."""
    return cents(contract_acv_exact(recurring_tcv=recurring_tcv, start_date=start_date, end_date=end_date))


def contracts_live_on(*, as_of: dt.date) -> QuerySet[Contract]:
    """Contracts live on ``as_of``: ``start_date ≤ as_of ≤ end_date`` and not cancelled."""
    return Contract.objects.filter(start_date__lte=as_of, end_date__gte=as_of).exclude(status=Contract.Status.CANCELLED)


class RateBook:
    """Every exchange rate of some currencies (one query), to convert at any date: "the rate on d" is the latest
    rate dated on or before d; the reporting currency is 1."""

    def __init__(self, currencies: Iterable[str], *, until: dt.date | None = None):
        self.reporting = settings.REPORTING_CURRENCY
        self.dates: dict[str, list[dt.date]] = defaultdict(list)
        self.rates: dict[str, list[Decimal]] = defaultdict(list)
        wanted = set(currencies) - {self.reporting}
        if wanted:
            rows = ExchangeRate.objects.filter(currency__in=wanted).order_by("currency", "date")
            if until is not None:
                rows = rows.filter(date__lte=until)
            for currency, date, rate in rows.values_list("currency", "date", "rate"):
                self.dates[currency].append(date)
                self.rates[currency].append(rate)

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """The rate of ``currency`` on ``day``; None without one on or before it."""
        if currency == self.reporting:
            return Decimal(1)
        position = bisect.bisect_right(self.dates.get(currency, []), day)
        return self.rates[currency][position - 1] if position else None

    def convert(self, amount: Decimal, currency: str, day: dt.date) -> Decimal | None:
        """``amount`` in the reporting currency at ``day``'s rate, rounded to cents for display; None without a
        rate."""
        rate = self.rate(currency, day)
        return None if rate is None else cents(amount * rate)


def missing_rate_reason(currencies: Iterable[str], rates_on: dt.date) -> str:
    """Why an amount cannot be converted, in words a person can act on."""
    names = ", ".join(sorted(currencies))
    return gettext("no %(currencies)s exchange rate on or before %(day)s") % {
        "currencies": names,
        "day": f"{rates_on:%Y-%m-%d}",
    }


@dataclass(frozen=True)
class AcvBook:
    """``ACV(account, as_of)`` in the reporting currency at ``rates_on``'s rates, for every account with a live
    contract whose currencies all have a rate (``acv``; accounts without live contracts are absent: their ACV is
    0), and the accounts whose ACV is N/A with the currencies that lack a rate (``missing``)."""

    as_of: dt.date
    rates_on: dt.date
    acv: dict[int, Decimal] = field(default_factory=dict)
    missing: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def get(self, account_id: int) -> Decimal | None:
        """The account's ACV: 0 without live contracts, None (N/A) when a rate is missing."""
        return None if account_id in self.missing else self.acv.get(account_id, ZERO)

    @property
    def total(self) -> Decimal:
        """Σ ACV over the accounts that have one: ``ARR(as_of)`` less ``excluded``."""
        return sum(self.acv.values(), ZERO)

    @property
    def excluded(self) -> list[dict]:
        """What the total leaves out: one entry per account whose ACV is N/A, with the reason."""
        return [
            {
                "account_id": account_id,
                "currencies": list(currencies),
                "reason": missing_rate_reason(currencies, self.rates_on),
            }
            for account_id, currencies in sorted(self.missing.items())
        ]


def account_acv_book(
    *, as_of: dt.date, account_ids: Iterable[int] | None = None, rates_on: dt.date | None = None
) -> AcvBook:
    """``ACV(account, as_of)`` for every account with a live contract (one query for contracts, one for rates),
    converted at ``rates_on``'s rates (default ``as_of``; constant-currency retention passes the period's end):
    Σ exact contract ACVs × rate, rounded to cents once per account."""
    rates_on = as_of if rates_on is None else rates_on
    contracts = contracts_live_on(as_of=as_of)
    if account_ids is not None:
        contracts = contracts.filter(account_id__in=list(account_ids))
    rows = list(contracts.order_by().values_list("account_id", "currency", "recurring_tcv", "start_date", "end_date"))
    book = RateBook({row[1] for row in rows}, until=rates_on)
    amounts: dict[int, list[tuple[Decimal, str]]] = defaultdict(list)
    for account_id, currency, tcv, start_date, end_date in rows:
        amounts[account_id].append(
            (contract_acv_exact(recurring_tcv=tcv, start_date=start_date, end_date=end_date), currency)
        )
    acv, missing = {}, {}
    for account_id, items in amounts.items():
        value, lacking = acv_converted(amounts=items, book=book, day=rates_on)
        if lacking:
            missing[account_id] = lacking
        else:
            acv[account_id] = value
    return AcvBook(as_of=as_of, rates_on=rates_on, acv=acv, missing=missing)


def acv_converted(
    *, amounts: Iterable[tuple[Decimal, str]], book: RateBook, day: dt.date
) -> tuple[Decimal | None, tuple[str, ...]]:
    """One account's ACV from its contracts' exact ACVs (amount, currency): Σ amount × the rate on ``day``,
    rounded to cents once. With a currency lacking a rate: (None, the currencies), never a partial sum."""
    total, lacking = Decimal(0), set()
    for amount, currency in amounts:
        rate = book.rate(currency, day)
        if rate is None:
            lacking.add(currency)
        else:
            total += amount * rate
    return (None, tuple(sorted(lacking))) if lacking else (cents(total), ())


def account_acv(*, account_id: int, as_of: dt.date) -> Decimal | None:
    """``ACV(account, as_of)`` in the reporting currency; None (N/A) when a rate is missing."""
    return account_acv_book(as_of=as_of, account_ids=[account_id]).get(account_id)


def million_dollar_customers(*, book: AcvBook, threshold: Decimal = Decimal(1_000_000)) -> int:
    """Accounts with ``ACV(account, as_of) ≥ 1,000,000`` in the reporting currency (accounts with ACV N/A are
    not counted: the book's ``excluded`` says so)."""
    return sum(1 for value in book.acv.values() if value >= threshold)


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
    """The last day (UTC) an active executive sponsor of each account was engaged on or before ``as_of``, from
    dated records only (a touch logged with the sponsor, or a ``ContactEngagement``), so that a past night reads
    what was known then. Accounts never engaged are absent."""
    ids, end = list(account_ids), day_end(as_of)
    sponsors = Contact.objects.filter(account_id__in=ids, is_executive_sponsor=True, active=True)
    touches = (
        Activity.objects.filter(contact__in=sponsors, kind__in=Activity.TOUCH_KINDS, occurred_at__lt=end)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    records = (
        ContactEngagement.objects.filter(contact__in=sponsors, engaged_at__lt=end)
        .values("contact__account_id")
        .annotate(last=Max("engaged_at"))
        .values_list("contact__account_id", "last")
    )
    result: dict[int, dt.date] = {}
    for account_id, moment in [*touches, *records]:
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


def account_changes(*, account_id: int) -> QuerySet[LogEntry]:
    """The audit trail of an account: changes to the account itself (owner, AE, status...) and to its contracts,
    newest first, with who made them."""
    types = ContentType.objects.get_for_models(Account, Contract)
    return (
        LogEntry.objects.filter(
            Q(content_type=types[Account], object_id=account_id)
            | Q(content_type=types[Contract], additional_data__account_id=account_id)
        )
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-id")
    )
