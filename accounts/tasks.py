"""Celery tasks of the accounts app: thin, they parse their arguments and call one service."""

import datetime as dt

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from . import services
from .usage import partitions
from .usage import services as usage_services

FOLD_DELAY_SECONDS = 5
FOLD_SCHEDULED_KEY = "usage-rollups-fold-scheduled"


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def contract_statuses_refresh(as_of: str | None = None) -> int:
    """``as_of`` is an ISO date; beat leaves it out, meaning today (UTC)."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date()
    return services.contract_statuses_refresh(as_of=day)


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def usage_rollups_fold() -> int:
    return usage_services.usage_rollups_fold_all()


def usage_rollups_fold_soon() -> None:
    """After ingestion stored events: fold them now when tasks run in-process, else schedule one fold a few
    seconds out for all the batches arriving meanwhile (a cache key debounces; the beat entry is the backstop)."""
    if usage_rollups_fold.app.conf.task_always_eager:
        usage_services.usage_rollups_fold_all()
    elif cache.add(FOLD_SCHEDULED_KEY, True, timeout=FOLD_DELAY_SECONDS):
        usage_rollups_fold.apply_async(countdown=FOLD_DELAY_SECONDS, expires=60)


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def usage_partitions_maintain() -> dict[str, int]:
    """The coming months' partitions of the raw events, and the retention (``accounts.usage.partitions``)."""
    report = partitions.usage_partitions_maintain()
    return {"created": len(report.created), "dropped": len(report.dropped), "waiting": len(report.waiting_for_rollups)}
