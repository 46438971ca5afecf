"""Writes of the accounts app."""

import datetime as dt
from fnmatch import fnmatch

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import Contract
from .roles import ROLE_PERMISSIONS


@transaction.atomic
def role_groups_sync() -> None:
    """Create the role groups and give each exactly the permissions ``ROLE_PERMISSIONS`` grants."""
    permissions = list(Permission.objects.select_related("content_type"))
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        granted = [
            p.pk
            for p in permissions
            if any(fnmatch(f"{p.content_type.app_label}.{p.codename}", pattern) for pattern in patterns)
        ]
        group.permissions.set(granted)


def contract_statuses_refresh(*, as_of: dt.date) -> int:
    """Mark active contracts whose last day is before ``as_of`` as ended; returns how many changed.

    A conditional UPDATE, so concurrent or repeated runs are harmless.
    """
    return Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=as_of).update(
        status=Contract.Status.ENDED
    )
