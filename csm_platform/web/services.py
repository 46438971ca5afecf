"""Writes of the pages' own data: saved views and renewal forecasts (with their history)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .models import RenewalForecast, RenewalForecastChange, SavedView


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
