"""The pages' part of the demo, registered with ``accounts.demo`` in ``WebConfig.ready``: the AEs' forecasts of
the renewals due in the next ``FORECAST_DAYS`` days (most of those within ``FORECAST_SOON_DAYS``, half the
later ones), each with its history. The call follows the account's propensity to renew (``accounts.demo.book``):
commit for the strong, at risk or lost for the weak; the amount is the contract's ACV in the reporting currency
by the category; about a third were first called otherwise a month or two before.
"""

import datetime as dt
from decimal import Decimal

import numpy as np

from accounts.demo import DemoBook
from accounts.models import Account, Contract
from accounts.selectors import CENT, RateBook, contract_acv_exact
from csm_platform.dates import day_start

from .models import ForecastCategory, RenewalForecast, RenewalForecastChange

FORECAST_DAYS = 200
FORECAST_SOON_DAYS = 120
# The amount as a share of the ACV, by category (a range drawn from).
AMOUNT_SHARE = {
    ForecastCategory.COMMIT: (1.0, 1.08),
    ForecastCategory.PROBABLE: (0.9, 1.0),
    ForecastCategory.AT_RISK: (0.5, 0.85),
    ForecastCategory.LOST: (0.0, 0.0),
}
NEXT_STEPS = {
    ForecastCategory.COMMIT: ("Send the renewal order form", "Confirm the PO number with procurement"),
    ForecastCategory.PROBABLE: ("Renewal call with the sponsor", "Share the value review before the quote"),
    ForecastCategory.AT_RISK: ("Executive meeting to agree a rescue plan", "Offer a downsized renewal"),
    ForecastCategory.LOST: ("Exit interview with the sponsor", "Plan the data export"),
}
ORDER = list(ForecastCategory.values)


def _category(score: float) -> str:
    if score > 0.9:
        return ForecastCategory.COMMIT
    if score > 0:
        return ForecastCategory.PROBABLE
    return ForecastCategory.AT_RISK if score > -1.0 else ForecastCategory.LOST


def _amount(acv: Decimal | None, category: str, rng: np.random.Generator) -> Decimal | None:
    if acv is None:
        return None
    return (acv * Decimal(str(round(rng.uniform(*AMOUNT_SHARE[category]), 3)))).quantize(CENT)


def demo_load(book: DemoBook) -> dict[str, int]:
    rng = book.rng("forecasts")
    horizon = book.as_of + dt.timedelta(days=FORECAST_DAYS)
    rates = RateBook({plan.currency for plan in book.plans}, until=book.as_of)
    forecasts, changes = [], []
    for plan in book.plans:
        account = plan.account
        if account.status != Account.Status.ACTIVE:
            continue
        coming = [
            c for c in plan.contracts if c.status != Contract.Status.CANCELLED and book.as_of <= c.end_date <= horizon
        ]
        soon = bool(coming) and coming[0].end_date <= book.as_of + dt.timedelta(days=FORECAST_SOON_DAYS)
        if not coming or rng.random() >= (0.9 if soon else 0.5):
            continue
        score = plan.propensity + rng.normal(0, 0.5) + 0.3 * (account.segment == Account.Segment.HIGH_TOUCH)
        category = _category(score)
        set_at = day_start(book.as_of - dt.timedelta(days=int(rng.integers(1, 30)))) + dt.timedelta(hours=14)
        earlier = None
        if rng.random() < 0.35:
            neighbours = [ORDER[i] for i in (ORDER.index(category) - 1, ORDER.index(category) + 1) if 0 <= i < 4]
            earlier = neighbours[int(rng.integers(len(neighbours)))]
        next_step = NEXT_STEPS[category][int(rng.integers(2))]
        for contract in coming:
            acv = rates.convert(
                contract_acv_exact(
                    recurring_tcv=contract.recurring_tcv, start_date=contract.start_date, end_date=contract.end_date
                ),
                contract.currency,
                book.as_of,
            )
            amount = _amount(acv, category, rng)
            values = {"category": category, "amount": amount, "next_step": next_step}
            values["set_by"] = account.account_executive
            if earlier is not None:
                before = set_at - dt.timedelta(days=int(rng.integers(30, 60)))
                changes.append(
                    RenewalForecastChange(
                        contract=contract,
                        category=earlier,
                        amount=_amount(acv, earlier, rng),
                        next_step=NEXT_STEPS[earlier][0],
                        set_by=account.account_executive,
                        set_at=before,
                    )
                )
            changes.append(
                RenewalForecastChange(contract=contract, previous_category=earlier or "", set_at=set_at, **values)
            )
            forecasts.append(RenewalForecast(contract=contract, set_at=set_at, **values))
    RenewalForecast.objects.bulk_create(forecasts)
    RenewalForecastChange.objects.bulk_create(changes)
    return {"forecasts": len(forecasts), "forecast changes": len(changes)}
