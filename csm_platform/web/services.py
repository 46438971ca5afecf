"""Writes of the pages' own data: saved views, renewal forecasts (with their history) and what the night stores for
the pages to read."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account

from .models import AccountRow, LeadershipNight, RenewalForecast, RenewalForecastChange, SavedView
from .selectors.leadership import leadership_night, night_to_json
from .selectors.portfolio import ROW_FIELDS, annotated, latest_snapshot_date


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


def pages_after_recompute(as_of: dt.date) -> dict:
    """The pages' step after each finished night (``health.pipeline.register_after_recompute``): the leadership
    figures of that night and every account's portfolio row."""
    leadership_night_write(as_of=as_of)
    return {"leadership_nights": 1, "account_rows": account_rows_refresh()}


def pages_after_refresh(account_ids: list[int]) -> None:
    """The pages' step after the intra-day refresh re-scores changed accounts: their portfolio rows."""
    account_rows_refresh(account_ids=account_ids)
