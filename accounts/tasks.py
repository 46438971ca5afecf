"""Celery tasks of the accounts app: thin, they parse their arguments and call one service."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def contract_statuses_refresh(as_of: str | None = None) -> int:
    """``as_of`` is an ISO date; beat leaves it out, meaning today (UTC)."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date()
    return services.contract_statuses_refresh(as_of=day)
