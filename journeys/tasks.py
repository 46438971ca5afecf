"""Celery tasks of the journeys app: thin, they take ids and ISO dates and call one service each."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, time_limit=15 * 60, soft_time_limit=14 * 60)
def morning_digest() -> int:
    """Beat runs it hourly; the digest goes out once a day at the settings' hour. Returns e-mails sent."""
    run = services.digest_run_due(now=timezone.now())
    return run.sent if run else 0
