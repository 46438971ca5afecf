"""Product usage: where events come from, the events themselves, and the rollups the nightly job reads.

The rollups are maintained incrementally by ingestion (and rebuilt from raw events by ``rebuild_usage_rollups``),
so that no metric ever rescans raw history. Every rollup is keyed by day, so any past date can be recomputed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .core import Account


class Source(models.Model):
    """Where usage events come from (an app instrumented with a Segment-compatible SDK, an import)."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UsageEvent(models.Model):
    """One track/page/screen call as received. On PostgreSQL the table is partitioned by month of ``occurred_at``
    (``accounts.usage.partitions``): its primary key there is ``(id, occurred_at)``, ids still come from one
    sequence, and a month's raw events are dropped whole once older than ``USAGE_RAW_RETENTION_MONTHS``. Which
    ``(source, messageId)`` pairs were stored is kept by ``UsageMessage``, since a partitioned table can only
    enforce uniqueness within a month."""

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes: (source, message_id) and (account, occurred_at) below cover both keys, and every
    # index costs the hot ingestion path a write per event.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="events", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_events", db_index=False)
    user_id = models.CharField(max_length=200, blank=True)
    event = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=200)
    timestamp_clamped = models.BooleanField(
        default=False, help_text=_("The sender's time was more than 24 hours in the future and was clamped.")
    )

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(message_id=""), name="usage_event_message_id_not_blank"),
        ]
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.event} by {self.user_id or 'anonymous'} at {self.occurred_at:%Y-%m-%d %H:%M}"


class UsageMessage(models.Model):
    """A ``(source, messageId)`` ingestion stored: a re-sent call is recognised here and stored once. It names its
    event (``event_id``, ``occurred_at``: the event's partition) and is forgotten with the raw events of its
    month, by ``received_at``, once older than the retention."""

    pk = models.CompositePrimaryKey("source", "message_id")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+", db_index=False)
    message_id = models.CharField(max_length=200)
    event_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.source_id}/{self.message_id}"


class UsageRetention(models.Model):
    """One row: raw usage events before ``raw_from`` were dropped by the retention (PostgreSQL). The rollups of
    those days are final; rebuilding rollups from raw events starts at ``raw_from`` and keeps what lies before."""

    raw_from = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"raw usage events from {self.raw_from:%Y-%m-%d}" if self.raw_from else "raw usage events: all kept"


class WriteKey(models.Model):
    """A secret a source sends with its events (HTTP Basic user name). Only its SHA-256 is stored."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="write_keys")
    prefix = models.CharField(max_length=12, help_text=_("The first characters of the key, to recognise it."))
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "-created_at"]

    def __str__(self) -> str:
        state = _("revoked") if self.revoked_at else _("active")
        return f"{self.source} {self.prefix}… ({state})"


class QuarantinedEvent(models.Model):
    """A track/page call whose account is not known yet. Kept, shown to admins, attached when the account appears."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="quarantined_events")
    message_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, help_text=_("track, page, screen or identify"))
    user_id = models.CharField(max_length=200, blank=True)
    group_id = models.CharField(max_length=100, blank=True)
    event = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    timestamp_clamped = models.BooleanField(default=False)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="quarantined_event_message_once_per_source"),
        ]
        indexes = [models.Index(fields=["group_id"]), models.Index(fields=["user_id"])]

    def __str__(self) -> str:
        return f"{self.event} ({self.reason})"


class Feature(models.Model):
    """The catalog: every event name seen. Admins rename it, mark it key (feature breadth), or ignore it."""

    name = models.CharField(_("event name"), max_length=200, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text=_("Shown instead of the event name."))
    is_key = models.BooleanField(_("key feature"), default=False)
    ignored = models.BooleanField(default=False, help_text=_("Left out of feature breadth and feature charts."))
    first_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name


class UsageDay(models.Model):
    """Events per account per day (UTC)."""

    # Indexed by the unique key below, which starts with the account: no index of its own to maintain.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="usage_day_once")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}: {self.events} events"


class UsageUserDay(models.Model):
    """Events per account per product user per day: distinct users (DAU, MAU) for any window."""

    # Indexed by the unique key below, which starts with the account: no index of its own to maintain.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    user_id = models.CharField(max_length=200)
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "user_id"], name="usage_user_day_once")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day:%Y-%m-%d}: {self.events} events"


class UsageFeatureDay(models.Model):
    """Events per account per feature per day: feature breadth and events by feature for any window."""

    # Indexed by the unique key below, which starts with the account: no index of its own to maintain.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "feature"], name="usage_feature_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} on {self.day:%Y-%m-%d}: {self.events} events"


class AccountFeatureUsage(models.Model):
    """Per account per feature: first and last use and all-time events (time to value reads first use)."""

    # Indexed by the unique key below, which starts with the account: no index of its own to maintain.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="feature_usage", db_index=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="account_usage")
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    events = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "feature"], name="account_feature_usage_once"),
            models.CheckConstraint(
                condition=Q(last_used_at__gte=models.F("first_used_at")), name="account_feature_usage_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature}: {self.events} events since {self.first_used_at:%Y-%m-%d}"


class AccountUserUsage(models.Model):
    """Per account per product user: first and last seen and all-time events."""

    # Indexed by the unique key below, which starts with the account: no index of its own to maintain.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="user_usage", db_index=False)
    user_id = models.CharField(max_length=200)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    events = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user_id"], name="account_user_usage_once"),
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=models.F("first_seen_at")), name="account_user_usage_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.events} events since {self.first_seen_at:%Y-%m-%d}"


class UsageInbox(models.Model):
    """Events stored but not folded into the rollups yet. Ingestion only appends here (cheap), and
    ``usage_rollups_fold`` moves them into the rollups set-based, seconds later and before every night."""

    id = models.BigAutoField(primary_key=True)
    # Neither an index nor a database constraint on the account: the queue is short-lived and read in id order,
    # and each row is written with its usage event, whose foreign key already checks the account in the same
    # transaction; deleting an account still deletes its queued rows (Django's cascade).
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    user_id = models.CharField(max_length=200, blank=True)
    event = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = _("usage inbox")

    def __str__(self) -> str:
        return f"{self.event} at {self.occurred_at:%Y-%m-%d %H:%M} (not folded yet)"
