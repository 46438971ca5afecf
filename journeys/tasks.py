"""Celery tasks of the journeys app: thin, they take ids and ISO dates and call one service each."""

from celery import shared_task
from django.utils import timezone

from . import services
from .webhooks import services as webhooks


@shared_task(acks_late=True, time_limit=15 * 60, soft_time_limit=14 * 60)
def morning_digest() -> int:
    """Beat runs it hourly; the digest goes out once a day at the settings' hour. Returns e-mails sent."""
    run = services.digest_run_due(now=timezone.now())
    return run.sent if run else 0


# A delivery's own timeout is WEBHOOK_TIMEOUT_SECONDS (10 s by default): the limits leave room for it and the log.
@shared_task(acks_late=True, time_limit=2 * 60, soft_time_limit=90)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt of an outgoing webhook delivery; after a failure the next attempt is queued with the backoff the
    service gives, until it gives none (success, a refusal, WEBHOOK_MAX_ATTEMPTS). A delivery no longer pending is
    left alone, so a redelivered task sends nothing twice."""
    retry_in = webhooks.delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        webhook_deliver.apply_async((delivery_id,), countdown=retry_in)
