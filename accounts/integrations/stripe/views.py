"""The Stripe webhook: a signed event in, processed once (``services.stripe_event_process``)."""

import json

import stripe
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import stripe_event_process


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """400 for a body whose ``Stripe-Signature`` does not verify with ``STRIPE_WEBHOOK_SECRET`` (or is older than
    Stripe's five minutes of tolerance); 200 with the outcome otherwise, also for a redelivery (nothing changes)."""
    try:
        stripe.Webhook.construct_event(
            request.body, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET
        )
    except stripe.SignatureVerificationError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except ValueError:
        return JsonResponse({"error": "The body is not a Stripe event."}, status=400)
    event = json.loads(request.body)
    if not isinstance(event.get("data"), dict) or not all(event.get(key) for key in ("id", "type", "created")):
        return JsonResponse({"error": "The body is not a Stripe event."}, status=400)
    record, first_time = stripe_event_process(event=event)
    return JsonResponse(
        {"event": record.event_id, "outcome": record.outcome, "reason": record.reason, "duplicate": not first_time}
    )
