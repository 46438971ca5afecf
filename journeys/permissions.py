"""Who may do what in the journeys pages, on top of ``Account.objects.visible_to`` / ``editable_by`` and
``selectors.tasks.tasks_actionable_by``. Executives read everything and change nothing (403)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.models import Account
from accounts.roles import Role, has_any_role


def can_manage_playbooks(user) -> bool:
    """Dry runs of playbooks: admins and CS managers."""
    return has_any_role(user, frozenset({Role.ADMIN, Role.MANAGER}))


def account_for_reading(user, account_id: int) -> Account:
    return get_object_or_404(
        Account.objects.visible_to(user).select_related("owner", "account_executive"), pk=account_id
    )


def account_for_editing(user, account_id: int, permission: str) -> Account:
    """The account if the user may change it and holds ``permission``; 404 if unknown, 403 otherwise."""
    account = account_for_reading(user, account_id)
    if not user.has_perm(permission) or not Account.objects.editable_by(user).filter(pk=account_id).exists():
        raise PermissionDenied
    return account
