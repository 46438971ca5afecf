"""Revenue metrics (docs/concepts/retention.md, docs/concepts/renewals-and-value.md): reads, for any period.

Every figure is derived from per-account ACV on the period's two dates (``accounts.selectors.account_acv_book``),
so the numbers on screen reconcile: the waterfall identity holds exactly in Decimal. Retention is in constant
currency: both ends are converted at the end day's rates, so a currency move is never contraction; the waterfall
shows it as its own line, from the start as reported (the start day's rates) to the end as reported. Accounts whose
ACV is N/A on either date (a missing rate) are left out of both ends, and the figures list them.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings

from accounts.selectors import CENT, ZERO, AcvBook, account_acv_book


def year_before(day: dt.date) -> dt.date:
    """The same date one year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Retention:
    start: dt.date
    end: dt.date
    cohort: int  # accounts with ACV > 0 on start
    cohort_start_arr: Decimal  # at the end day's rates (constant currency)
    cohort_end_arr: Decimal
    cohort_retained_arr: Decimal  # Σ min(ACV(end), ACV(start)) over the cohort
    churned_logos: int
    nrr: float | None  # None: empty cohort (N/A, never 0)
    grr: float | None
    logo_churn: float | None
    logo_churn_annualized: float | None
    excluded: list[dict] = field(default_factory=list)  # accounts left out: ACV N/A on either date


@dataclass(frozen=True)
class Waterfall:
    """start (as reported) + currency effect + new + expansion − contraction − churn = end (as reported)."""

    start: Decimal
    currency_effect: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end: Decimal
    excluded: list[dict] = field(default_factory=list)

    TERMS = ("start", "currency_effect", "new", "expansion", "contraction", "churn", "end")

    def as_dict(self) -> dict:
        return {**{name: str(getattr(self, name)) for name in self.TERMS}, "excluded": self.excluded}


@dataclass(frozen=True)
class Period:
    """Per-account ACV at a period's two dates, every figure at the end day's rates, plus the start as reported
    (at the start day's rates) for the waterfall's currency line; accounts N/A on either date are left out."""

    start: dt.date
    end: dt.date
    acv_start: dict[int, Decimal]  # at the end day's rates
    acv_end: dict[int, Decimal]
    start_reported: dict[int, Decimal]  # at the start day's rates
    excluded: list[dict]


def period_from_books(*, start: AcvBook, start_constant: AcvBook, end: AcvBook) -> Period:
    """The period of three books of the same accounts: ``start`` at its own rates, ``start_constant`` (the start
    date at the end day's rates) and ``end``."""
    left_out = set(start.missing) | set(start_constant.missing) | set(end.missing)
    excluded = {}
    for book in (start, start_constant, end):
        for item in book.excluded:
            excluded.setdefault(item["account_id"], {**item, "as_of": book.as_of.isoformat()})

    def kept(book: AcvBook) -> dict[int, Decimal]:
        return {a: value for a, value in book.acv.items() if a not in left_out}

    return Period(
        start=start.as_of,
        end=end.as_of,
        acv_start=kept(start_constant),
        acv_end=kept(end),
        start_reported=kept(start),
        excluded=[excluded[a] for a in sorted(excluded)],
    )


def period_acv(*, start: dt.date, end: dt.date, end_book: AcvBook | None = None) -> Period:
    """The period's books read from the contracts (``end_book``: the caller's ``account_acv_book(as_of=end)``)."""
    return period_from_books(
        start=account_acv_book(as_of=start),
        start_constant=account_acv_book(as_of=start, rates_on=end),
        end=account_acv_book(as_of=end) if end_book is None else end_book,
    )


def retention_from_period(period: Period) -> Retention:
    """NRR, GRR and logo churn of the cohort ``{a : ACV(a, start) > 0}``; logo churn annualised by compounding."""
    acv_start, acv_end = period.acv_start, period.acv_end
    cohort = [a for a, value in acv_start.items() if value > 0]
    if not cohort:
        return Retention(period.start, period.end, 0, ZERO, ZERO, ZERO, 0, None, None, None, None, period.excluded)
    start_arr = sum((acv_start[a] for a in cohort), ZERO)
    end_arr = sum((acv_end.get(a, ZERO) for a in cohort), ZERO)
    retained = sum((min(acv_end.get(a, ZERO), acv_start[a]) for a in cohort), ZERO)
    churned = sum(1 for a in cohort if acv_end.get(a, ZERO) == 0)
    logo_churn = churned / len(cohort)
    days = (period.end - period.start).days
    annualized = 1 - (1 - logo_churn) ** (365 / days) if days > 0 else None
    return Retention(
        period.start,
        period.end,
        len(cohort),
        start_arr,
        end_arr,
        retained,
        churned,
        float(end_arr / start_arr),
        float(retained / start_arr),
        logo_churn,
        annualized,
        period.excluded,
    )


def waterfall_from_period(period: Period) -> Waterfall:
    """Each movement from per-account ACV differences at the end day's rates; the currency effect is the start at
    the end day's rates less the start as reported, so the identity holds exactly."""
    new = expansion = contraction = churn = ZERO
    for account_id in set(period.acv_start) | set(period.acv_end):
        before, after = period.acv_start.get(account_id, ZERO), period.acv_end.get(account_id, ZERO)
        if before == 0 and after > 0:
            new += after  # including returning customers
        elif before > 0 and after == 0:
            churn += before
        elif after > before:
            expansion += after - before
        elif after < before:
            contraction += before - after
    start = sum(period.start_reported.values(), ZERO)
    currency_effect = sum(period.acv_start.values(), ZERO) - start
    end = sum(period.acv_end.values(), ZERO)
    return Waterfall(start, currency_effect, new, expansion, contraction, churn, end, period.excluded)


def retention(*, start: dt.date, end: dt.date) -> Retention:
    return retention_from_period(period_acv(start=start, end=end))


def arr_waterfall(*, start: dt.date, end: dt.date) -> Waterfall:
    return waterfall_from_period(period_acv(start=start, end=end))


def customer_lifetime_value(
    *,
    acv: Decimal | None,
    churn_probability: float | None,
    gross_margin: float | None = None,
    discount_rate: float | None = None,
) -> Decimal | None:
    """Remaining CLV = ACV × m × (1 − p) / (r + p), m and r from the workspace settings by default, rounded to
    cents; None (N/A) when the ACV or the probability is unknown."""
    if acv is None or churn_probability is None:
        return None
    m = Decimal(str(settings.CLV_GROSS_MARGIN if gross_margin is None else gross_margin))
    r = Decimal(str(settings.CLV_DISCOUNT_RATE if discount_rate is None else discount_rate))
    p = Decimal(str(churn_probability))
    if r + p == 0:
        raise ValueError("CLV is undefined when both the discount rate and the churn probability are 0.")
    return (acv * m * (1 - p) / (r + p)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def expected_renewal_value(*, acv: Decimal | None, churn_probability: float | None) -> Decimal | None:
    """Renewal forecast: expected renewed ARR = ACV × (1 − p), rounded to cents; None (N/A) when either is
    unknown."""
    if acv is None or churn_probability is None:
        return None
    return (acv * (1 - Decimal(str(churn_probability)))).quantize(CENT, rounding=ROUND_HALF_EVEN)
