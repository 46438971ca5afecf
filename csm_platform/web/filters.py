"""FilterSets of the list pages. ``PortfolioFilterSet`` is also the filter of ``/api/portfolio/`` (same class)."""

import datetime as dt
import re

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from accounts.models import Account, Contract, Team, User
from accounts.roles import Role
from health.models import AccountSnapshot
from journeys.models import Stage

from .forms import EARLIEST, LATEST
from .models import ForecastCategory
from .selectors.portfolio import at_risk
from .selectors.renewals import NOT_SET, RenewalState


def window_label(days: int) -> str:
    return gettext("Next %(days)s days") % {"days": days}


# Labels translated when shown, in the request's language (not once, when the module is imported).
WINDOW_CHOICES = [(str(days), lazy(window_label, str)(days)) for days in (30, 60, 90, 180)]
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


class _Blankless:
    """A multiple-choice field that ignores empty values, so ``?owner=`` (widen to everyone) is no error."""

    def clean(self, value):
        return super().clean([item for item in value or () if item != ""])


class _AnyOfChoices(_Blankless, django_filters.fields.MultipleChoiceField):
    pass


class _AnyOfModels(_Blankless, forms.ModelMultipleChoiceField):
    pass


class AnyOf(django_filters.MultipleChoiceFilter):
    """OR within the filter: the rows whose field is any of the picked values (one ``IN``, no DISTINCT). Filters
    AND with each other."""

    field_class = _AnyOfChoices

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__in": list(value)})


class AnyOfModels(django_filters.ModelMultipleChoiceFilter):
    """``AnyOf`` over model choices (matched by primary key, so it also works on an annotated id)."""

    field_class = _AnyOfModels

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__in": [item.pk for item in value]})


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class StageFilter(AnyOfModels):
    """Journey stage ids, matched against the account's current stage (an annotation, not a model field)."""


class AtRiskFilter(django_filters.BooleanFilter):
    """``at_risk=on``: red health OR high churn risk, the "ARR at risk" card's definition (``selectors.portfolio
    .at_risk``); off: no restriction."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("At risk only"),
            widget=forms.CheckboxInput,
            help_text=_("Red health or high churn risk"),
            **kwargs,
        )

    def filter(self, queryset, value):
        return queryset.filter(at_risk()) if value else queryset


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


def _csms() -> QuerySet[User]:
    return _users_with(Role.CSM, Role.MANAGER)


def _aes() -> QuerySet[User]:
    return _users_with(Role.ACCOUNT_EXECUTIVE)


def _bands(queryset, name, value):
    """Health bands, N/A including the accounts without a snapshot."""
    if not value:
        return queryset
    picked = Q(**{f"{name}__in": list(value)})
    if AccountSnapshot.Band.NA in value:
        picked |= Q(**{f"{name}__isnull": True})
    return queryset.filter(picked)


class PortfolioFilterSet(django_filters.FilterSet):
    """Filters over ``selectors.portfolio.portfolio_list`` (its annotations: band, risk_band, stage_id,
    next_renewal). Several values of one filter are OR-ed, filters are AND-ed. Churned accounts are left out
    unless the status filter asks for them."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, domain or CRM id")}),
    )
    owner = AnyOfModels(label=_("CSM"), queryset=_csms())
    team = AnyOfModels(label=_("Team"), field_name="owner__team", queryset=Team.objects.all())
    account_executive = AnyOfModels(label=_("AE"), queryset=_aes())
    segment = AnyOf(label=_("Segment"), choices=Account.Segment.choices)
    band = AnyOf(label=_("Health"), choices=AccountSnapshot.Band.choices, method=_bands)
    risk = AnyOf(label=_("Churn risk"), field_name="risk_band", choices=AccountSnapshot.RiskBand.choices)
    at_risk = AtRiskFilter()
    stage = StageFilter(label=_("Stage"), field_name="stage_id", queryset=Stage.objects.order_by("order"))
    renewal = django_filters.ChoiceFilter(
        label=_("Renewal"), choices=WINDOW_CHOICES, method="filter_renewal", empty_label=_("Any time")
    )
    status = AnyOf(
        label=_("Status"),
        choices=Account.Status.choices,
        help_text=_("Churned accounts are hidden unless ticked here."),
    )
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
            "at_risk",
            "stage",
            "renewal",
            "status",
            "as_of",
        ]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=Account.Status.CHURNED)
        return queryset

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id__icontains=value))

    def filter_renewal(self, queryset, name, value):
        start, end = _within(value)
        return queryset.filter(next_renewal__range=(start, end))


class RenewalFilterSet(django_filters.FilterSet):
    """Filters over ``selectors.renewals.renewal_list``: contracts ending in a window or a quarter, by state, with
    the account's health and risk (several values of one filter OR-ed, filters AND-ed)."""

    window = django_filters.ChoiceFilter(
        label=_("Ending"), choices=WINDOW_CHOICES, method="filter_window", empty_label=_("Any time")
    )
    quarter = django_filters.ChoiceFilter(label=_("Quarter"), method="filter_quarter", empty_label=_("Any quarter"))
    owner = AnyOfModels(label=_("CSM"), field_name="account__owner", queryset=_csms())
    team = AnyOfModels(label=_("Team"), field_name="account__owner__team", queryset=Team.objects.all())
    account_executive = AnyOfModels(label=_("AE"), field_name="account__account_executive", queryset=_aes())
    state = AnyOf(label=_("State"), field_name="state", choices=RenewalState.choices)
    band = AnyOf(label=_("Health"), choices=AccountSnapshot.Band.choices, method=_bands)
    risk = AnyOf(label=_("Churn risk"), field_name="risk_band", choices=AccountSnapshot.RiskBand.choices)
    at_risk = AtRiskFilter()
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
        fields = [
            "window",
            "quarter",
            "owner",
            "team",
            "account_executive",
            "state",
            "band",
            "risk",
            "at_risk",
            "category",
            "q",
            "as_of",
        ]

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
