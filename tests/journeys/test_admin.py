"""The journeys admin screens answer for an admin; records written by services are read-only there; a playbook
condition's parameters are checked with clear messages; a playbook is saved with several conditions (AND)."""

import pytest
from django.urls import reverse

from journeys.admin import PlaybookConditionForm
from journeys.models import JourneySettings, Playbook
from tests.factories import (
    PlaybookFactory,
    PlaybookStepFactory,
    StageChangeFactory,
    SuccessPlanFactory,
    SurveyResponseFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

EDITABLE = ["stage", "playbook", "playbookstep", "task", "successplan", "poolmember"]
READ_ONLY = ["stagechange", "playbookfiring", "surveyresponse", "digestrun"]


def test_every_screen_answers(client, ada, stages):
    step = PlaybookStepFactory()
    objects = {
        "stage": stages["Adoption"],
        "playbook": step.playbook,
        "playbookstep": step,
        "task": TaskFactory(),
        "successplan": SuccessPlanFactory(),
        "stagechange": StageChangeFactory(to_stage=stages["Research"]),
        "surveyresponse": SurveyResponseFactory(),
        "journeysettings": JourneySettings.objects.get(pk=1),
    }
    client.force_login(ada)
    for model in [*EDITABLE, *READ_ONLY, "journeysettings"]:
        assert client.get(reverse(f"admin:journeys_{model}_changelist")).status_code == 200, model
    for model in EDITABLE:
        assert client.get(reverse(f"admin:journeys_{model}_add")).status_code == 200, model
    for model in [*READ_ONLY, "journeysettings"]:
        assert client.get(reverse(f"admin:journeys_{model}_add")).status_code == 403, model
    for model, obj in objects.items():
        assert client.get(reverse(f"admin:journeys_{model}_change", args=[obj.pk])).status_code == 200, model
    assert client.get(reverse("admin:journeys_journeysettings_delete", args=[1])).status_code == 403


def test_condition_form_checks_the_trigger_parameters(stages):
    def errors(**data):
        form = PlaybookConditionForm(data={"trigger": "health_red"} | data)
        form.is_valid()
        return {field: " ".join(messages) for field, messages in form.errors.items()}

    assert errors() == {}
    assert "threshold" in errors(trigger="usage_trend_below")
    assert "days" in errors(trigger="renewal_within")
    assert "stage" in errors(trigger="stage_entered")
    assert "stage" in errors(trigger="stage_longer_than", days=45)
    assert errors(trigger="stage_entered", stage=stages["Adoption"].pk) == {}
    assert PlaybookFactory(trigger="no_touch", days=14).conditions.get().days == 14


def test_an_admin_adds_a_playbook_of_two_conditions_inactive(client, ada, stages):
    management = {
        "conditions-TOTAL_FORMS": "2",
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "1",
        "conditions-MAX_NUM_FORMS": "1000",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "1",
        "steps-MAX_NUM_FORMS": "1000",
    }
    data = management | {
        "name": "Red renewal",
        "cooldown_days": "30",
        "conditions-0-trigger": "renewal_within",
        "conditions-0-days": "90",
        "conditions-1-trigger": "health_red",
        "steps-0-order": "1",
        "steps-0-action": "email",
        "steps-0-title": "{account} renews red",
        "steps-0-due_in_days": "3",
        "steps-0-assignee": "owner",
        "steps-0-priority": "2",
    }
    client.force_login(ada)
    response = client.post(reverse("admin:journeys_playbook_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook = Playbook.objects.get(name="Red renewal")
    assert playbook.active is False
    assert sorted(playbook.conditions.values_list("trigger", "days")) == [("health_red", None), ("renewal_within", 90)]
    assert playbook.steps.get().action == "email"
