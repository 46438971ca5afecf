"""The pages' part of the demo, registered with ``accounts.demo`` in ``WebConfig.ready``: the AEs' forecasts of
the renewals due in the next ``FORECAST_DAYS`` days (most of those within ``FORECAST_SOON_DAYS``, half the
later ones), each with its history. The call follows the account's propensity to renew (``accounts.demo.book``):
commit for the strong, at risk or lost for the weak; the amount is the contract's ACV in the reporting currency
by the category; about a third were first called otherwise a month or two before.

Then the quarterly renewal targets of the quarter of ``as_of`` and the next ones (``TARGET_SHARE`` of the ACV that
ends in each, three significant digits: what the renewals page's attainment reads), and a few saved views of the
demo's CSM, manager and AE (``SAVED_VIEWS``).
"""

import datetime as dt
from decimal import Decimal

import numpy as np
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_noop

from accounts.demo import DemoBook
from accounts.models import Account, Contract
from accounts.selectors import CENT, RateBook, contract_acv_exact
from csm_platform.dates import add_months, day_start

from .models import ForecastCategory, QuarterTarget, RenewalForecast, RenewalForecastChange, SavedView
from .selectors.renewals import quarter_start

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
TARGET_QUARTERS = 4
TARGET_SHARE = 0.85
# (user, page, name, filters): "me" is the user, "team" the team they lead.
SAVED_VIEWS = (
    (
        "csm",
        SavedView.Page.PORTFOLIO,
        gettext_noop("At risk, renewing in 90 days"),
        {"owner": "me", "at_risk": "on", "renewal": "90", "sort": "-acv"},
    ),
    ("csm", SavedView.Page.PORTFOLIO, gettext_noop("Lowest health first"), {"owner": "me", "sort": "health"}),
    (
        "manager",
        SavedView.Page.PORTFOLIO,
        gettext_noop("My team at risk"),
        {"team": "team", "at_risk": "on", "sort": "-acv"},
    ),
    (
        "manager",
        SavedView.Page.PORTFOLIO,
        gettext_noop("My team, lowest health first"),
        {"team": "team", "sort": "health"},
    ),
    (
        "ae",
        SavedView.Page.RENEWALS,
        gettext_noop("Open, next 90 days"),
        {"account_executive": "me", "state": "open", "window": "90", "sort": "end_date"},
    ),
)


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
    return {
        "forecasts": len(forecasts),
        "forecast changes": len(changes),
        "quarter targets": _targets_create(book, rates),
        "saved views": _saved_views_create(book),
    }


def _targets_create(book: DemoBook, rates: RateBook) -> int:
    """Each quarter's target from the ACV (reporting currency) of the contracts ending in it; a quarter that has a
    target keeps it."""
    starts = [add_months(quarter_start(book.as_of), 3 * n) for n in range(TARGET_QUARTERS)]
    ending = dict.fromkeys(starts, Decimal(0))
    for plan in book.plans:
        for contract in plan.contracts:
            start = quarter_start(contract.end_date)
            if contract.status == Contract.Status.CANCELLED or start not in ending:
                continue
            acv = contract_acv_exact(
                recurring_tcv=contract.recurring_tcv, start_date=contract.start_date, end_date=contract.end_date
            )
            ending[start] += rates.convert(acv, contract.currency, book.as_of) or 0
    targets = [
        QuarterTarget(
            quarter=f"{start.year}-Q{(start.month - 1) // 3 + 1}", target=_rounded(acv * Decimal(TARGET_SHARE))
        )
        for start, acv in ending.items()
        if acv > 0
    ]
    return len(QuarterTarget.objects.bulk_create(targets, ignore_conflicts=True))


def _rounded(amount: Decimal) -> Decimal:
    """``amount`` to three significant digits (a target as a person sets it)."""
    digits = len(str(int(amount)))
    return Decimal(round(amount, 3 - digits)).quantize(CENT)


def _saved_views_create(book: DemoBook) -> int:
    views = []
    for username, page, name, filters in SAVED_VIEWS:
        user = book.users.get(username)
        if user is None:
            continue
        values = {"me": user.pk, "team": user.managed_teams.values_list("pk", flat=True).first()}
        query = {key: values.get(value, value) for key, value in filters.items()}
        views.append(SavedView(user=user, page=page, name=gettext(name), querystring=urlencode(query)))
    return len(SavedView.objects.bulk_create(views, ignore_conflicts=True))
