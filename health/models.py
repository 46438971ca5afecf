"""Scorecards, the nightly snapshots that explain every number, churn models and recompute runs."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account


class Scorecard(models.Model):
    """A list of measures with weights, thresholds and bands. The default scorecard has no segment; a segment's
    scorecard, when there is one, scores that segment's accounts. Every save publishes a new version."""

    name = models.CharField(max_length=100, unique=True)
    segment = models.CharField(
        max_length=20, choices=Account.Segment.choices, blank=True, help_text=_("Empty: the default scorecard.")
    )
    red_below = models.DecimalField(max_digits=5, decimal_places=2, default=40)
    green_from = models.DecimalField(max_digits=5, decimal_places=2, default=70)
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["segment", "name"]
        constraints = [
            models.UniqueConstraint(fields=["segment"], name="scorecard_one_per_segment"),
            models.CheckConstraint(
                condition=Q(red_below__gte=0) & Q(red_below__lte=F("green_from")) & Q(green_from__lte=100),
                name="scorecard_bands_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ScorecardMeasure(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    measure = models.CharField(max_length=50, help_text=_("A measure from the registry in health/measures.py."))
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    bad = models.FloatField(help_text=_("Input at or beyond which the score is 0."))
    good = models.FloatField(help_text=_("Input at or beyond which the score is 100 (below bad: lower is better)."))

    class Meta:
        ordering = ["scorecard", "-weight", "measure"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "measure"], name="scorecard_measure_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="scorecard_measure_weight_positive"),
            models.CheckConstraint(condition=~Q(bad=F("good")), name="scorecard_measure_bad_differs_from_good"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} ×{self.weight}"


class ScorecardVersion(models.Model):
    """A frozen copy of a scorecard as published: snapshots point here, so an old score can always be explained."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField(help_text=_("Bands and measures (key, weight, bad, good) as published."))
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scorecard", "-version"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "version"], name="scorecard_version_once")]

    def __str__(self) -> str:
        return f"{self.scorecard.name} v{self.version}"


class ScorecardPreview(models.Model):
    """A what-if: the accounts a scorecard scores, by the published and by a proposed definition, computed by a
    task in chunks (``done`` of ``total`` accounts). The result stays until the scorecard changes (a newer
    published version makes it stale)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    scorecard = models.ForeignKey(Scorecard, null=True, blank=True, on_delete=models.CASCADE, related_name="previews")
    segment = models.CharField(max_length=20, blank=True)
    definition = models.JSONField(help_text=_("The proposed bands and measures, as a published version holds them."))
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of the definition: the same what-if is reused."))
    based_on_version = models.PositiveIntegerField(help_text=_("The scorecard's version when the preview was asked."))
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list, blank=True, help_text=_("Accounts, largest change first."))
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Preview of {self.scorecard or self.segment or 'a new scorecard'} on {self.as_of:%Y-%m-%d}"

    @property
    def stale(self) -> bool:
        """The scorecard was published again since: the "published" column no longer is."""
        return self.scorecard is not None and self.scorecard.version != self.based_on_version


class AccountFigures(models.Model):
    """What is computed for one account on one evaluation date: ACV, health with its receipt, churn risk with its
    drivers, and the data-quality problems that left a figure N/A."""

    class Band(models.TextChoices):
        RED = "red", _("Red")
        YELLOW = "yellow", _("Yellow")
        GREEN = "green", _("Green")
        NA = "na", _("N/A")

    class RiskBand(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    as_of = models.DateField()
    acv = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text=_("ACV on as_of, in the reporting currency. Empty: N/A (see problems)."),
    )
    health = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Whole number, rounded half up; what is shown and banded. Empty: all N/A.")
    )
    band = models.CharField(max_length=10, choices=Band.choices, default=Band.NA)
    scorecard_version = models.ForeignKey(ScorecardVersion, null=True, on_delete=models.PROTECT, related_name="+")
    measures = models.JSONField(
        default=list, help_text=_("Receipt: per measure key, x, s, weight, normalized weight, contribution, inputs.")
    )
    churn_probability = models.FloatField(null=True, blank=True)
    risk_band = models.CharField(max_length=10, choices=RiskBand.choices, blank=True)
    churn_drivers = models.JSONField(default=list, blank=True, help_text=_("Signed top drivers: [feature, value]."))
    churn_model = models.ForeignKey(
        "health.ChurnModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the documented fallback from health was used."),
    )
    problems = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Data-quality problems found on as_of: kind, what is wrong, how to fix it (empty: none)."),
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AccountSnapshot(AccountFigures):
    """One account on one night: the reproducible record that history, trends and attribution read."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="snapshots")

    class Meta:
        ordering = ["-as_of", "account"]
        constraints = [
            models.UniqueConstraint(fields=["account", "as_of"], name="account_snapshot_once_per_day"),
            models.CheckConstraint(
                condition=Q(health__isnull=True) | (Q(health__gte=0) & Q(health__lte=100)), name="snapshot_health_0_100"
            ),
            models.CheckConstraint(
                condition=Q(churn_probability__isnull=True)
                | (Q(churn_probability__gte=0) & Q(churn_probability__lte=1)),
                name="snapshot_churn_probability_0_1",
            ),
        ]
        indexes = [models.Index(fields=["as_of", "band"])]

    def __str__(self) -> str:
        return f"{self.account} on {self.as_of:%Y-%m-%d}"


class AccountCurrent(AccountFigures):
    """An account's figures refreshed during the day after its data changed (as of today, at ``computed_at``):
    shown as the current value and labelled so. The night's snapshot stays the record."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="current")

    class Meta:
        verbose_name = _("current figures")
        verbose_name_plural = _("current figures")

    def __str__(self) -> str:
        return f"{self.account} at {self.computed_at:%Y-%m-%d %H:%M}"


class DataQualityProblem(AccountSnapshot):
    """The admin's list of open data-quality problems: the latest night's snapshots that record one."""

    class Meta:
        proxy = True
        verbose_name = _("data-quality problem")
        verbose_name_plural = _("data-quality problems")


class RevenueSnapshot(models.Model):
    """Book-of-business revenue figures on one date; retention over the trailing twelve months."""

    as_of = models.DateField(unique=True)
    arr = models.DecimalField(**MONEY)
    customers = models.PositiveIntegerField(help_text=_("Accounts with ACV > 0."))
    million_customers = models.PositiveIntegerField(help_text=_("Accounts with ACV ≥ 1,000,000."))
    nrr = models.FloatField(null=True, blank=True, help_text=_("Trailing twelve months; empty cohort: N/A."))
    grr = models.FloatField(null=True, blank=True)
    logo_churn = models.FloatField(null=True, blank=True)
    waterfall = models.JSONField(
        default=dict,
        help_text=_("start, currency effect, new, expansion, contraction, churn, end (TTM, constant currency)."),
    )
    excluded = models.JSONField(
        default=list, blank=True, help_text=_("Accounts whose ACV is N/A on as_of (a missing rate): left out of ARR.")
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"Revenue on {self.as_of:%Y-%m-%d}"


class ChurnModelVersion(models.Model):
    """A trained churn model with its model card (backtest held out by time)."""

    trained_at = models.DateTimeField()
    as_of = models.DateField(help_text=_("Trained on renewal decisions known on this date."))
    kind = models.CharField(max_length=30)
    is_fallback = models.BooleanField(default=False)
    card = models.JSONField(default=dict)
    model = models.BinaryField(help_text=_("The fitted health.churn.ChurnModel, pickled."))

    class Meta:
        ordering = ["-trained_at"]
        get_latest_by = "trained_at"

    def __str__(self) -> str:
        return f"{self.kind} trained {self.trained_at:%Y-%m-%d %H:%M}"


class RecomputeRun(models.Model):
    """One nightly run for one evaluation date. Chunks make it resumable: a rerun does only unfinished ones."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    as_of = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    attempt = models.PositiveIntegerField(default=1, help_text=_("Bumped by each resume; older claims lapse."))
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text=_("Seconds per step."))
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["as_of", "status"])]

    def __str__(self) -> str:
        return f"Recompute {self.as_of:%Y-%m-%d} ({self.status})"


class RecomputeChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    account_ids = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveIntegerField(default=0, help_text=_("The run attempt that claimed it last."))
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="recompute_chunk_once")]

    def __str__(self) -> str:
        return f"{self.run} chunk {self.index} ({self.status})"
