"""Serializers of the journeys API: they parse and render; writes go through ``journeys.services``."""

from rest_framework import serializers

from accounts.models import Account, Contact

from ..models import SurveyResponse


class SurveyResponseSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), allow_null=True, required=False)
    contact_email = serializers.EmailField(source="respondent_email", required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=SurveyResponse.Kind.choices)
    score = serializers.IntegerField()

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "account",
            "contact",
            "contact_email",
            "respondent",
            "kind",
            "score",
            "responded_at",
            "comment",
            "source",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["respondent", "source", "created_at"]
        extra_kwargs = {"external_id": {"required": False}, "comment": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["account"].queryset = Account.objects.visible_to(request.user)
        return fields
