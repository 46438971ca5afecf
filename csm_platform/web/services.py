"""Writes of the pages' own data: saved views, renewal forecasts (with their history) and what the night stores for
the pages to read."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contract
from accounts.selectors import RateBook
from health.models import AccountSnapshot
from health.pipeline import later_nights_follow

from .models import AccountRow, ContractRow, LeadershipNight, RenewalForecast, RenewalForecastChange, SavedView
from .selectors.leadership import leadership_night, night_to_json
from .selectors.portfolio import ROW_FIELDS, annotated, latest_snapshot_date
from .selectors.renewals import ROW_INPUTS, contract_figures, quarter_start


def saved_view_save(*, user_id: int, page: str, name: str, querystring: str) -> SavedView:
    """Create the user's view of that name on the page, or replace its filters."""
    view, _ = SavedView.objects.update_or_create(
        user_id=user_id, page=page, name=name.strip(), defaults={"querystring": querystring.lstrip("?")}
    )
    return view


def saved_view_delete(*, user_id: int, saved_view_id: int) -> bool:
    """Delete one of the user's own saved views; False when there is no such view of theirs."""
    deleted, _ = SavedView.objects.filter(pk=saved_view_id, user_id=user_id).delete()
    return bool(deleted)


@transaction.atomic
def renewal_forecast_set(
    *,
    contract_id: int,
    category: str,
    amount: Decimal | None,
    next_step: str,
    note: str,
    user_id: int,
) -> RenewalForecast:
    """Set the contract's forecast (category, amount, next step) and record the change in its history (both or
    neither)."""
    now = timezone.now()
    current = RenewalForecast.objects.select_for_update().filter(contract_id=contract_id).first()
    values = {"category": category, "amount": amount, "next_step": next_step, "note": note, "set_by_id": user_id}
    RenewalForecastChange.objects.create(
        contract_id=contract_id, previous_category=current.category if current else "", set_at=now, **values
    )
    forecast, _ = RenewalForecast.objects.update_or_create(contract_id=contract_id, defaults={**values, "set_at": now})
    return forecast


def leadership_night_write(*, as_of: dt.date) -> LeadershipNight:
    """Compute and store (upsert) what the leadership dashboard shows for the night ``as_of``."""
    night, _ = LeadershipNight.objects.update_or_create(
        as_of=as_of, defaults={"figures": night_to_json(leadership_night(as_of=as_of))}
    )
    return night


def account_rows_refresh(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> int:
    """Build (upsert) the portfolio rows of the accounts (all by default) for the latest night and ``today``'s
    calendar (default: today), set-based: one query reads them as the page would live. Returns rows written."""
    as_of = latest_snapshot_date()
    if as_of is None:
        return 0
    today = today or timezone.localdate()
    accounts = Account.objects.order_by()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    values = annotated(accounts, as_of=as_of, today=today).values("pk", *ROW_FIELDS)
    rows = [
        AccountRow(
            account_id=row["pk"],
            as_of=as_of,
            built_on=today,
            **{field: row[name] for name, field in ROW_FIELDS.items()},
        )
        for row in values
    ]
    AccountRow.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=["as_of", "built_on", "refreshed_at", *ROW_FIELDS.values()],
        batch_size=1000,
    )
    return len(rows)


def contract_rows_refresh(*, account_ids: Iterable[int] | None = None) -> int:
    """Build (upsert) the renewals rows of the contracts (of the accounts; all by default) the renewals page can list
    on the latest night — not cancelled, ending in its quarter or later — with their inputs, their ACV at the night's
    rates and their expected value with the account's churn probability that night (``selectors.renewals
    .contract_figures``, as the page computes them live). Four queries and the writes; returns rows written. A full
    build also deletes the rows of earlier nights."""
    as_of = latest_snapshot_date()
    if as_of is None:
        return 0
    contracts = Contract.objects.exclude(status=Contract.Status.CANCELLED).filter(end_date__gte=quarter_start(as_of))
    snapshots = AccountSnapshot.objects.filter(as_of=as_of)
    if account_ids is not None:
        account_ids = list(account_ids)
        contracts, snapshots = (
            contracts.filter(account_id__in=account_ids),
            snapshots.filter(account_id__in=account_ids),
        )
    inputs = list(contracts.order_by().values("pk", "account_id", *ROW_INPUTS))
    probability = dict(snapshots.values_list("account_id", "churn_probability"))
    rates = RateBook({c["currency"] for c in inputs}, until=as_of)
    rows = []
    for c in inputs:
        p = probability.get(c["account_id"])
        acv, expected = contract_figures(
            **{f: c[f] for f in ROW_INPUTS}, churn_probability=p, rates=rates, rates_on=as_of
        )
        rows.append(
            ContractRow(
                contract_id=c["pk"],
                as_of=as_of,
                churn_probability=p,
                acv=acv,
                expected=expected,
                **{f: c[f] for f in ROW_INPUTS},
            )
        )
    with transaction.atomic():
        ContractRow.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["contract"],
            update_fields=["as_of", "churn_probability", "acv", "expected", "refreshed_at", *ROW_INPUTS],
            batch_size=1000,
        )
        if account_ids is None:
            ContractRow.objects.exclude(as_of=as_of).delete()
    return len(rows)


def pages_after_recompute(as_of: dt.date) -> dict:
    """The pages' step after each finished night (``health.pipeline.register_after_recompute``): the leadership
    figures of that night, every account's portfolio row and the renewals rows of the contracts. The rows are the
    latest night's: a backfill builds them after its last night only."""
    leadership_night_write(as_of=as_of)
    if later_nights_follow():
        return {"leadership_nights": 1}
    return {
        "leadership_nights": 1,
        "account_rows": account_rows_refresh(),
        "contract_rows": contract_rows_refresh(),
    }


def pages_after_refresh(account_ids: list[int]) -> None:
    """The pages' step after the intra-day refresh re-scores changed accounts: their portfolio rows and their
    contracts' renewals rows."""
    account_rows_refresh(account_ids=account_ids)
    contract_rows_refresh(account_ids=account_ids)
