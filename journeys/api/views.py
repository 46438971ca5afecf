"""The survey responses API: list (filtered, paginated), retrieve and create (through the service); answers are
never edited or deleted over the API. Reads start from ``Account.objects.visible_to``; creating needs the role's
``journeys.add_surveyresponse`` (executives get 403) and an account the user may change (``editable_by``)."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import mixins, viewsets
from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated
from rest_framework.serializers import ValidationError
from rest_framework.settings import api_settings

from accounts.models import Account
from csm_platform.api import Pagination

from .. import services
from ..errors import JourneyError
from ..models import SurveyResponse
from .filters import SurveyResponseFilterSet
from .serializers import SurveyResponseSerializer


class SurveyResponseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilterSet
    permission_classes = [IsAuthenticated, DjangoModelPermissions]
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[SurveyResponse]:
        return SurveyResponse.objects.filter(account__in=Account.objects.visible_to(self.request.user)).order_by(
            "-responded_at", "-id"
        )

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        if not Account.objects.editable_by(self.request.user).filter(pk=data["account"].pk).exists():
            # Answers feed health and fire playbooks: only on accounts the user may change.
            self.permission_denied(
                self.request, message=_("You may not record answers for account %(id)s.") % {"id": data["account"].pk}
            )
        contact = data.get("contact")
        try:
            serializer.instance = services.survey_response_create(
                account_id=data["account"].pk,
                kind=data["kind"],
                score=data["score"],
                responded_at=data["responded_at"],
                source=SurveyResponse.Source.API,
                contact_id=contact.pk if contact else None,
                contact_email=data.get("respondent_email", ""),
                comment=data.get("comment", ""),
                external_id=data.get("external_id", ""),
                created_by_id=self.request.user.pk,
            )
        except JourneyError as error:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(error)]}) from None
