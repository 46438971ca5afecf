from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are auth groups of these names, kept in step with ``ROLE_PERMISSIONS`` after every migrate."""

    CSM = "CSM", _("CSM")
    MANAGER = "CS manager", _("CS manager")
    ACCOUNT_EXECUTIVE = "Account executive", _("Account executive")
    ADMIN = "Admin", _("Admin")
    EXECUTIVE = "Executive", _("Executive (read-only)")


# What each role may do, as "app_label.codename" patterns (fnmatch). Object-level scoping (a CSM edits
# only their own accounts) is ``Account.objects.editable_by``; these are the model-level grants.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.EXECUTIVE: ("accounts.view_*", "health.view_*", "journeys.view_*"),
    Role.ACCOUNT_EXECUTIVE: (
        "accounts.view_*",
        "health.view_*",
        "journeys.view_*",
        "accounts.change_contract",
        "accounts.add_activity",
        "journeys.change_task",
        "journeys.add_taskcomment",
    ),
    Role.CSM: (
        "accounts.view_*",
        "health.view_*",
        "journeys.view_*",
        "accounts.change_account",
        "accounts.add_contact",
        "accounts.change_contact",
        "accounts.add_activity",
        "accounts.change_activity",
        "journeys.add_*",
        "journeys.change_*",
    ),
    Role.MANAGER: (
        "accounts.view_*",
        "health.view_*",
        "journeys.view_*",
        "accounts.change_account",
        "accounts.add_contact",
        "accounts.change_contact",
        "accounts.add_activity",
        "accounts.change_activity",
        "journeys.add_*",
        "journeys.change_*",
        "journeys.delete_*",
    ),
    Role.ADMIN: ("accounts.*", "health.*", "journeys.*", "auth.*", "authtoken.*", "web.*"),
}


def user_roles(user) -> frozenset[str]:
    """The user's role names, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_roles_cache"):
        user._roles_cache = frozenset(user.groups.values_list("name", flat=True))
    return user._roles_cache


def has_any_role(user, roles: frozenset[str]) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(user_roles(user) & roles))
