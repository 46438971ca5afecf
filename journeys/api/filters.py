import django_filters

from ..models import SurveyResponse


class SurveyResponseFilterSet(django_filters.FilterSet):
    responded_after = django_filters.IsoDateTimeFilter(field_name="responded_at", lookup_expr="gte")
    responded_before = django_filters.IsoDateTimeFilter(field_name="responded_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = ["account", "contact", "kind", "source", "external_id"]
