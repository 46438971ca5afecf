"""The morning digest: per CSM, renewals within 30 days with risk and ARR, accounts that turned red, tasks due
today and overdue, each list by expected loss (ACV × churn risk), with links; sent once a day at the configured hour."""

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from health.models import AccountSnapshot
from journeys.models import DigestRun, JourneySettings
from journeys.services import digest_run_due, digest_send
from journeys.services.digest import digests_build
from journeys.tasks import morning_digest
from tests.factories import AccountFactory, ContractFactory, TaskFactory, UserFactory
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 6, 30)


def snap(account, day, band):
    AccountSnapshot.objects.create(account=account, as_of=day, acv=Decimal(0), band=band, health=30)


@pytest.fixture
def portfolio(alice, bob):
    turned = AccountFactory(owner=alice, name="Turned Red Inc")
    snap(turned, TODAY - dt.timedelta(days=2), "yellow")
    snap(turned, TODAY - dt.timedelta(days=1), "red")
    still = AccountFactory(owner=alice, name="Long Red Ltd")
    snap(still, TODAY - dt.timedelta(days=2), "red")
    snap(still, TODAY - dt.timedelta(days=1), "red")
    renewing = AccountFactory(owner=alice, name="Renewing Co")
    ContractFactory(account=renewing, start_date=dt.date(2023, 7, 21), end_date=dt.date(2024, 7, 20))
    later = AccountFactory(owner=alice, name="Later Co")
    ContractFactory(account=later, start_date=dt.date(2023, 9, 1), end_date=dt.date(2024, 8, 31))
    task = TaskFactory(account=renewing, owner=alice, title="Send the renewal quote", due_date=TODAY)
    TaskFactory(account=renewing, owner=alice, title="Snoozed one", due_date=TODAY, snoozed_until=dt.date(2024, 7, 3))
    AccountFactory(owner=bob)  # nothing to report: no e-mail for bob
    UserFactory(username="nomail", email="", roles=["CSM"])
    return turned, renewing, task


@override_settings(SITE_URL="https://csm.example.com")
def test_each_csm_gets_their_digest_with_links(portfolio, alice):
    turned, renewing, task = portfolio
    assert digest_send(as_of=TODAY) == 1
    [message] = mail.outbox
    assert message.to == [alice.email]
    body = message.body
    turned_line = (
        f"Turned Red Inc: health 30, ARR USD 0, expected loss N/A: https://csm.example.com/accounts/{turned.pk}/"
    )
    assert turned_line in body
    assert "Long Red Ltd" not in body
    assert f"Send the renewal quote (Renewing Co): https://csm.example.com/tasks/{task.pk}/" in body
    assert "Snoozed one" not in body
    assert "Renewing Co, 07/20/2024 (in 20 days)" in body and "Later Co" not in body
    html = message.alternatives[0][0]
    assert f'href="https://csm.example.com/tasks/{task.pk}/"' in html


def test_lists_are_ordered_by_expected_loss_with_risk_and_arr(alice):
    night = TODAY - dt.timedelta(days=1)
    for name, acv, risk in (("Small risky", "10000", 0.9), ("Big safe", "200000", 0.02), ("Big risky", "120000", 0.6)):
        account = AccountFactory(owner=alice, name=name)
        ContractFactory(account=account, start_date=dt.date(2023, 7, 16), end_date=dt.date(2024, 7, 15))
        AccountSnapshot.objects.create(
            account=account, as_of=night, acv=Decimal(acv), band="yellow", health=50, churn_probability=risk
        )
        TaskFactory(account=account, owner=alice, title=f"Late for {name}", due_date=TODAY - dt.timedelta(days=3))
    [digest] = digests_build(as_of=TODAY)
    assert [(item["name"], item["expected_loss"]) for item in digest.renewals] == [
        ("Big risky", Decimal("72000.00")),
        ("Small risky", Decimal("9000.00")),
        ("Big safe", Decimal("4000.00")),
    ]
    assert [item["title"] for item in digest.overdue] == [
        "Late for Big risky",
        "Late for Small risky",
        "Late for Big safe",
    ]
    digest_send(as_of=TODAY)
    body = mail.outbox[0].body
    assert "Big risky, 07/15/2024 (in 15 days): ARR USD 120,000, risk 60%, expected loss USD 72,000" in body
    assert "Late for Big risky (Big risky), 3 days overdue" in body
    assert body.index("Renewals within 30 days") < body.index("Overdue tasks")


def test_sent_once_a_day_at_the_hour(portfolio):
    JourneySettings.objects.update_or_create(pk=1, defaults={"digest_hour": 7})
    assert digest_run_due(now=at(TODAY, hour=6)) is None
    run = digest_run_due(now=at(TODAY, hour=7))
    assert (run.as_of, run.sent) == (TODAY, 1) and run.finished_at is not None
    assert digest_run_due(now=at(TODAY, hour=9)) is None
    assert len(mail.outbox) == 1 and DigestRun.objects.count() == 1


def test_the_celery_task_sends_todays_digest(portfolio):
    JourneySettings.objects.update_or_create(pk=1, defaults={"digest_hour": 7})
    with time_machine.travel(at(TODAY, hour=8), tick=False):
        assert morning_digest.delay().get() == 1
        assert morning_digest.delay().get() == 0
    assert DigestRun.objects.get().as_of == TODAY


def test_the_management_command_sends_now(portfolio):
    out = io.StringIO()
    call_command("send_digest", "--as-of", "2024-06-30", stdout=out)
    assert out.getvalue().strip() == "1 e-mails sent" and len(mail.outbox) == 1
