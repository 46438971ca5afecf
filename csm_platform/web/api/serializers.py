"""Rows of ``/api/portfolio/`` and ``/api/renewals/``: the same annotations and the same functions the pages and
the CSV exports use, for the same evaluation date. Money is a decimal string; N/A is null, with the reason."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account

from ..selectors.portfolio import account_clv, acv_na_reason, receipt_inputs
from ..selectors.renewals import RenewalState

MONEY = {"max_digits": 16, "decimal_places": 2, "read_only": True, "allow_null": True}


class PortfolioSerializer(serializers.ModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    account_executive_username = serializers.CharField(
        source="account_executive.username", read_only=True, allow_null=True
    )
    stage = serializers.CharField(source="stage_name", read_only=True, allow_null=True)
    as_of = serializers.DateField(
        source="snapshot_as_of", read_only=True, allow_null=True, help_text="The night the figures are for."
    )
    health = serializers.IntegerField(read_only=True, allow_null=True, help_text="Nightly health, 0-100, whole.")
    band = serializers.CharField(read_only=True, allow_null=True)
    health_change_30 = serializers.IntegerField(read_only=True, allow_null=True)
    acv = serializers.DecimalField(**MONEY, help_text="In the reporting currency; null: N/A (see acv_na_reason).")
    acv_na_reason = serializers.SerializerMethodField()
    churn_probability = serializers.FloatField(read_only=True, allow_null=True)
    risk_band = serializers.CharField(read_only=True, allow_null=True)
    clv = serializers.SerializerMethodField()
    next_renewal = serializers.DateField(read_only=True, allow_null=True)
    last_touch = serializers.DateTimeField(read_only=True, allow_null=True)
    open_tasks = serializers.IntegerField(read_only=True)
    mau = serializers.SerializerMethodField()
    seats = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "owner",
            "owner_username",
            "account_executive",
            "account_executive_username",
            "segment",
            "stage",
            "as_of",
            "health",
            "band",
            "health_change_30",
            "acv",
            "acv_na_reason",
            "churn_probability",
            "risk_band",
            "clv",
            "next_renewal",
            "last_touch",
            "open_tasks",
            "mau",
            "seats",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_acv_na_reason(self, account) -> str:
        return acv_na_reason(account)

    @extend_schema_field(serializers.DecimalField(**MONEY, help_text="Remaining CLV; null: N/A."))
    def get_clv(self, account):
        clv = account_clv(account)
        return None if clv is None else str(clv)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_mau(self, account) -> float | None:
        return receipt_inputs(account.snapshot_measures, "license_utilization").get("mau")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_seats(self, account) -> float | None:
        return receipt_inputs(account.snapshot_measures, "license_utilization").get("seats")


class RenewalSerializer(serializers.Serializer):
    """A ``selectors.renewals.RenewalRow``."""

    contract_id = serializers.IntegerField(source="contract.pk", read_only=True)
    contract = serializers.CharField(source="contract.external_id", read_only=True)
    account_id = serializers.IntegerField(source="account.pk", read_only=True)
    account = serializers.CharField(source="account.name", read_only=True)
    end_date = serializers.DateField(source="contract.end_date", read_only=True)
    state = serializers.ChoiceField(choices=RenewalState.choices, read_only=True)
    acv = serializers.DecimalField(**MONEY, help_text="At the evaluation date's rate; null: N/A (acv_na_reason).")
    acv_na_reason = serializers.CharField(read_only=True)
    health = serializers.IntegerField(read_only=True, allow_null=True)
    band = serializers.CharField(read_only=True, allow_null=True)
    churn_probability = serializers.FloatField(read_only=True, allow_null=True)
    risk_band = serializers.CharField(read_only=True, allow_null=True)
    expected = serializers.DecimalField(**MONEY, help_text="ACV × (1 − p) of an open renewal; null otherwise.")
    category = serializers.CharField(read_only=True, help_text="Forecast category, or 'none'.")
    amount = serializers.DecimalField(source="forecast.amount", **MONEY, help_text="The forecast's amount.")
    next_step = serializers.CharField(source="forecast.next_step", read_only=True, allow_null=True)
