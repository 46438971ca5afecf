"""The starter playbook library: loaded from data into a fresh workspace, inactive unless activated, idempotent
(an admin's edits survive a reload), and it fires like any playbook."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from health.models import AccountSnapshot
from journeys.models import JourneySettings, Playbook, PlaybookCondition, PlaybookStep, Task
from journeys.services import playbooks_evaluate, starter_playbooks_load
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

NAMES = [
    "Renewal in 120 days",
    "Renewal in 90 days",
    "Health turned red",
    "Usage down 30% month on month",
    "High-touch account without a touch in 30 days",
    "Detractor answer",
    "No engaged executive sponsor",
    "Onboarding not finished in 45 days",
]


def test_a_fresh_workspace_gets_the_library_inactive(stages):
    result = starter_playbooks_load()
    assert sorted(result.created) == sorted(NAMES) and result.skipped == {}
    assert not Playbook.objects.filter(active=True).exists()
    onboarding = PlaybookCondition.objects.get(playbook__name="Onboarding not finished in 45 days")
    assert (onboarding.trigger, onboarding.days, onboarding.stage) == (
        "stage_longer_than",
        45,
        stages["Purchase (onboarding)"],
    )
    usage = PlaybookCondition.objects.get(playbook__name="Usage down 30% month on month")
    assert (usage.trigger, usage.threshold) == ("usage_trend_below", 0.7)
    assert Playbook.objects.get(name="High-touch account without a touch in 30 days").segment == "high_touch"
    assert PlaybookStep.objects.filter(action="email").count() == 2


def test_loading_again_changes_nothing_and_keeps_an_admins_edits(stages):
    starter_playbooks_load()
    Playbook.objects.filter(name="Health turned red").update(cooldown_days=7, description="Ours")
    counts = (Playbook.objects.count(), PlaybookCondition.objects.count(), PlaybookStep.objects.count())
    again = starter_playbooks_load()
    assert (again.created, sorted(again.existing)) == ([], sorted(NAMES))
    assert (Playbook.objects.count(), PlaybookCondition.objects.count(), PlaybookStep.objects.count()) == counts
    assert Playbook.objects.get(name="Health turned red").cooldown_days == 7
    activated = starter_playbooks_load(activate=True)
    assert sorted(activated.activated) == sorted(NAMES)
    assert Playbook.objects.filter(active=True).count() == len(NAMES)


def test_without_an_adoption_stage_the_onboarding_playbook_is_skipped(stages):
    JourneySettings.objects.filter(pk=1).update(adoption_stage=None)
    result = starter_playbooks_load(activate=True)
    assert list(result.skipped) == ["Onboarding not finished in 45 days"]
    assert len(result.created) == len(NAMES) - 1


def test_the_command_loads_and_activates(stages, alice):
    out = io.StringIO()
    call_command("load_starter_playbooks", stdout=out)
    assert "8 created, 0 already there, 0 skipped" in out.getvalue()
    call_command("load_starter_playbooks", "--activate", stdout=out)
    assert "0 created, 8 already there" in out.getvalue()
    account = AccountFactory(owner=alice, name="Acme")
    day = dt.date(2026, 12, 7)
    AccountSnapshot.objects.create(account=account, as_of=day, acv=Decimal(0), band="red", health=25)
    playbooks_evaluate(as_of=day)
    assert list(Task.objects.values_list("title", flat=True)) == ["Call Acme: their health turned red"]
