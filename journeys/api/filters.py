import django_filters

from csm_platform.validation import UtcIsoDateTimeFilter

from ..models import SurveyResponse


class SurveyResponseFilterSet(django_filters.FilterSet):
    responded_after = UtcIsoDateTimeFilter(field_name="responded_at", lookup_expr="gte")
    responded_before = UtcIsoDateTimeFilter(field_name="responded_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = ["account", "contact", "kind", "source", "external_id"]
