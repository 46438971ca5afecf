"""Viewsets of the accounts API: list (filtered, paginated), retrieve, create and update; nothing is deleted.

Every queryset starts from ``Account.objects.visible_to``. A write needs the role's model permission
(``ROLE_PERMISSIONS``) and an account the user may edit (``Account.objects.editable_by``); an account executive
may also change the contracts of the accounts they sell to. Each write calls one service, whose ValidationError
is answered 400 with the field messages.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions, IsAuthenticated
from rest_framework.serializers import ValidationError, as_serializer_error
from rest_framework.settings import api_settings

from csm_platform.api import Pagination

from .. import services
from ..managers import assignment_errors
from ..models import Account, Contact, Contract, UsageEvent
from ..tasks import usage_rollups_fold_soon
from . import filters, serializers


class AccountScoped(DjangoModelPermissions):
    """The role's model permission for the method; for a write on a row, also the row's account among
    ``view.writable_accounts()``."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        account_id = obj.pk if isinstance(obj, Account) else obj.account_id
        return view.writable_accounts().filter(pk=account_id).exists()


class AccountScopedViewSet(viewsets.GenericViewSet):
    """Authentication, the scoping permission, pagination, and service ValidationErrors answered 400."""

    permission_classes = [IsAuthenticated, AccountScoped]
    pagination_class = Pagination

    def visible_accounts(self) -> QuerySet[Account]:
        return Account.objects.visible_to(self.request.user)

    def writable_accounts(self) -> QuerySet[Account]:
        return Account.objects.editable_by(self.request.user)

    def account_check(self, account: Account) -> None:
        """403 unless the user may write rows of ``account`` (a new row's account, or the one a row moves to)."""
        if not self.writable_accounts().filter(pk=account.pk).exists():
            self.permission_denied(
                self.request, message=_("You may not change the rows of account %(account)s.") % {"account": account.pk}
            )

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            detail = as_serializer_error(exc)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            exc = ValidationError(detail)
        return super().handle_exception(exc)


class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AccountScopedViewSet,
):
    serializer_class = serializers.AccountSerializer
    filterset_class = filters.AccountFilterSet

    def get_queryset(self) -> QuerySet[Account]:
        return self.visible_accounts().select_related("owner", "account_executive").order_by("name", "id")

    def perform_create(self, serializer) -> None:
        self.assignment_check(None, serializer.validated_data)
        serializer.instance = services.account_create(data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        self.assignment_check(serializer.instance, serializer.validated_data)
        serializer.instance = services.account_update(account=serializer.instance, data=serializer.validated_data)

    def assignment_check(self, account: Account | None, data: dict) -> None:
        """403 when the user may not give the account this owner or account executive."""
        assignments = {name: data[name] for name in ("owner", "account_executive") if name in data}
        errors = assignment_errors(user=self.request.user, account=account, **assignments)
        if errors:
            self.permission_denied(self.request, message=" ".join(f"{name}: {text}" for name, text in errors.items()))


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AccountScopedViewSet,
):
    serializer_class = serializers.ContactSerializer
    filterset_class = filters.ContactFilterSet

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.filter(account__in=self.visible_accounts()).order_by("account_id", "name", "id")

    def perform_create(self, serializer) -> None:
        self.account_check(serializer.validated_data["account"])
        serializer.instance = services.contact_create(data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        if "account" in serializer.validated_data:
            self.account_check(serializer.validated_data["account"])
        serializer.instance = services.contact_update(contact=serializer.instance, data=serializer.validated_data)


class ContractViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AccountScopedViewSet,
):
    serializer_class = serializers.ContractSerializer
    filterset_class = filters.ContractFilterSet

    def get_queryset(self) -> QuerySet[Contract]:
        return Contract.objects.filter(account__in=self.visible_accounts()).order_by("account_id", "start_date", "id")

    def writable_accounts(self) -> QuerySet[Account]:
        return super().writable_accounts() | self.visible_accounts().filter(account_executive=self.request.user)

    def perform_create(self, serializer) -> None:
        self.account_check(serializer.validated_data["account"])
        serializer.instance = services.contract_create(data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.contract_update(contract=serializer.instance, data=serializer.validated_data)


class UsageEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, AccountScopedViewSet
):
    """Events arrive through the tracking API (``/v1/batch``); a create here is stored by the same ingestion."""

    serializer_class = serializers.UsageEventSerializer
    filterset_class = filters.UsageEventFilterSet

    def get_queryset(self) -> QuerySet[UsageEvent]:
        return (
            UsageEvent.objects.filter(account__in=self.visible_accounts())
            .select_related("source")
            .order_by("-occurred_at", "-id")
        )

    def perform_create(self, serializer) -> None:
        self.account_check(serializer.validated_data["account"])
        serializer.instance = services.usage_event_create(**serializer.validated_data)
        usage_rollups_fold_soon()
