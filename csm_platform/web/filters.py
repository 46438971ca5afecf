"""FilterSets of the list pages. ``PortfolioFilterSet`` is also the filter of ``/api/portfolio/`` (same class)."""

import datetime as dt
import re

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Account, Contract, Team, User
from accounts.roles import Role
from health.models import AccountSnapshot
from journeys.models import Stage

from .forms import EARLIEST, LATEST
from .models import ForecastCategory
from .selectors.renewals import NOT_SET, RenewalState

WINDOW_CHOICES = [(str(days), _("Next %(days)s days") % {"days": days}) for days in (30, 60, 90, 180)]
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def _users_with(*roles: str) -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=roles).distinct().order_by("first_name", "last_name")


def _within(days: str) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today, today + dt.timedelta(days=int(days))


def quarter_bounds(value: str) -> tuple[dt.date, dt.date] | None:
    """ "2024-Q3" → (2024-07-01, 2024-09-30); None when the text is not a quarter."""
    match = QUARTER.match(value or "")
    if not match:
        return None
    year, quarter = int(match[1]), int(match[2])
    start = dt.date(year, 3 * quarter - 2, 1)
    following = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, following - dt.timedelta(days=1)


def quarter_choices(*, today: dt.date, count: int = 5) -> list[tuple[str, str]]:
    """The current quarter and the next ones."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    choices = []
    for _index in range(count):
        label = f"{year}-Q{quarter}"
        choices.append((label, label))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return choices


@extend_schema_field(OpenApiTypes.INT)
class StageFilter(django_filters.ModelChoiceFilter):
    """A journey stage id, matched against the account's current stage (an annotation, not a model field)."""


class EvaluationDateFilter(django_filters.DateFilter):
    """``as_of``: the night the figures are for. The selector reads it (the views pass it as the evaluation date);
    as a filter it only validates and shows the field, so the form, saved views and the API carry it."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("As of (night)"),
            method=self.keep,
            widget=forms.DateInput(attrs={"type": "date"}),
            validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
            help_text=_("The nightly snapshot on or before this date; empty: the latest night."),
            **kwargs,
        )

    @staticmethod
    def keep(queryset, name, value):
        return queryset


class PortfolioFilterSet(django_filters.FilterSet):
    """Filters over ``selectors.portfolio.portfolio_list`` (its annotations: band, risk_band, stage_id,
    next_renewal)."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, domain or CRM id")}),
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("CSM"), queryset=_users_with(Role.CSM, Role.MANAGER), empty_label=_("Any CSM")
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), field_name="owner__team", queryset=Team.objects.all(), empty_label=_("Any team")
    )
    account_executive = django_filters.ModelChoiceFilter(
        label=_("AE"), queryset=_users_with(Role.ACCOUNT_EXECUTIVE), empty_label=_("Any AE")
    )
    segment = django_filters.ChoiceFilter(label=_("Segment"), choices=Account.Segment.choices, empty_label=_("Any"))
    band = django_filters.ChoiceFilter(
        label=_("Health"), choices=AccountSnapshot.Band.choices, method="filter_band", empty_label=_("Any")
    )
    risk = django_filters.ChoiceFilter(
        label=_("Churn risk"), field_name="risk_band", choices=AccountSnapshot.RiskBand.choices, empty_label=_("Any")
    )
    stage = StageFilter(
        label=_("Stage"), field_name="stage_id", queryset=Stage.objects.order_by("order"), empty_label=_("Any")
    )
    renewal = django_filters.ChoiceFilter(
        label=_("Renewal"), choices=WINDOW_CHOICES, method="filter_renewal", empty_label=_("Any time")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Account.Status.choices, empty_label=_("Any"))
    as_of = EvaluationDateFilter()

    class Meta:
        model = Account
        fields = [
            "q",
            "owner",
            "team",
            "account_executive",
            "segment",
            "band",
            "risk",
            "stage",
            "renewal",
            "status",
            "as_of",
        ]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id__icontains=value))

    def filter_band(self, queryset, name, value):
        if value == AccountSnapshot.Band.NA:
            return queryset.filter(Q(band=value) | Q(band__isnull=True))
        return queryset.filter(band=value)

    def filter_renewal(self, queryset, name, value):
        start, end = _within(value)
        return queryset.filter(next_renewal__range=(start, end))


class RenewalFilterSet(django_filters.FilterSet):
    """Filters over ``selectors.renewals.renewal_list``: contracts ending in a window or a quarter, by state."""

    window = django_filters.ChoiceFilter(
        label=_("Ending"), choices=WINDOW_CHOICES, method="filter_window", empty_label=_("Any time")
    )
    quarter = django_filters.ChoiceFilter(label=_("Quarter"), method="filter_quarter", empty_label=_("Any quarter"))
    account_executive = django_filters.ModelChoiceFilter(
        label=_("AE"),
        field_name="account__account_executive",
        queryset=_users_with(Role.ACCOUNT_EXECUTIVE),
        empty_label=_("Any AE"),
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("CSM"),
        field_name="account__owner",
        queryset=_users_with(Role.CSM, Role.MANAGER),
        empty_label=_("Any CSM"),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), field_name="state", choices=RenewalState.choices, empty_label=_("Any state")
    )
    category = django_filters.ChoiceFilter(
        label=_("Forecast"),
        choices=[*ForecastCategory.choices, (NOT_SET, _("Not set"))],
        method="filter_category",
        empty_label=_("Any"),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Account")}),
    )
    as_of = EvaluationDateFilter()

    class Meta:
        model = Contract
        fields = ["window", "quarter", "account_executive", "owner", "state", "category", "q", "as_of"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["quarter"].extra["choices"] = quarter_choices(today=timezone.localdate())

    def filter_window(self, queryset, name, value):
        start, end = _within(value)
        return queryset.filter(end_date__range=(start, end))

    def filter_quarter(self, queryset, name, value: str):
        bounds = quarter_bounds(value)
        return queryset.filter(end_date__range=bounds) if bounds else queryset

    def filter_category(self, queryset, name, value):
        if value == NOT_SET:
            return queryset.filter(forecast__isnull=True)
        return queryset.filter(forecast__category=value)

    def search(self, queryset, name, value):
        return queryset.filter(Q(account__name__icontains=value) | Q(external_id__icontains=value))
