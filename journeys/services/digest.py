"""The morning digest: each CSM's e-mail with their accounts that turned red, tasks due today and renewals within
30 days, with links that open the pages (``SITE_URL``). Sent once a day: the day's ``DigestRun`` row is claimed
by inserting it."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import Account, User
from accounts.roles import Role
from health.models import AccountSnapshot

from ..models import DigestRun, Task
from ..selectors.surveys import journey_settings_get

RENEWAL_DAYS = 30
RED, NA = AccountSnapshot.Band.RED, AccountSnapshot.Band.NA


def site_url(path: str) -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/") + path


@dataclass
class Digest:
    user: User
    turned_red: list[dict] = field(default_factory=list)
    due_today: list[dict] = field(default_factory=list)
    renewals: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.turned_red or self.due_today or self.renewals)


def _turned_red(*, as_of: dt.date, account_ids: list[int]) -> set[int]:
    """Accounts red in the latest snapshot on or before ``as_of`` whose previous scored snapshot was not red."""
    latest = AccountSnapshot.objects.filter(as_of__lte=as_of).aggregate(day=Max("as_of"))["day"]
    if latest is None:
        return set()
    red = set(
        AccountSnapshot.objects.filter(as_of=latest, band=RED, account_id__in=account_ids).values_list(
            "account_id", flat=True
        )
    )
    previous = (
        AccountSnapshot.objects.filter(account_id__in=red, as_of__lt=latest)
        .exclude(band=NA)
        .order_by("account_id", "-as_of")
        .values_list("account_id", "band")
    )
    before: dict[int, str] = {}
    for account_id, band in previous:
        before.setdefault(account_id, band)
    return {a for a in red if before.get(a) != RED}


def digests_build(*, as_of: dt.date) -> list[Digest]:
    """The digests of every active CSM with an e-mail address and something to report (set-based)."""
    csms = {
        user.pk: user
        for user in User.objects.filter(groups__name=Role.CSM, is_active=True).exclude(email="").distinct()
    }
    accounts = {
        row["pk"]: row
        for row in Account.objects.filter(owner_id__in=csms)
        .exclude(status=Account.Status.CHURNED)
        .values("pk", "name", "owner_id")
    }
    digests = {pk: Digest(user=user) for pk, user in csms.items()}
    for account_id in sorted(_turned_red(as_of=as_of, account_ids=list(accounts))):
        account = accounts[account_id]
        digests[account["owner_id"]].turned_red.append(
            {"name": account["name"], "url": site_url(reverse("web:account", args=[account_id]))}
        )
    tasks = (
        Task.objects.filter(owner_id__in=csms, status=Task.Status.OPEN, due_date=as_of)
        .exclude(snoozed_until__gt=as_of)
        .select_related("account")
        .order_by("-priority", "pk")
    )
    for task in tasks:
        digests[task.owner_id].due_today.append(
            {
                "title": task.title,
                "account": task.account.name,
                "url": site_url(reverse("journeys:task_detail", args=[task.pk])),
            }
        )
    ends = account_selectors.next_contract_ends(as_of=as_of, account_ids=list(accounts))
    for account_id, end in sorted(ends.items(), key=lambda item: (item[1], item[0])):
        if (end - as_of).days <= RENEWAL_DAYS:
            account = accounts[account_id]
            digests[account["owner_id"]].renewals.append(
                {
                    "name": account["name"],
                    "ends": end,
                    "days": (end - as_of).days,
                    "url": site_url(reverse("web:account", args=[account_id])),
                }
            )
    return [digest for digest in digests.values() if digest]


def digest_send(*, as_of: dt.date) -> int:
    """Send every CSM's digest for ``as_of`` (through the configured e-mail backend); returns e-mails sent."""
    messages = []
    for digest in digests_build(as_of=as_of):
        context = {"digest": digest, "as_of": as_of, "my_tasks_url": site_url(reverse("journeys:my_tasks"))}
        message = EmailMultiAlternatives(
            subject=_("Your morning digest for %(day)s") % {"day": as_of.isoformat()},
            body=render_to_string("journeys/email/digest.txt", context),
            to=[digest.user.email],
        )
        message.attach_alternative(render_to_string("journeys/email/digest.html", context), "text/html")
        messages.append(message)
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def digest_run_due(*, now: dt.datetime) -> DigestRun | None:
    """Send today's digest if its hour (settings, UTC) has come and nobody sent it yet; the run row records it."""
    today = now.astimezone(dt.UTC).date()
    if now.astimezone(dt.UTC).hour < journey_settings_get().digest_hour:
        return None
    try:
        with transaction.atomic():
            run = DigestRun.objects.create(as_of=today, started_at=now)
    except IntegrityError:
        return None
    try:
        run.sent = digest_send(as_of=today)
    except Exception as error:
        # Recorded on the run and re-raised (the task fails visibly); delete the row in the admin to resend.
        DigestRun.objects.filter(pk=run.pk).update(errors=[f"{type(error).__name__}: {error}"])
        raise
    run.finished_at = timezone.now()
    run.save(update_fields=["sent", "finished_at"])
    return run
