"""Which pages a role may open. Which *accounts* a user may read or change is ``Account.objects.visible_to`` /
``editable_by`` / ``forecast_editable_by`` (accounts/managers.py), never decided here."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.roles import Role, has_any_role

LEADERSHIP_ROLES = frozenset({Role.MANAGER, Role.EXECUTIVE, Role.ADMIN})
STATUS_ROLES = frozenset({Role.ADMIN})


def can_view_leadership(user) -> bool:
    return has_any_role(user, LEADERSHIP_ROLES)


def can_view_status(user) -> bool:
    return has_any_role(user, STATUS_ROLES)


def role_required(*roles: str):
    """Login first (anonymous → login page), then 403 unless the user has one of ``roles`` (or is a superuser)."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_any_role(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
