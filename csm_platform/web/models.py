"""What the pages keep: each user's saved portfolio/renewal views, the AE's renewal forecast with its history, and
the renewal target of each quarter."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account, Contract
from health.models import AccountSnapshot, ChurnModelVersion
from journeys.models import Stage


class SavedView(models.Model):
    """A named set of filters and sorting (the page's query string) a user comes back to."""

    class Page(models.TextChoices):
        PORTFOLIO = "portfolio", _("Portfolio")
        RENEWALS = "renewals", _("Renewals")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    page = models.CharField(max_length=20, choices=Page.choices, default=Page.PORTFOLIO)
    name = models.CharField(max_length=100)
    querystring = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "page", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "page", "name"], name="saved_view_name_once_per_user_page"),
            models.CheckConstraint(condition=~Q(name=""), name="saved_view_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class ForecastCategory(models.TextChoices):
    COMMIT = "commit", _("Commit")
    PROBABLE = "probable", _("Probable")
    AT_RISK = "at_risk", _("At risk")
    LOST = "lost", _("Lost")


class RenewalForecast(models.Model):
    """The AE's current call on a contract's renewal: a category, an amount and the next step. Every change is also
    kept in ``RenewalForecastChange``."""

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="forecast")
    category = models.CharField(max_length=20, choices=ForecastCategory.choices)
    amount = models.DecimalField(
        **MONEY, null=True, blank=True, help_text=_("Expected renewed ARR in the reporting currency.")
    )
    next_step = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=500, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["contract"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=ForecastCategory.values), name="forecast_category_valid")
        ]

    def __str__(self) -> str:
        return f"{self.contract}: {self.get_category_display()}"


class RenewalForecastChange(models.Model):
    """One setting of a contract's forecast: who, when, from what category to what, the amount, the next step, and
    why."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="forecast_history")
    previous_category = models.CharField(max_length=20, choices=ForecastCategory.choices, blank=True)
    category = models.CharField(max_length=20, choices=ForecastCategory.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    next_step = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=500, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["contract", "-set_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=ForecastCategory.values), name="forecast_change_category_valid"
            )
        ]
        indexes = [models.Index(fields=["contract", "set_at"])]

    def __str__(self) -> str:
        return f"{self.contract}: {self.previous_category or '-'} → {self.category}"


class QuarterTarget(models.Model):
    """The renewed ARR a quarter should reach (set by an admin): the renewals page's attainment is the renewed ACV
    of the quarter's contracts ÷ this target."""

    quarter = models.CharField(
        max_length=7, unique=True, validators=[RegexValidator(r"^\d{4}-Q[1-4]$")], help_text=_("As 2024-Q3.")
    )
    target = models.DecimalField(**MONEY, help_text=_("Renewed ARR expected in the reporting currency."))

    class Meta:
        ordering = ["-quarter"]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="quarter_target_positive"),
            models.CheckConstraint(condition=Q(quarter__regex=r"^\d{4}-Q[1-4]$"), name="quarter_target_quarter_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.quarter}: {self.target}"


class LeadershipNight(models.Model):
    """What the leadership dashboard shows for one night, computed by the night (``selectors.leadership
    .leadership_night``, stored after each recompute): revenue, the bridge, the monthly ARR and movements, bands,
    the $1M accounts, each CSM's book, CLV by segment and time to value. The page reads it, never recomputes it."""

    as_of = models.DateField(unique=True)
    figures = models.JSONField(help_text=_("selectors.leadership.Night as JSON (money as decimal strings)."))
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"Leadership on {self.as_of:%Y-%m-%d}"


class AccountRow(models.Model):
    """The portfolio's row of an account (the page, ``/api/portfolio/`` and the CSV export read it): every column,
    filter and sort key that is not a field of the account, for the latest night's snapshot (``as_of``) and the
    calendar of ``built_on``. Built for every account after each night and for each account the intra-day refresh
    finds changed (``services.account_rows_refresh``, from the same annotations the page reads otherwise)."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="list_row")
    as_of = models.DateField(help_text=_("The night the row is for."))
    snapshot = models.ForeignKey(AccountSnapshot, null=True, on_delete=models.SET_NULL, related_name="+")
    snapshot_as_of = models.DateField(null=True, help_text=_("The snapshot's night; empty: no snapshot that night."))
    health = models.PositiveSmallIntegerField(null=True)
    band = models.CharField(max_length=10, null=True)
    health_change_30 = models.SmallIntegerField(null=True)
    acv = models.DecimalField(**MONEY, null=True)
    churn_probability = models.FloatField(null=True)
    risk_band = models.CharField(max_length=10, null=True)
    churn_model = models.ForeignKey(ChurnModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    measures = models.JSONField(null=True, help_text=_("The snapshot's receipt (MAU and seats)."))
    problems = models.JSONField(null=True, help_text=_("The snapshot's data-quality problems (why ACV is N/A)."))
    next_renewal = models.DateField(null=True)
    last_touch = models.DateTimeField(null=True)
    stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    stage_name = models.CharField(max_length=100, null=True)
    stage_order = models.PositiveSmallIntegerField(null=True)
    open_tasks = models.PositiveIntegerField(default=0)
    built_on = models.DateField(help_text=_("The day of the calendar columns (next renewal, last touch, open tasks)."))
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The filters and sort keys of the portfolio (the account's own fields have theirs on the account).
        indexes = [
            models.Index(fields=[field], name=f"account_row_{field}")
            for field in (
                "as_of",
                "band",
                "risk_band",
                "acv",
                "health",
                "churn_probability",
                "next_renewal",
                "last_touch",
                "stage_order",
                "open_tasks",
            )
        ]

    def __str__(self) -> str:
        return f"Row of {self.account_id} ({self.as_of})"


class ContractRow(models.Model):
    """The renewals page's figures of a contract for the latest night (``as_of``): its ACV at the night's exchange
    rates and its expected renewal value ACV × (1 − p) with its account's churn probability that night, computed as
    the page computes them live (``selectors.renewals.contract_figures``), so the page sorts, pages and totals in SQL.
    Built after each night for the contracts the page can list (not cancelled, ending in the night's quarter or
    later) and for the accounts the intra-day refresh finds changed (``services.contract_rows_refresh``). The inputs
    are kept beside the figures: a row whose inputs are no longer its contract's and its account's is out of date,
    and the page then reads live."""

    contract = models.OneToOneField(Contract, primary_key=True, on_delete=models.CASCADE, related_name="list_row")
    as_of = models.DateField(help_text=_("The night the row is for."))
    recurring_tcv = models.DecimalField(**MONEY)
    start_date = models.DateField()
    end_date = models.DateField()
    currency = models.CharField(max_length=3)
    churn_probability = models.FloatField(null=True)
    acv = models.DecimalField(
        **MONEY, null=True, help_text=_("In the reporting currency at the night's rate; empty: no rate (N/A).")
    )
    expected = models.DecimalField(**MONEY, null=True, help_text=_("ACV × (1 − p); empty: N/A."))
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Row of contract {self.contract_id} ({self.as_of})"
