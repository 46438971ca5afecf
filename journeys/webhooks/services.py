"""Writes of outgoing webhooks: record an event once, create its deliveries, attempt them, replay them.

An event (``WebhookEvent``, unique by kind and key) is recorded only while an active endpoint subscribes to its
kind, with one delivery per such endpoint, in the caller's transaction; the deliveries are dispatched to Celery
when it commits. A delivery is attempted with its row locked (``SKIP LOCKED``: never twice at once, never again
once it succeeded); a failure is retried by the task after ``delivery_backoff`` until ``WEBHOOK_MAX_ATTEMPTS``.

Signature: ``X-CSM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<body>")>``.
"""

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from http.client import HTTPException

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account

from ..models import Delivery, DeliveryAttempt, Endpoint, EventKind, PlaybookFiring, WebhookEvent
from . import selectors
from .messages import event_text

# Answers that are worth retrying; any other 4xx says the request itself is refused (a wrong URL, a removed
# Slack hook) and is not sent again.
RETRY_CLIENT_ERRORS = {408, 409, 425, 429}
EXCERPT_CHARS = 1000
# Nightly events look this many nights back, so a night that did not run loses nothing (each is sent once).
LOOKBACK_DAYS = 7
SIGNATURE_HEADER = "X-CSM-Signature"


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-CSM-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def delivery_backoff(*, attempt: int) -> int:
    """Seconds before the next attempt after failed attempt number ``attempt``: the base delay doubled each time,
    at most ``WEBHOOK_RETRY_MAX_SECONDS``."""
    return min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1), settings.WEBHOOK_RETRY_MAX_SECONDS)


def webhook_events_emit(
    *, kind: str, occurrences: Iterable[tuple[str, dict]], occurred_at: dt.datetime | None = None
) -> int:
    """Record the ``(key, payload)`` occurrences of ``kind`` not recorded yet and deliver each to the active
    endpoints subscribed to ``kind``; returns how many events are new. Nothing is recorded without a subscriber."""
    occurrences = dict(occurrences)
    endpoints = [endpoint for endpoint in Endpoint.objects.filter(active=True) if kind in endpoint.events]
    if not occurrences or not endpoints:
        return 0
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        WebhookEvent.objects.bulk_create(
            [
                WebhookEvent(kind=kind, key=key, payload=payload, occurred_at=occurred_at)
                for key, payload in occurrences.items()
            ],
            ignore_conflicts=True,
        )
        # New: recorded now, so without deliveries yet (every recorded event has a subscriber).
        events = list(WebhookEvent.objects.filter(kind=kind, key__in=list(occurrences), deliveries__isnull=True))
        Delivery.objects.bulk_create(
            [
                Delivery(endpoint=endpoint, event=event, payload=_body(endpoint, event))
                for event in events
                for endpoint in endpoints
            ],
            ignore_conflicts=True,
        )
        _dispatch(
            Delivery.objects.filter(event__in=events, status=Delivery.Status.PENDING).values_list("pk", flat=True)
        )
    return len(events)


def delivery_attempt(*, delivery_id: int) -> int | None:
    """Send a pending delivery once and log the attempt. Returns the seconds to wait before the next attempt, or
    None when there is none to make (it succeeded, failed for good, or is not pending or is being attempted)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        now, number = timezone.now(), delivery.attempts + 1
        if delivery.endpoint.active:
            started = time.monotonic()
            status_code, excerpt, error = _post(delivery)
            duration_ms = round((time.monotonic() - started) * 1000)
        else:
            status_code, excerpt, error, duration_ms = None, "", "The endpoint is inactive.", 0
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            status_code=status_code,
            response_excerpt=excerpt,
            error=error,
            duration_ms=duration_ms,
        )
        retry_in = None
        if status_code is not None and 200 <= status_code < 300:
            delivery.status, delivery.delivered_at = Delivery.Status.SUCCEEDED, timezone.now()
        elif _retryable(status_code, delivery.endpoint.active) and number < settings.WEBHOOK_MAX_ATTEMPTS:
            retry_in = delivery_backoff(attempt=number)
        else:
            delivery.status = Delivery.Status.FAILED
        delivery.attempts, delivery.last_attempt_at = number, now
        delivery.last_status_code, delivery.response_excerpt, delivery.last_error = status_code, excerpt, error
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_in) if retry_in is not None else None
        delivery.save()
    return retry_in


@transaction.atomic
def deliveries_replay(*, delivery_ids: Iterable[int]) -> int:
    """Send the events of these deliveries again to their endpoints (as each endpoint is set now): a new delivery
    each, pointing at the one it replays. Returns how many."""
    originals = Delivery.objects.filter(pk__in=list(delivery_ids)).select_related("endpoint", "event").order_by("pk")
    replays = Delivery.objects.bulk_create(
        [
            Delivery(
                endpoint=original.endpoint,
                event=original.event,
                replay_of=original,
                payload=_body(original.endpoint, original.event),
            )
            for original in originals
        ]
    )
    _dispatch([replay.pk for replay in replays])
    return len(replays)


# The events -------------------------------------------------------------------------------------------------------


def webhook_events_nightly(*, as_of: dt.date) -> int:
    """After the night of ``as_of``: band and risk band changes against each account's previous snapshot,
    renewals entering their window (``WEBHOOK_RENEWAL_WINDOW_DAYS``), tasks gone overdue. Returns new events."""
    health, risk = [], []
    for row in selectors.band_changes(as_of=as_of):
        common = {"as_of": as_of.isoformat(), "previous_as_of": _iso(row["previous_as_of"])}
        was, now = row["previous_band"], row["band"]
        if was and was != now and selectors.NA not in (was, now):
            health.append((row["account_id"], {**common, "band": now, "previous_band": was, "health": row["health"]}))
        was, now = row["previous_risk_band"], row["risk_band"]
        if was and now and was != now:
            risk.append(
                (
                    row["account_id"],
                    {
                        **common,
                        "risk_band": now,
                        "previous_risk_band": was,
                        "churn_probability": row["churn_probability"],
                    },
                )
            )
    window = settings.WEBHOOK_RENEWAL_WINDOW_DAYS
    renewals = [
        (
            account_id,
            {
                "as_of": as_of.isoformat(),
                "renews_on": end.isoformat(),
                "days_left": (end - as_of).days,
                "window_days": window,
            },
        )
        for account_id, end in selectors.renewals_entering_window(
            as_of=as_of, window_days=window, lookback_days=LOOKBACK_DAYS
        ).items()
    ]
    tasks = [
        (
            row["account_id"],
            {
                "as_of": as_of.isoformat(),
                "task": {
                    "id": row["id"],
                    "title": row["title"],
                    "due_date": row["due_date"].isoformat(),
                    "priority": row["priority"],
                    "owner": row["owner__username"] or None,
                    "owner_email": row["owner__email"] or None,
                    "pool_segment": row["pool_segment"] or None,
                },
            },
        )
        for row in selectors.tasks_gone_overdue(as_of=as_of, lookback_days=LOOKBACK_DAYS)
    ]
    accounts = _accounts({account_id for rows in (health, risk, renewals, tasks) for account_id, _ in rows})
    return (
        webhook_events_emit(
            kind=EventKind.HEALTH_BAND_CHANGED,
            occurrences=[(f"{a}:{as_of}", {"account": accounts[a], **p}) for a, p in health],
        )
        + webhook_events_emit(
            kind=EventKind.RISK_BAND_CHANGED,
            occurrences=[(f"{a}:{as_of}", {"account": accounts[a], **p}) for a, p in risk],
        )
        + webhook_events_emit(
            kind=EventKind.RENEWAL_WINDOW_ENTERED,
            occurrences=[(f"{a}:{p['renews_on']}", {"account": accounts[a], **p}) for a, p in renewals],
        )
        + webhook_events_emit(
            kind=EventKind.TASK_OVERDUE,
            occurrences=[(str(p["task"]["id"]), {"account": accounts[a], **p}) for a, p in tasks],
        )
    )


def webhook_playbooks_fired(*, firing_ids: Iterable[int]) -> int:
    """A "playbook fired" event per firing (called as the firings are created)."""
    firings = list(
        PlaybookFiring.objects.filter(pk__in=list(firing_ids))
        .select_related("playbook")
        .only("pk", "account_id", "occurrence_key", "as_of", "detail", "playbook__name")
    )
    accounts = _accounts({firing.account_id for firing in firings})
    return webhook_events_emit(
        kind=EventKind.PLAYBOOK_FIRED,
        occurrences=[
            (
                str(firing.pk),
                {
                    "account": accounts[firing.account_id],
                    "playbook": {"id": firing.playbook_id, "name": firing.playbook.name},
                    "firing_id": firing.pk,
                    "occurrence": firing.occurrence_key,
                    "as_of": firing.as_of.isoformat(),
                    "detail": firing.detail,
                },
            )
            for firing in firings
        ],
    )


def webhook_import_finished(payload: dict) -> None:
    """The accounts app's ``import_finished`` listener (``accounts.events``): one event per import."""
    webhook_events_emit(kind=EventKind.IMPORT_FINISHED, occurrences=[(str(payload["import_id"]), payload)])


# Helpers ----------------------------------------------------------------------------------------------------------


def _accounts(account_ids: set[int]) -> dict[int, dict]:
    """How an event names an account, with a link to its page."""
    base = settings.SITE_URL.rstrip("/")
    return {
        row["id"]: {**row, "url": base + reverse("web:account", args=[row["id"]])}
        for row in Account.objects.filter(pk__in=account_ids).values("id", "external_id", "name")
    }


def _body(endpoint: Endpoint, event: WebhookEvent) -> dict:
    if endpoint.slack_compatible:
        return {"text": event_text(kind=event.kind, payload=event.payload)}
    return {
        "id": f"evt_{event.pk}",
        "type": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "data": event.payload,
    }


def _dispatch(delivery_ids: Iterable[int]) -> None:
    """Queue one delivery task each once the transaction commits."""
    from ..tasks import webhook_deliver  # journeys.tasks imports the services that import this module

    ids = list(delivery_ids)

    def send() -> None:
        for delivery_id in ids:
            webhook_deliver.delay(delivery_id)

    transaction.on_commit(send)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is the receiver's answer (a failure), never followed with the body


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: Delivery) -> tuple[int | None, str, str]:
    """(status code, response excerpt, error) of one signed POST of the delivery's body."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 (the URL's scheme is http or https: Endpoint.url's validator)
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "csm-platform-webhooks/1",
            "X-CSM-Event": delivery.event.kind,
            "X-CSM-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: webhook_signature(secret=delivery.endpoint.secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, _excerpt(response.read(EXCERPT_CHARS * 4)), ""
    except urllib.error.HTTPError as error:
        return error.code, _excerpt(error.read(EXCERPT_CHARS * 4)), ""
    except urllib.error.URLError as error:
        return None, "", str(error.reason)
    except (HTTPException, OSError) as error:  # a timeout, a reset connection, a malformed answer
        return None, "", f"{type(error).__name__}: {error}"


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _retryable(status_code: int | None, active: bool) -> bool:
    if not active:
        return False
    return status_code is None or status_code >= 500 or status_code in RETRY_CLIENT_ERRORS


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
