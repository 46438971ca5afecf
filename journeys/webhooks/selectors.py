"""Reads for the nightly webhook events: band changes between snapshots, renewals entering their window, tasks
gone overdue. Each takes the evaluation date and is set-based (a few queries, whatever the number of accounts)."""

import datetime as dt

from django.db.models import OuterRef, Subquery

from accounts import selectors as account_selectors
from health.models import AccountSnapshot

from ..models import Task

NA = AccountSnapshot.Band.NA


def band_changes(*, as_of: dt.date) -> list[dict]:
    """Each account's snapshot on ``as_of`` with its previous snapshot's date, band and risk band (the latest
    before ``as_of``; None without one)."""
    previous = AccountSnapshot.objects.filter(account_id=OuterRef("account_id"), as_of__lt=as_of).order_by("-as_of")
    return list(
        AccountSnapshot.objects.filter(as_of=as_of)
        .annotate(
            previous_as_of=Subquery(previous.values("as_of")[:1]),
            previous_band=Subquery(previous.values("band")[:1]),
            previous_risk_band=Subquery(previous.values("risk_band")[:1]),
        )
        .values(
            "account_id",
            "health",
            "band",
            "churn_probability",
            "risk_band",
            "previous_as_of",
            "previous_band",
            "previous_risk_band",
        )
        .order_by("account_id")
    )


def renewals_entering_window(*, as_of: dt.date, window_days: int, lookback_days: int) -> dict[int, dt.date]:
    """Accounts whose next renewal (the earliest end of their live contracts) came within ``window_days`` of
    ``as_of`` in the last ``lookback_days`` nights: {account id: end date}."""
    latest_end = as_of + dt.timedelta(days=window_days)
    ids = (
        account_selectors.contracts_live_on(as_of=as_of)
        .filter(end_date__lte=latest_end)
        .values_list("account_id", flat=True)
        .distinct()
    )
    ends = account_selectors.next_contract_ends(as_of=as_of, account_ids=list(ids))
    return {
        account_id: end
        for account_id, end in sorted(ends.items())
        if window_days - lookback_days < (end - as_of).days <= window_days
    }


def tasks_gone_overdue(*, as_of: dt.date, lookback_days: int) -> list[dict]:
    """Open tasks not snoozed on ``as_of`` whose due date passed within the last ``lookback_days`` days."""
    return list(
        Task.objects.filter(
            status=Task.Status.OPEN, due_date__lt=as_of, due_date__gte=as_of - dt.timedelta(days=lookback_days)
        )
        .exclude(snoozed_until__gt=as_of)
        .values("id", "account_id", "title", "due_date", "priority", "owner__username", "owner__email", "pool_segment")
        .order_by("id")
    )
