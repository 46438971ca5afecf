"""The one permission-scoping helper: every list and detail, HTML and API, starts here."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from .roles import Role

UNSET = object()  # an assignment not being changed


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


def assignment_errors(*, user, account, owner=UNSET, account_executive=UNSET) -> dict[str, str]:
    """Why ``user`` may not make these the account's owner (CSM) or account executive; empty when they may.
    Admins assign anyone; a manager assigns owners within their team (or themselves) and any account executive;
    nobody else changes either (a CSM cannot hand an account out of their own scope)."""
    errors = {}
    changes = {
        name: value
        for name, value in (("owner", owner), ("account_executive", account_executive))
        if value is not UNSET and (value.pk if value else None) != (getattr(account, f"{name}_id") if account else None)
    }
    if not changes:
        return errors
    roles = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or Role.ADMIN in roles:
        return errors
    for name, value in changes.items():
        if Role.MANAGER not in roles:
            errors[name] = _("Only a CS manager or an admin may reassign an account.")
        elif (
            name == "owner" and value is not None and value.pk != user.pk and value.team_id not in _managed_teams(user)
        ):
            errors[name] = _("A CS manager may make only members of their own team the owner.")
    return errors


def _managed_teams(user) -> set[int]:
    return set(user.managed_teams.values_list("pk", flat=True))
