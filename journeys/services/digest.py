"""The morning digest: each CSM's e-mail with their renewals within 30 days (with risk and ARR), accounts that
turned red since the night before, tasks due today and overdue, each list ordered by expected loss (ACV × churn
probability of the latest night; not the portfolio's ARR at risk, which counts the whole ACV of red or high-risk
accounts), with links that open the pages (``SITE_URL``). Sent once a day: the day's ``DigestRun`` row is claimed
by inserting it."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

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
    renewals: list[dict] = field(default_factory=list)
    turned_red: list[dict] = field(default_factory=list)
    due_today: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.renewals or self.turned_red or self.due_today or self.overdue)

    def sort(self) -> None:
        """Every list by expected loss, highest first (unknown last), then ACV, then name."""
        for items in (self.renewals, self.turned_red, self.due_today, self.overdue):
            items.sort(
                key=lambda item: (
                    item["expected_loss"] is None,
                    -(item["expected_loss"] or 0),
                    -(item["acv"] or 0),
                    item.get("name") or item.get("title"),
                )
            )


def _figures(*, as_of: dt.date, account_ids: list[int]) -> dict[int, dict]:
    """Each account's ACV, health, band and churn probability of the latest night on or before ``as_of``, and its
    expected loss = ACV × churn probability (None when either is unknown)."""
    night = AccountSnapshot.objects.filter(as_of__lte=as_of).aggregate(day=Max("as_of"))["day"]
    rows = AccountSnapshot.objects.filter(as_of=night, account_id__in=account_ids).values(
        "account_id", "acv", "health", "band", "churn_probability"
    )
    figures = {}
    for row in rows:
        expected_loss = None
        if row["acv"] is not None and row["churn_probability"] is not None:
            expected_loss = (row["acv"] * Decimal(str(row["churn_probability"]))).quantize(Decimal("0.01"))
        figures[row["account_id"]] = {
            "acv": row["acv"],
            "health": row["health"],
            "band": row["band"],
            "risk": row["churn_probability"],
            "expected_loss": expected_loss,
        }
    return figures


NO_FIGURES = {"acv": None, "health": None, "band": NA, "risk": None, "expected_loss": None}


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
    figures = _figures(as_of=as_of, account_ids=list(accounts))
    digests = {pk: Digest(user=user) for pk, user in csms.items()}

    def item(account_id: int, **fields) -> dict:
        account = accounts[account_id]
        url = site_url(reverse("web:account", args=[account_id]))
        return {"name": account["name"], "url": url, **figures.get(account_id, NO_FIGURES), **fields}

    for account_id in _turned_red(as_of=as_of, account_ids=list(accounts)):
        digests[accounts[account_id]["owner_id"]].turned_red.append(item(account_id))
    tasks = (
        Task.objects.filter(owner_id__in=csms, status=Task.Status.OPEN, due_date__lte=as_of)
        .exclude(snoozed_until__gt=as_of)
        .select_related("account")
        .order_by("due_date", "-priority", "pk")
    )
    for task in tasks:
        listing = digests[task.owner_id].due_today if task.due_date == as_of else digests[task.owner_id].overdue
        listing.append(
            {
                "title": task.title,
                "account": task.account.name,
                "due": task.due_date,
                "days_overdue": (as_of - task.due_date).days,
                "url": site_url(reverse("journeys:task_detail", args=[task.pk])),
                **{key: figures.get(task.account_id, NO_FIGURES)[key] for key in ("acv", "expected_loss")},
            }
        )
    ends = account_selectors.next_contract_ends(as_of=as_of, account_ids=list(accounts))
    for account_id, end in ends.items():
        if (end - as_of).days <= RENEWAL_DAYS:
            digests[accounts[account_id]["owner_id"]].renewals.append(
                item(account_id, ends=end, days=(end - as_of).days)
            )
    for digest in digests.values():
        digest.sort()
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
