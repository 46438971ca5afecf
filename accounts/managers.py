"""The one permission-scoping helper: every list and detail, HTML and API, starts here."""

from django.db import models
from django.db.models import Q

from .roles import Role


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AccountQuerySet":
        """Accounts a user may read: every role reads the whole book; anonymous users read nothing."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self

    def editable_by(self, user) -> "AccountQuerySet":
        """Accounts a user may change: superusers and admins all, managers their team's, CSMs their own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        roles = set(user.groups.values_list("name", flat=True))
        if user.is_superuser or Role.ADMIN in roles:
            return self
        scope = Q()
        if Role.MANAGER in roles:
            scope |= Q(owner__team__manager=user) | Q(owner=user)
        if Role.CSM in roles:
            scope |= Q(owner=user)
        if not scope:
            return self.none()
        return self.filter(scope)

    def forecast_editable_by(self, user) -> "AccountQuerySet":
        """Accounts whose renewal forecast a user may set: superusers and admins all, managers their team's,
        account executives the accounts they are the AE of. CSMs and executives none."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        roles = set(user.groups.values_list("name", flat=True))
        if user.is_superuser or Role.ADMIN in roles:
            return self
        scope = Q()
        if Role.MANAGER in roles:
            scope |= Q(owner__team__manager=user)
        if Role.ACCOUNT_EXECUTIVE in roles:
            scope |= Q(account_executive=user)
        if not scope:
            return self.none()
        return self.filter(scope)
