"""Serializers of the accounts API: they parse and render; writes go through ``accounts.services``.

Money is a decimal string (``"12000.00"``) in the contract's currency, never a float.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Account, Contact, Contract, Source, UsageEvent, User
from ..selectors import contract_acv

MONEY_FIELD = {"coerce_to_string": True}


class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    """An account id among the accounts the requesting user may see."""

    def get_queryset(self):
        return Account.objects.visible_to(self.context["request"].user)


class VisibleContractField(serializers.PrimaryKeyRelatedField):
    """A contract id among the contracts of the accounts the requesting user may see."""

    def get_queryset(self):
        return Contract.objects.filter(account__in=Account.objects.visible_to(self.context["request"].user))


class AccountSerializer(serializers.ModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    account_executive_username = serializers.CharField(
        source="account_executive.username", read_only=True, allow_null=True
    )
    parent = VisibleAccountField(allow_null=True, required=False)

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "domain",
            "owner",
            "owner_username",
            "account_executive",
            "account_executive_username",
            "segment",
            "industry",
            "region",
            "status",
            "churned_on",
            "parent",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "owner": {"queryset": User.objects.filter(is_active=True)},
            "account_executive": {"queryset": User.objects.filter(is_active=True)},
        }


class ContactSerializer(serializers.ModelSerializer):
    account = VisibleAccountField()
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "user_id",
            "name",
            "email",
            "title",
            "is_champion",
            "is_executive_sponsor",
            "is_decision_maker",
            "is_billing",
            "is_end_user",
            "roles",
            "active",
            "last_engaged_at",
            "created_at",
        ]


class ContractSerializer(serializers.ModelSerializer):
    account = VisibleAccountField(help_text="Set on creation; a contract never moves to another account.")
    renews = VisibleContractField(allow_null=True, required=False, help_text="The contract this one renews.")
    acv = serializers.SerializerMethodField(
        help_text="Annual contract value in the contract's currency: recurring value / term in years, "
        "one-time fees excluded."
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "account",
            "external_id",
            "start_date",
            "end_date",
            "currency",
            "recurring_tcv",
            "one_time_fees",
            "acv",
            "seats",
            "kind",
            "renews",
            "auto_renew",
            "status",
            "created_at",
        ]
        extra_kwargs = {"recurring_tcv": MONEY_FIELD, "one_time_fees": MONEY_FIELD}

    @extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=2))
    def get_acv(self, contract: Contract) -> str:
        acv = contract_acv(
            recurring_tcv=contract.recurring_tcv, start_date=contract.start_date, end_date=contract.end_date
        )
        return str(acv)


class UsageEventSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", queryset=Source.objects.all())
    account = VisibleAccountField()
    properties = serializers.DictField(required=False)

    class Meta:
        model = UsageEvent
        fields = [
            "id",
            "source",
            "account",
            "user_id",
            "event",
            "occurred_at",
            "received_at",
            "properties",
            "message_id",
            "timestamp_clamped",
        ]
        read_only_fields = ["received_at", "timestamp_clamped"]
        extra_kwargs = {"user_id": {"required": True, "allow_blank": False}}
        validators = []  # a repeated (source, message_id) is found by ingestion's insert, and named by the service
