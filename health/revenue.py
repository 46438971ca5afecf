"""Revenue metrics of ../shared/DOMAIN.md ("Retention", "Renewals and value"): reads, for any period.

Every figure is derived from per-account ACV on the period's two dates (``accounts.selectors.account_acv_map``),
so the numbers on screen reconcile: the waterfall identity holds exactly in Decimal.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings

from accounts.selectors import CENT, ZERO, account_acv_map


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
    cohort_start_arr: Decimal
    cohort_end_arr: Decimal
    cohort_retained_arr: Decimal  # Σ min(ACV(end), ACV(start)) over the cohort
    churned_logos: int
    nrr: float | None  # None: empty cohort (N/A, never 0)
    grr: float | None
    logo_churn: float | None
    logo_churn_annualized: float | None


@dataclass(frozen=True)
class Waterfall:
    start: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end: Decimal

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in ("start", "new", "expansion", "contraction", "churn", "end")}


def retention_from_acv(
    *, acv_start: dict[int, Decimal], acv_end: dict[int, Decimal], start: dt.date, end: dt.date
) -> Retention:
    """NRR, GRR and logo churn of the cohort ``{a : ACV(a, start) > 0}``; logo churn annualised by compounding."""
    cohort = [a for a, value in acv_start.items() if value > 0]
    start_arr = sum((acv_start[a] for a in cohort), ZERO)
    end_arr = sum((acv_end.get(a, ZERO) for a in cohort), ZERO)
    retained = sum((min(acv_end.get(a, ZERO), acv_start[a]) for a in cohort), ZERO)
    churned = sum(1 for a in cohort if acv_end.get(a, ZERO) == 0)
    if not cohort:
        return Retention(start, end, 0, ZERO, ZERO, ZERO, 0, None, None, None, None)
    logo_churn = churned / len(cohort)
    days = (end - start).days
    annualized = 1 - (1 - logo_churn) ** (365 / days) if days > 0 else None
    return Retention(
        start,
        end,
        len(cohort),
        start_arr,
        end_arr,
        retained,
        churned,
        float(end_arr / start_arr),
        float(retained / start_arr),
        logo_churn,
        annualized,
    )


def waterfall_from_acv(*, acv_start: dict[int, Decimal], acv_end: dict[int, Decimal]) -> Waterfall:
    """start + new + expansion − contraction − churn = end, each term from per-account ACV differences."""
    new = expansion = contraction = churn = ZERO
    for account_id in set(acv_start) | set(acv_end):
        before, after = acv_start.get(account_id, ZERO), acv_end.get(account_id, ZERO)
        if before == 0 and after > 0:
            new += after  # including returning customers
        elif before > 0 and after == 0:
            churn += before
        elif after > before:
            expansion += after - before
        elif after < before:
            contraction += before - after
    start, end = sum(acv_start.values(), ZERO), sum(acv_end.values(), ZERO)
    return Waterfall(start, new, expansion, contraction, churn, end)


def retention(*, start: dt.date, end: dt.date) -> Retention:
    return retention_from_acv(
        acv_start=account_acv_map(as_of=start), acv_end=account_acv_map(as_of=end), start=start, end=end
    )


def arr_waterfall(*, start: dt.date, end: dt.date) -> Waterfall:
    return waterfall_from_acv(acv_start=account_acv_map(as_of=start), acv_end=account_acv_map(as_of=end))


def customer_lifetime_value(
    *, acv: Decimal, churn_probability: float, gross_margin: float | None = None, discount_rate: float | None = None
) -> Decimal:
    """Remaining CLV = ACV × m × (1 − p) / (r + p), m and r from the workspace settings by default."""
    m = Decimal(str(settings.CLV_GROSS_MARGIN if gross_margin is None else gross_margin))
    r = Decimal(str(settings.CLV_DISCOUNT_RATE if discount_rate is None else discount_rate))
    p = Decimal(str(churn_probability))
    if r + p == 0:
        raise ValueError("CLV is undefined when both the discount rate and the churn probability are 0.")
    return (acv * m * (1 - p) / (r + p)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def expected_renewal_value(*, acv: Decimal, churn_probability: float) -> Decimal:
    """Renewal forecast: expected renewed ARR = ACV × (1 − p)."""
    return (acv * (1 - Decimal(str(churn_probability)))).quantize(CENT, rounding=ROUND_HALF_EVEN)
