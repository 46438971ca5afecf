"""Outgoing webhooks (``journeys/webhooks/``): the endpoints admins register, the events that happened (once
each), and each delivery of an event to an endpoint with its attempts."""

import secrets

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    HEALTH_BAND_CHANGED = "health_band_changed", _("Health band changed")
    RISK_BAND_CHANGED = "risk_band_changed", _("Churn risk band changed")
    RENEWAL_WINDOW_ENTERED = "renewal_window_entered", _("Renewal entered its window")
    PLAYBOOK_FIRED = "playbook_fired", _("Playbook fired")
    TASK_OVERDUE = "task_overdue", _("Task overdue")
    IMPORT_FINISHED = "import_finished", _("Import finished")


def endpoint_secret() -> str:
    return secrets.token_urlsafe(32)


class Endpoint(models.Model):
    """A URL that receives the events it subscribes to, signed with its secret (docs/integration-guide.md)."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(
        max_length=100,
        default=endpoint_secret,
        help_text=_("Signs each delivery (X-CSM-Signature); give it to the receiver."),
    )
    events = models.JSONField(default=list, help_text=_("The event kinds sent here."))
    active = models.BooleanField(default=True)
    slack_compatible = models.BooleanField(
        _("Slack-compatible"),
        default=False,
        help_text=_('Send {"text": "..."}, the body Slack and Microsoft Teams incoming webhooks accept.'),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        # Only the admin role has it (accounts.roles: "journeys.*"); a manager's journeys add/change/delete/view
        # permissions do not reach the webhook screens.
        permissions = [("manage_webhooks", _("Can manage outgoing webhooks and replay deliveries"))]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="webhook_endpoint_name_not_blank"),
            models.CheckConstraint(condition=~Q(secret=""), name="webhook_endpoint_secret_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    """Something that happened, once per ``(kind, key)`` (a task is overdue once, a renewal enters its window
    once per end date). ``payload`` is the event's data, as sent."""

    kind = models.CharField(max_length=40, choices=EventKind.choices)
    key = models.CharField(max_length=200, help_text=_("What makes it the same event: the task, the firing..."))
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"


class Delivery(models.Model):
    """One event sent to one endpoint, retried with backoff until it succeeds or runs out of attempts. A replay
    (from the admin) is a new delivery of the same event that points at the one it replays."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    payload = models.JSONField(help_text=_("The JSON body sent."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], condition=Q(replay_of__isnull=True), name="webhook_delivery_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(delivered_at__isnull=False),
                name="webhook_delivery_succeeded_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One request of a delivery: what the receiver answered (or why there was no answer)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
