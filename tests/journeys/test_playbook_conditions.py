"""Playbooks of several conditions (AND), the e-mail action, new playbooks inactive, the dry run by ARR with
totals, owners and a sentence of why, a stage that lasts too long, and effectiveness over too few firings."""

import datetime as dt
import socket
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from health.models import AccountSnapshot
from journeys.models import Playbook, PlaybookCondition, PlaybookFiring, Task, Trigger
from journeys.selectors.occurrences import occurrence_sentence
from journeys.selectors.playbooks import playbook_candidates, playbook_dry_run, playbook_effectiveness
from journeys.services import playbooks_evaluate
from tests.factories import (
    AccountFactory,
    ContractFactory,
    PlaybookConditionFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    StageChangeFactory,
)
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 12, 7)
RENEWS = dt.date(2027, 3, 3)  # 86 days after AS_OF


def snap(account, band: str, health: int, on: dt.date = AS_OF) -> None:
    AccountSnapshot.objects.create(account=account, as_of=on, acv=Decimal(0), band=band, health=health)


def customer(owner=None, tcv: str = "12000.00", end: dt.date = RENEWS, **fields):
    account = AccountFactory(owner=owner, **fields)
    ContractFactory(account=account, start_date=end - dt.timedelta(days=364), end_date=end, recurring_tcv=Decimal(tcv))
    return account


def red_renewal(**fields) -> Playbook:
    """Renewal within 90 days AND health red."""
    playbook = PlaybookFactory(trigger=Trigger.RENEWAL_WITHIN, days=90, **fields)
    PlaybookConditionFactory(playbook=playbook, trigger=Trigger.HEALTH_RED)
    PlaybookStepFactory(playbook=playbook, title="Save {account}")
    return playbook


def test_all_conditions_must_hold(alice):
    playbook = red_renewal()
    both = customer(alice, name="Both")
    renewal_only = customer(alice, name="Renewal only")
    red_only = customer(alice, name="Red only", end=dt.date(2027, 9, 30))
    snap(both, "red", 31), snap(renewal_only, "green", 98), snap(red_only, "red", 20)

    occurrences = playbook_candidates(playbook=playbook, as_of=AS_OF)
    assert [(o.account_id, o.key) for o in occurrences] == [(both.pk, "red:2026-12-07|renewal:2027-03-03")]
    assert occurrences[0].detail == {
        "health_red": {"health": 31, "red_since": "2026-12-07"},
        "renewal_within": {"renews_on": "2027-03-03", "days": 86},
    }
    assert playbooks_evaluate(as_of=AS_OF)["playbook_tasks"] == 1
    assert list(Task.objects.values_list("account__name", "title")) == [("Both", "Save Both")]
    # Once per occurrence: the next night, the same red episode and renewal fire nothing.
    snap(both, "red", 30, AS_OF + dt.timedelta(days=1))
    assert playbooks_evaluate(as_of=AS_OF + dt.timedelta(days=1))["playbook_firings"] == 0


def test_a_single_condition_keeps_its_own_key(alice):
    """Firings recorded before playbooks had several conditions keep deduplicating."""
    playbook = PlaybookFactory(trigger=Trigger.HEALTH_RED)
    account = customer(alice)
    snap(account, "red", 31)
    PlaybookFiring.objects.create(playbook=playbook, account=account, occurrence_key="red:2026-12-07", as_of=AS_OF)
    assert playbook_candidates(playbook=playbook, as_of=AS_OF) == []


def test_a_playbook_without_conditions_never_fires(alice):
    playbook = Playbook.objects.create(name="Empty", active=True, cooldown_days=0)
    snap(customer(alice), "red", 31)
    assert playbook_candidates(playbook=playbook, as_of=AS_OF) == []


def test_new_playbooks_start_inactive():
    assert Playbook.objects.create(name="Fresh").active is False
    assert Playbook._meta.get_field("active").default is False


def test_an_email_step_mails_the_owner_in_plain_text(alice, mallory, django_capture_on_commit_callbacks):
    playbook = red_renewal()
    PlaybookStepFactory(
        playbook=playbook,
        action="email",
        title="{account} renews red",
        description="Plan a save call this week.",
        assignee="manager",
    )
    account = customer(alice, name="Acme")
    snap(account, "red", 31)
    with django_capture_on_commit_callbacks(execute=True):
        counts = playbooks_evaluate(as_of=AS_OF)
    assert (counts["playbook_tasks"], counts["playbook_emails"]) == (1, 1)
    [message] = mail.outbox
    assert (message.to, message.subject) == ([mallory.email], "Acme renews red")
    assert (message.content_subtype, getattr(message, "alternatives", [])) == ("plain", [])
    assert "Plan a save call this week." in message.body
    assert "Why: Renews on 3 Mar 2027, in 86 days; health 31 (red)." in message.body
    assert f"/accounts/{account.pk}/" in message.body
    assert Task.objects.count() == 1  # the e-mail step is not a task
    with django_capture_on_commit_callbacks(execute=True):
        playbooks_evaluate(as_of=AS_OF)
    assert len(mail.outbox) == 1


def test_an_email_to_nobody_is_not_sent(django_capture_on_commit_callbacks):
    playbook = PlaybookFactory(trigger=Trigger.HEALTH_RED)
    PlaybookStepFactory(playbook=playbook, action="email", title="Red")
    snap(AccountFactory(owner=None, segment="tech_touch"), "red", 20)
    with django_capture_on_commit_callbacks(execute=True):
        assert playbooks_evaluate(as_of=AS_OF)["playbook_emails"] == 0
    assert mail.outbox == []


def test_the_dry_run_is_by_arr_with_totals_owners_and_a_sentence(alice, bob):
    playbook = red_renewal()
    small = customer(alice, tcv="10000.00", name="Small")
    large = customer(bob, tcv="90000.00", name="Large")
    na = customer(alice, name="No rate")
    ContractFactory(account=na, currency="XYZ", start_date=RENEWS - dt.timedelta(days=364), end_date=RENEWS)
    for account, health in ((small, 31), (large, 12), (na, 25)):
        snap(account, "red", health)

    run = playbook_dry_run(playbook=playbook, as_of=AS_OF)
    assert [row.account_name for row in run.rows] == ["Large", "Small", "No rate"]
    assert [row.acv for row in run.rows] == [Decimal("90000.00"), Decimal("10000.00"), None]
    assert (run.total_acv, run.acv_na) == (Decimal("100000.00"), 1)
    assert run.rows[0].owner == bob.get_full_name()
    assert run.rows[1].why == "Renews on 3 Mar 2027, in 86 days; health 31 (red)"
    assert not PlaybookFiring.objects.exists()


def test_the_dry_run_page_speaks_plainly(client, mallory, alice):
    playbook = red_renewal()
    snap(customer(alice, name="Acme", tcv="24000.00"), "red", 31)
    client.force_login(mallory)
    page = client.get(reverse("journeys:playbook_dry_run", args=[playbook.pk]), {"as_of": "2026-12-07"})
    html = page.content.decode()
    assert "Renews on 3 Mar 2027, in 86 days; health 31 (red)" in html
    assert "renews_on" not in html and "red:2026" not in html
    assert "24,000" in html and alice.get_full_name() in html


@pytest.mark.parametrize(
    ("detail", "sentence"),
    [
        ({"health_drop": {"health": 41, "health_30_days_before": 72}}, "Health fell from 72 to 41 in 30 days"),
        ({"usage_trend_below": {"usage_trend": 0.62}}, "Usage down 38% on the previous 30 days"),
        ({"license_utilization_below": {"license_utilization": 0.25}}, "25% of the licensed seats in use"),
        ({"detractor": {"score": 3, "responded_on": "2026-12-01"}}, "NPS answer of 3 on 1 Dec 2026"),
        ({"no_executive_sponsor": {"last_engaged": None}}, "No executive sponsor ever engaged"),
        ({"no_touch": {"last_touch": "2026-10-01", "days": 67}}, "No CSM touch for 67 days (last on 1 Oct 2026)"),
        ({"health_red": {"health": 20, "red_since": "2026-11-30"}}, "Health 20 (red since 30 Nov 2026)"),
        (
            {"stage_longer_than": {"stage": "Onboarding", "entered_on": "2026-10-01", "days": 67}},
            "In Onboarding for 67 days, since 1 Oct 2026",
        ),
    ],
)
def test_every_trigger_has_a_plain_phrase(detail, sentence):
    assert occurrence_sentence(detail=detail, as_of=AS_OF) == sentence


def test_onboarding_longer_than_45_days(stages):
    onboarding = stages["Purchase (onboarding)"]
    playbook = PlaybookFactory(trigger=Trigger.STAGE_LONGER_THAN, days=45, trigger_stage=onboarding)
    slow, quick, recent = AccountFactory(), AccountFactory(), AccountFactory()
    StageChangeFactory(account=slow, to_stage=onboarding, changed_at=at(AS_OF - dt.timedelta(days=50)))
    StageChangeFactory(account=quick, to_stage=onboarding, changed_at=at(AS_OF - dt.timedelta(days=50)))
    StageChangeFactory(account=quick, to_stage=stages["Adoption"], changed_at=at(AS_OF - dt.timedelta(days=20)))
    StageChangeFactory(account=recent, to_stage=onboarding, changed_at=at(AS_OF - dt.timedelta(days=45)))
    keys = {o.account_id: o.key for o in playbook_candidates(playbook=playbook, as_of=AS_OF)}
    assert keys == {slow.pk: f"in_stage:{onboarding.pk}:2026-10-18"}


def test_effectiveness_under_five_firings_is_too_few_to_compare(client, mallory):
    playbook = PlaybookFactory(name="Rescue")
    start = AS_OF - dt.timedelta(days=40)
    accounts = [AccountFactory(segment="mid_touch") for _ in range(6)]
    for account in accounts:
        snap(account, "red", 30, start), snap(account, "red", 40, start + dt.timedelta(days=30))
    for account in accounts[:4]:
        PlaybookFiring.objects.create(playbook=playbook, account=account, occurrence_key="red:x", as_of=start)
    stats = playbook_effectiveness(playbook_ids=[playbook.pk], as_of=AS_OF)[playbook.pk]
    assert (stats.outcomes, stats.too_few) == (4, True)
    client.force_login(mallory)
    assert "too few to compare" in client.get(reverse("journeys:playbooks")).content.decode()
    PlaybookFiring.objects.create(playbook=playbook, account=accounts[4], occurrence_key="red:x", as_of=start)
    assert playbook_effectiveness(playbook_ids=[playbook.pk], as_of=AS_OF)[playbook.pk].too_few is False


def test_the_playbooks_page_lists_the_conditions(client, alice):
    playbook = red_renewal(name="Red renewal")
    client.force_login(alice)
    html = client.get(reverse("journeys:playbooks")).content.decode()
    assert "Renewal within N days (90 days) and Health turned red" in html
    assert PlaybookCondition.objects.filter(playbook=playbook).count() == 2


def test_a_mail_server_that_fails_is_logged_and_the_firing_stays(
    alice, mallory, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    playbook = red_renewal()
    PlaybookStepFactory(playbook=playbook, action="email", title="{account} renews red", assignee="manager")
    snap(customer(alice, name="Acme"), "red", 31)

    with django_capture_on_commit_callbacks(execute=True):
        counts = playbooks_evaluate(as_of=AS_OF)

    assert counts["playbook_emails"] == 1
    assert PlaybookFiring.objects.filter(playbook=playbook).count() == 1
    assert "send_playbook_emails" in caplog.text


def closed_port() -> int:
    """A local port nothing listens on (a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
