"""System status: the last nightly runs, the intra-day refresh (its last run and the accounts waiting for it), the
open data-quality problems, events ingested per day (from the daily rollup) and quarantined events."""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from accounts.models import ChangedAccount, QuarantinedEvent, UsageDay
from health.models import AccountCurrent, RecomputeRun

from .quality import OpenProblem, open_problems

RUNS = 20
INGESTION_DAYS = 30
QUARANTINE_SHOWN = 20
# The freshness goal: a change waiting longer than this means the refresh is not keeping up (or not running).
REFRESH_BEHIND_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class RefreshStatus:
    last_refresh: dt.datetime | None  # the latest current figures computed
    waiting: int  # accounts changed since their last refresh
    oldest_change: dt.datetime | None  # the first change of the account waiting longest

    @property
    def behind(self) -> bool:
        return self.oldest_change is not None and timezone.now() - self.oldest_change > REFRESH_BEHIND_AFTER


@dataclass(frozen=True)
class SystemStatus:
    runs: list[RecomputeRun]
    refresh: RefreshStatus
    ingestion: pd.DataFrame  # day, events
    quarantined: int
    quarantine_reasons: list[tuple[str, int]]
    quarantine_latest: list[QuarantinedEvent]
    problems: list[OpenProblem]  # of every account's latest snapshot


def system_status(*, today: dt.date) -> SystemStatus:
    start = today - dt.timedelta(days=INGESTION_DAYS - 1)
    per_day = dict(
        UsageDay.objects.filter(day__range=(start, today))
        .values("day")
        .annotate(n=Sum("events"))
        .values_list("day", "n")
    )
    days = [start + dt.timedelta(days=n) for n in range(INGESTION_DAYS)]
    reasons = list(
        QuarantinedEvent.objects.values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
        .values_list("reason", "n")
    )
    waiting = ChangedAccount.objects.aggregate(n=Count("pk"), oldest=Min("changed_at"))
    return SystemStatus(
        runs=list(RecomputeRun.objects.order_by("-started_at")[:RUNS]),
        refresh=RefreshStatus(
            last_refresh=AccountCurrent.objects.aggregate(last=Max("computed_at"))["last"],
            waiting=waiting["n"],
            oldest_change=waiting["oldest"],
        ),
        ingestion=pd.DataFrame({"day": days, "events": [per_day.get(day, 0) for day in days]}),
        quarantined=sum(n for _reason, n in reasons),
        quarantine_reasons=reasons,
        quarantine_latest=list(
            QuarantinedEvent.objects.select_related("source").order_by("-received_at")[:QUARANTINE_SHOWN]
        ),
        problems=open_problems(),
    )
