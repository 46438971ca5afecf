"""FilterSets of accounts, contacts, contracts and usage events: the API's query parameters, and the filters of the
list pages (one definition serves both)."""

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from csm_platform.validation import UtcIsoDateTimeFilter

from ..models import Account, Contact, Contract, UsageEvent
from ..selectors import contracts_live_on


def visible_accounts(request) -> QuerySet[Account]:
    return Account.objects.visible_to(request.user)


class AccountFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    region = django_filters.CharFilter(lookup_expr="iexact")
    parent = django_filters.ModelChoiceFilter(queryset=visible_accounts)
    q = django_filters.CharFilter(method="search", label=_("Name, CRM id or domain contains"))

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "segment",
            "status",
            "owner",
            "account_executive",
            "industry",
            "region",
            "parent",
        ]

    def search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(Q(name__icontains=value) | Q(external_id__icontains=value) | Q(domain__icontains=value))


class ContactFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=visible_accounts)
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = [
            "account",
            "email",
            "user_id",
            "is_champion",
            "is_executive_sponsor",
            "is_decision_maker",
            "is_billing",
            "is_end_user",
            "active",
        ]


class ContractFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=visible_accounts)
    ends_after = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", label=_("Ends on or after"))
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte", label=_("Ends on or before"))
    live_on = django_filters.DateFilter(method="live", label=_("Live on that day (started, not ended, not cancelled)"))

    class Meta:
        model = Contract
        fields = ["account", "status", "kind", "currency"]

    def live(self, queryset: QuerySet[Contract], name: str, value: dt.date) -> QuerySet[Contract]:
        return queryset & contracts_live_on(as_of=value)


class UsageEventFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=visible_accounts)
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=_("At or after"))
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label=_("Before"))
    source = django_filters.CharFilter(field_name="source__name", label=_("Source name"))

    class Meta:
        model = UsageEvent
        fields = ["account", "user_id", "event"]
