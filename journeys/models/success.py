"""Success plans (the customer's expected outcomes and the periodic check-ins), survey answers, digest runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact

from .playbooks import Task


class SuccessPlan(models.Model):
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="success_plan")
    summary = models.TextField(blank=True, help_text=_("What the customer bought us for, in their words."))
    next_check_in = models.DateField(
        _("next check-in"),
        null=True,
        blank=True,
        help_text=_(
            "The day the next check-in is asked. Empty: the workspace interval after the last check-in, else after "
            "the plan was made."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["account"]

    def __str__(self) -> str:
        return f"Success plan of {self.account}"


class Outcome(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        MISSED = "missed", _("Missed")

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="outcomes")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["plan", "target_date", "id"]
        constraints = [models.CheckConstraint(condition=~Q(description=""), name="outcome_description_not_blank")]

    def __str__(self) -> str:
        return self.description


class CheckIn(models.Model):
    """'Has the customer achieved what they expected?', asked on ``asked_on`` (through ``task``), and the answer."""

    class Achieved(models.TextChoices):
        YES = "yes", _("Yes")
        PARTLY = "partly", _("Partly")
        NO = "no", _("No")

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="check_ins")
    asked_on = models.DateField()
    task = models.OneToOneField(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_in")
    achieved = models.CharField(max_length=10, choices=Achieved.choices, blank=True)
    notes = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-asked_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "asked_on"], name="check_in_once_per_day"),
            models.CheckConstraint(
                condition=Q(achieved="", answered_at__isnull=True) | (~Q(achieved="") & Q(answered_at__isnull=False)),
                name="check_in_answered_iff_achieved",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.asked_on:%Y-%m-%d} of {self.plan}"


class SurveyResponse(models.Model):
    """One answer: NPS 0-10, CSAT 1-5 or customer effort 1-7. ``respondent`` identifies who answered (the contact,
    else the e-mail, else the answer itself) for the latest-answer-per-contact rule."""

    class Kind(models.TextChoices):
        NPS = "nps", _("NPS")
        CSAT = "csat", _("CSAT")
        CES = "ces", _("Customer effort")

    class Source(models.TextChoices):
        API = "api", _("REST API")
        CSV = "csv", _("CSV upload")
        SEGMENT = "segment", _("Segment track call")

    # (lowest, highest) score per kind; one check constraint each.
    SCALES = {Kind.NPS: (0, 10), Kind.CSAT: (1, 5), Kind.CES: (1, 7)}

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    respondent_email = models.EmailField(blank=True)
    respondent = models.CharField(max_length=260)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    score = models.SmallIntegerField()
    responded_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(
        max_length=200, blank=True, help_text=_("The sender's id (Segment messageId): stored once per source.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-responded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["nps", "csat", "ces"]), name="survey_kind_valid"),
            models.CheckConstraint(condition=~Q(kind="nps") | Q(score__gte=0, score__lte=10), name="survey_nps_0_10"),
            models.CheckConstraint(condition=~Q(kind="csat") | Q(score__gte=1, score__lte=5), name="survey_csat_1_5"),
            models.CheckConstraint(condition=~Q(kind="ces") | Q(score__gte=1, score__lte=7), name="survey_ces_1_7"),
            models.CheckConstraint(condition=~Q(respondent=""), name="survey_respondent_not_blank"),
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="survey_external_id_once"
            ),
        ]
        indexes = [models.Index(fields=["kind", "responded_at"]), models.Index(fields=["account", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score} from {self.respondent}"


class DigestRun(models.Model):
    """The morning digest of one day: claimed by inserting this row, so it is sent once whatever beat does."""

    as_of = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"Digest {self.as_of:%Y-%m-%d} ({self.sent} sent)"
