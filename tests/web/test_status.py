"""System status (admins): runs with status, duration, counts and errors; the intra-day refresh; ingestion per day;
quarantine."""

import datetime as dt

import pytest

from accounts.models import ChangedAccount, QuarantinedEvent, UsageDay
from accounts.services import accounts_mark_changed
from health.models import RecomputeRun
from health.pipeline import current_figures_refresh
from tests.factories import AccountFactory, ContractFactory, SourceFactory
from tests.web.conftest import AS_OF, NOW, TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_runs_ingestion_and_quarantine(client, ada):
    RecomputeRun.objects.create(
        as_of=AS_OF,
        status="succeeded",
        started_at=NOW - dt.timedelta(hours=6),
        finished_at=NOW - dt.timedelta(hours=5),
        counts={"accounts": 1200, "chunks": 3},
        timings={"total": 3600.0},
    )
    RecomputeRun.objects.create(
        as_of=AS_OF - dt.timedelta(days=1),
        status="failed",
        attempt=2,
        started_at=NOW - dt.timedelta(days=1),
        errors=["chunk 2 failed: MissingExchangeRate: No exchange rate for EUR"],
    )
    account = AccountFactory()
    UsageDay.objects.create(account=account, day=TODAY - dt.timedelta(days=1), events=4321)
    source = SourceFactory()
    for n in range(3):
        QuarantinedEvent.objects.create(
            source=source,
            message_id=f"q{n}",
            kind="track",
            group_id="ACME-NEW",
            event="Report Viewed",
            occurred_at=NOW,
            received_at=NOW,
            reason="unknown account",
        )
    client.force_login(ada)
    response = client.get("/status/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Succeeded",
        "3,600.0 s",
        "accounts: 1,200",
        "Failed",
        "attempt 2",
        "MissingExchangeRate",
        "unknown account",
    ):
        assert text in page
    assert "3 events wait for their account to be known." in page
    status = response.context["status"]
    assert status.ingestion["events"].sum() == 4321
    assert response.context["ingestion_chart"]


def test_the_intra_day_refresh_shows_its_last_run_the_accounts_waiting_and_when_it_is_behind(client, ada):
    scored, waiting = AccountFactory(), AccountFactory()
    ContractFactory(account=scored, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    accounts_mark_changed(account_ids=[scored.pk])
    current_figures_refresh()
    ChangedAccount.objects.create(account=waiting, changed_at=NOW - dt.timedelta(minutes=4))
    client.force_login(ada)

    response = client.get("/status/")
    refresh = response.context["status"].refresh
    assert (refresh.last_refresh, refresh.waiting, refresh.oldest_change) == (NOW, 1, NOW - dt.timedelta(minutes=4))
    page = response.content.decode()
    assert "Current figures last refreshed" in page
    assert "1 account waits to be re-scored (changed since" in page
    assert "Behind" not in page

    ChangedAccount.objects.filter(account=waiting).update(changed_at=NOW - dt.timedelta(minutes=6))
    assert "Behind: a change has waited more than 5 minutes." in client.get("/status/").content.decode()


def test_empty_status(client, ada):
    client.force_login(ada)
    page = client.get("/status/").content.decode()
    assert "No nightly run yet." in page
    assert "No current figures refreshed yet." in page
    assert "No account waits: every change is scored." in page
    assert "Nothing in quarantine" in page
