"""Writes of the accounts app."""

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from fnmatch import fnmatch

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ingestion.services import BatchRejected, ingest_batch
from .managers import UNSET, assignment_errors
from .models import (
    Account,
    Activity,
    ChangedAccount,
    Contact,
    ContactEngagement,
    Contract,
    Source,
    UsageEvent,
    UsageMessage,
)
from .roles import ROLE_PERMISSIONS
from .selectors import MIN_TERM_DAYS


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


def activity_create(
    *,
    account_id: int,
    kind: str,
    author_id: int | None,
    occurred_at: dt.datetime,
    subject: str,
    body: str = "",
    contact_id: int | None = None,
) -> Activity:
    """Put a touch on the account's timeline (other apps log stage changes and finished tasks through here)."""
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    activity = Activity.objects.create(
        account_id=account_id,
        kind=kind,
        author_id=author_id,
        occurred_at=occurred_at,
        subject=subject[: Activity._meta.get_field("subject").max_length],
        body=body,
        contact_id=contact_id,
    )
    accounts_mark_changed(account_ids=[account_id])
    return activity


def changed_accounts_claim(*, limit: int) -> list[tuple[int, dt.datetime]]:
    """Take up to ``limit`` accounts off the changed set, oldest change first, skipping rows another refresh holds:
    (account, first change). Call it inside the transaction that refreshes them, so that a failure puts them back
    and a change arriving meanwhile waits for the commit and is claimed by the next refresh."""
    claimed = list(
        ChangedAccount.objects.select_for_update(skip_locked=True)
        .order_by("changed_at", "account_id")
        .values_list("account_id", "changed_at")[:limit]
    )
    ChangedAccount.objects.filter(account_id__in=[account_id for account_id, _ in claimed]).delete()
    return claimed


def accounts_mark_changed(*, account_ids: Iterable[int]) -> None:
    """Put accounts whose data changed in the set the intra-day refresh drains (an account already there keeps
    its first change's time)."""
    now = timezone.now()
    ChangedAccount.objects.bulk_create(
        [ChangedAccount(account_id=account_id, changed_at=now) for account_id in set(account_ids)],
        ignore_conflicts=True,
    )


# Accounts, contacts, contracts and usage events: the one write path of each (the API calls these) --------------
#
# ``data`` holds model field values, foreign keys as instances, as a serializer's or form's ``validated_data``.
# Each write checks the rules the database constraints hold, with messages a person can act on, then
# ``full_clean`` and ``save`` in one transaction; a constraint hit by a concurrent write is a ValidationError too.
# An update saves only the fields it was given, so it never overwrites another field changed meanwhile.


@transaction.atomic
def account_create(*, data: dict) -> Account:
    """Create an account."""
    account = _validated_save(Account(**data), errors=_account_errors)
    accounts_mark_changed(account_ids=[account.pk])
    return account


@transaction.atomic
def account_update(*, account: Account, data: dict) -> Account:
    """Change the fields of ``data`` on ``account``."""
    account = _validated_save(_assigned(account, data), errors=_account_errors, fields=[*data, "updated_at"])
    accounts_mark_changed(account_ids=[account.pk])
    return account


@transaction.atomic
def contact_create(*, data: dict) -> Contact:
    """Create a contact; a ``last_engaged_at`` is also recorded as a dated engagement."""
    contact = _validated_save(Contact(**data), errors=_contact_errors)
    contact_engagement_record(contact=contact)
    accounts_mark_changed(account_ids=[contact.account_id])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict) -> Contact:
    """Change the fields of ``data`` on ``contact`` (a new ``account`` moves the person to it); a new
    ``last_engaged_at`` is also recorded as a dated engagement."""
    previous_account_id = Contact.objects.filter(pk=contact.pk).values_list("account_id", flat=True).first()
    contact = _validated_save(_assigned(contact, data), errors=_contact_errors, fields=list(data))
    if "last_engaged_at" in data:
        contact_engagement_record(contact=contact)
    accounts_mark_changed(account_ids={contact.account_id, previous_account_id} - {None})
    return contact


def contact_engagement_record(*, contact: Contact) -> None:
    """Keep the contact's ``last_engaged_at`` as a dated engagement record (once per moment): health reads the
    records, so a later date never rewrites what a past night saw."""
    if contact.last_engaged_at is not None:
        ContactEngagement.objects.get_or_create(contact=contact, engaged_at=contact.last_engaged_at)


@transaction.atomic
def contract_create(*, data: dict) -> Contract:
    """Create a contract."""
    contract = _validated_save(Contract(**data), errors=_contract_errors)
    accounts_mark_changed(account_ids=[contract.account_id])
    return contract


def contract_update(*, contract: Contract, data: dict) -> Contract:
    """Change the fields of ``data`` on ``contract``; a contract never moves to another account."""
    if "account" in data and data["account"].pk != contract.account_id:
        raise ValidationError({"account": _("A contract cannot move to another account.")})
    with transaction.atomic():
        contract = _validated_save(_assigned(contract, data), errors=_contract_errors, fields=list(data))
        accounts_mark_changed(account_ids=[contract.account_id])
    return contract


def usage_event_create(
    *,
    source: Source,
    account: Account,
    user_id: str,
    event: str,
    occurred_at: dt.datetime,
    message_id: str,
    properties: dict | None = None,
) -> UsageEvent:
    """Store one usage event through ingestion (as a Segment ``track`` call), so the rollups follow it."""
    call = {
        "type": "track",
        "messageId": message_id,
        "userId": user_id,
        "event": event,
        "timestamp": occurred_at.isoformat(),
        "properties": properties or {},
        "context": {"groupId": account.external_id},
    }
    try:
        result = ingest_batch(source_id=source.pk, messages=[call], received_at=timezone.now())
    except BatchRejected:  # the one reason a single call is refused whole: its size
        raise ValidationError({"properties": _("An event may have at most 32 KB, properties included.")}) from None
    if result.errors:
        raise ValidationError(result.errors[0]["error"])
    if result.duplicates:
        raise ValidationError({"message_id": _("An event with this message id is already stored for this source.")})
    stored = UsageMessage.objects.get(source=source, message_id=message_id)
    return UsageEvent.objects.get(pk=stored.event_id, occurred_at=stored.occurred_at)


def _assigned(instance: Model, data: dict) -> Model:
    for name, value in data.items():
        setattr(instance, name, value)
    return instance


def _validated_save(
    instance: Model, *, errors: Callable[[Model], dict[str, list[str]]], fields: list[str] | None = None
) -> Model:
    """Raise every problem at once (``errors``' own, then ``full_clean``'s for the other fields), else save
    (only ``fields`` when given)."""
    found = errors(instance)
    try:
        # Fields with an error of our own are left out, and so are the constraints on them (same rule, vaguer words).
        instance.full_clean(exclude=set(found))
    except ValidationError as error:
        found = error.update_error_dict(found)
    if found:
        raise ValidationError(found)
    try:
        with transaction.atomic():
            instance.save(update_fields=fields)
    except IntegrityError:
        raise ValidationError(
            _("This conflicts with a row stored meanwhile (a duplicate id?); nothing was saved. Reload and retry.")
        ) from None
    return instance


def _account_errors(account: Account) -> dict[str, list[str]]:
    errors = {}
    if account.churned_on is not None and account.status != Account.Status.CHURNED:
        errors["churned_on"] = [_("Only a churned account has a churn date.")]
    if account.parent_id is not None and account.pk is not None:
        ancestor_id, seen = account.parent_id, set()
        while ancestor_id is not None and ancestor_id not in seen:
            if ancestor_id == account.pk:
                errors["parent"] = [_("An account cannot be its own parent or ancestor.")]
                break
            seen.add(ancestor_id)
            ancestor_id = Account.objects.filter(pk=ancestor_id).values_list("parent_id", flat=True).first()
    return errors


def _contact_errors(contact: Contact) -> dict[str, list[str]]:
    taken = contact.user_id and Contact.objects.filter(user_id=contact.user_id).exclude(pk=contact.pk).exists()
    return {"user_id": [_("Another contact already has this product user id.")]} if taken else {}


def _contract_errors(contract: Contract) -> dict[str, list[str]]:
    errors = {}
    days = (contract.end_date - contract.start_date).days + 1 if contract.start_date and contract.end_date else None
    if days is not None and days < 1:
        errors["end_date"] = [_("The end date must be on or after the start date.")]
    elif contract.end_date == dt.date.max:
        errors["end_date"] = [_("The end date must be before 9999-12-31: enter the term's last day.")]
    elif days is not None and days < MIN_TERM_DAYS:
        errors["end_date"] = [
            _("A contract must cover at least %(minimum)d days (the end date is inclusive); this one covers %(days)d.")
            % {"minimum": MIN_TERM_DAYS, "days": days}
        ]
    for name in ("recurring_tcv", "one_time_fees"):
        value = getattr(contract, name)
        if isinstance(value, Decimal) and value < 0:
            errors[name] = [_("Must not be negative.")]
    if contract.renews_id is not None:
        if contract.renews_id == contract.pk:
            errors["renews"] = [_("A contract cannot renew itself.")]
        elif contract.renews.account_id != contract.account_id:
            errors["renews"] = [_("The renewed contract must belong to the same account.")]
    return errors


def activities_create(*, activities: list[dict]) -> int:
    """Put many touches on timelines at once (fields as ``activity_create``'s arguments); returns how many."""
    max_subject = Activity._meta.get_field("subject").max_length
    rows = [
        Activity(
            account_id=item["account_id"],
            kind=item["kind"],
            author_id=item.get("author_id"),
            occurred_at=item["occurred_at"],
            subject=item["subject"][:max_subject],
            body=item.get("body", ""),
            contact_id=item.get("contact_id"),
        )
        for item in activities
    ]
    if any(row.occurred_at.tzinfo is None for row in rows):
        raise ValueError("occurred_at must be timezone-aware")
    Activity.objects.bulk_create(rows, batch_size=1000)
    accounts_mark_changed(account_ids=[row.account_id for row in rows])
    return len(rows)


# Assignment and the timeline's own writes (the pages call these) -------------------------------------------------


@transaction.atomic
def account_assign(*, user, account_ids: list[int], owner=UNSET, account_executive=UNSET) -> int:
    """Give the accounts a new owner (CSM) and/or account executive, as ``user``: only accounts ``user`` may edit,
    under the rules of ``assignment_errors``; all or none (a ValidationError says why). Saved one by one, so the
    audit trail records each change. Returns how many accounts changed."""
    wanted = set(account_ids)
    accounts = list(
        Account.objects.editable_by(user).filter(pk__in=wanted).select_for_update(of=("self",)).order_by("pk")
    )
    if not wanted or len(accounts) != len(wanted):
        raise ValidationError(_("You may not change %(n)d of these accounts.") % {"n": len(wanted) - len(accounts)})
    assignments = {
        name: value
        for name, value in (("owner", owner), ("account_executive", account_executive))
        if value is not UNSET
    }
    if not assignments:
        raise ValidationError(_("Choose a CSM or an AE to assign."))
    problems = {
        text for account in accounts for text in assignment_errors(user=user, account=account, **assignments).values()
    }
    if problems:
        raise ValidationError(sorted(problems))
    changed = 0
    for account in accounts:
        data = {name: value for name, value in assignments.items() if getattr(account, name) != value}
        if data:
            account_update(account=account, data=data)
            changed += 1
    return changed


def activity_update(
    *,
    activity: Activity,
    user_id: int,
    kind: str,
    occurred_at: dt.datetime,
    subject: str,
    body: str = "",
    contact_id: int | None = None,
) -> Activity:
    """Change a touch on the timeline: only its author may (PermissionDenied otherwise)."""
    if activity.author_id is None or activity.author_id != user_id:
        raise PermissionDenied(_("Only the author of an activity may change it."))
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    data = {
        "kind": kind,
        "occurred_at": occurred_at,
        "subject": subject[: Activity._meta.get_field("subject").max_length],
        "body": body,
        "contact_id": contact_id,
    }
    with transaction.atomic():
        Activity.objects.filter(pk=activity.pk, author_id=user_id).update(**data)
        accounts_mark_changed(account_ids=[activity.account_id])
    return _assigned(activity, data)


def activity_delete(*, activity: Activity, user_id: int) -> None:
    """Remove a touch from the timeline: only its author may (PermissionDenied otherwise)."""
    if activity.author_id is None or activity.author_id != user_id:
        raise PermissionDenied(_("Only the author of an activity may delete it."))
    with transaction.atomic():
        Activity.objects.filter(pk=activity.pk, author_id=user_id).delete()
        accounts_mark_changed(account_ids=[activity.account_id])
