"""The portfolio row of ``/api/portfolio/``: the same annotations the page shows. Money is a decimal string."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account

from ..selectors.portfolio import receipt_inputs


class PortfolioSerializer(serializers.ModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    account_executive_username = serializers.CharField(
        source="account_executive.username", read_only=True, allow_null=True
    )
    stage = serializers.CharField(source="stage_name", read_only=True, allow_null=True)
    health = serializers.FloatField(read_only=True, allow_null=True, help_text="Latest nightly health, 0-100.")
    band = serializers.CharField(read_only=True, allow_null=True)
    health_change_30 = serializers.FloatField(read_only=True, allow_null=True)
    acv = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, allow_null=True, help_text="In the reporting currency."
    )
    churn_probability = serializers.FloatField(read_only=True, allow_null=True)
    risk_band = serializers.CharField(read_only=True, allow_null=True)
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
            "health",
            "band",
            "health_change_30",
            "acv",
            "churn_probability",
            "risk_band",
            "next_renewal",
            "last_touch",
            "open_tasks",
            "mau",
            "seats",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_mau(self, account) -> float | None:
        return receipt_inputs(account.snapshot_measures, "license_utilization").get("mau")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_seats(self, account) -> float | None:
        return receipt_inputs(account.snapshot_measures, "license_utilization").get("seats")
