"""The customer journey: ordered stages, the record of every stage change, milestones, workspace settings."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account


class Stage(models.Model):
    """A journey stage; ``order`` sorts them (docs/concepts/journey.md: Awareness → … → Advocacy)."""

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(unique=True, help_text=_("Position in the journey, lowest first."))
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="stage_name_not_blank")]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of an account between stages: who, when and why. The account's stage on a date is the
    ``to_stage`` of its latest change on or before that date; time in stage and conversion come from here."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        MILESTONE = "milestone", _("Milestone")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="entries")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ["account", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_stage=F("to_stage")), name="stage_change_moves"),
            models.CheckConstraint(condition=~Q(reason=""), name="stage_change_reason_not_blank"),
        ]
        indexes = [models.Index(fields=["account", "changed_at"]), models.Index(fields=["to_stage", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_stage_id} → {self.to_stage_id} at {self.changed_at:%Y-%m-%d}"


class StageMilestone(models.Model):
    """A product event whose first occurrence moves the account to ``stage`` (when it is earlier in the journey)."""

    event_name = models.CharField(max_length=200, unique=True, help_text=_("The usage event name, e.g. Report Shared."))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="milestones")

    class Meta:
        ordering = ["stage", "event_name"]
        constraints = [models.CheckConstraint(condition=~Q(event_name=""), name="stage_milestone_event_not_blank")]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.stage}"


class JourneySettings(models.Model):
    """The workspace's journey, survey, check-in and digest settings: a single row (id 1)."""

    nps_window_days = models.PositiveSmallIntegerField(
        _("NPS window (days)"), default=180, help_text=_("NPS uses the latest answer per contact in this window.")
    )
    check_in_interval_months = models.PositiveSmallIntegerField(_("success plan check-in every (months)"), default=6)
    digest_hour = models.PositiveSmallIntegerField(
        _("morning digest hour (UTC)"), default=7, help_text=_("The morning digest is sent at this hour, once a day.")
    )
    adoption_stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Reaching this stage (or a later one) means the customer got value."),
    )
    value_event = models.CharField(
        _("value milestone event"),
        max_length=200,
        blank=True,
        help_text=_("When set, time to value ends at the first occurrence of this event instead of the stage."),
    )

    class Meta:
        verbose_name = _("journey and survey settings")
        verbose_name_plural = _("journey and survey settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="journey_settings_single_row"),
            models.CheckConstraint(
                condition=Q(nps_window_days__gte=1) & Q(nps_window_days__lte=730), name="journey_nps_window_1_730"
            ),
            models.CheckConstraint(
                condition=Q(check_in_interval_months__gte=1) & Q(check_in_interval_months__lte=24),
                name="journey_check_in_interval_1_24",
            ),
            models.CheckConstraint(condition=Q(digest_hour__lte=23), name="journey_digest_hour_0_23"),
        ]

    def __str__(self) -> str:
        return str(_("Journey and survey settings"))


class PoolMember(models.Model):
    """A CSM who works the pooled (tech-touch) queue of a segment: tasks of accounts without a named CSM."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_pools")
    segment = models.CharField(max_length=20, choices=Account.Segment.choices)

    class Meta:
        ordering = ["segment", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "segment"], name="pool_member_once")]

    def __str__(self) -> str:
        return f"{self.user} in the {self.get_segment_display()} pool"
