"""Which pages a role may open. Which *accounts* a user may read or change is ``Account.objects.visible_to`` /
``editable_by`` / ``forecast_editable_by`` (accounts/managers.py), never decided here."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.roles import Role

LEADERSHIP_ROLES = frozenset({Role.MANAGER, Role.EXECUTIVE, Role.ADMIN})
STATUS_ROLES = frozenset({Role.ADMIN})


def user_roles(user) -> frozenset[str]:
    """The user's role names, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_web_roles"):
        user._web_roles = frozenset(user.groups.values_list("name", flat=True))
    return user._web_roles


def has_any_role(user, roles: frozenset[str]) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(user_roles(user) & roles))


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
