"""The journeys admin screens answer for an admin; records written by services are read-only there; a playbook's
trigger parameters are checked with clear messages."""

import pytest
from django.urls import reverse

from journeys.admin import PlaybookForm
from journeys.models import JourneySettings
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


def test_playbook_form_checks_the_trigger_parameters(stages):
    def errors(**data):
        base = {"name": "P", "active": True, "cooldown_days": 30, "trigger": "health_red"}
        form = PlaybookForm(data=base | data)
        form.is_valid()
        return {field: " ".join(messages) for field, messages in form.errors.items()}

    assert errors() == {}
    assert "threshold" in errors(trigger="usage_trend_below")
    assert "days" in errors(trigger="renewal_within")
    assert "trigger_stage" in errors(trigger="stage_entered")
    assert errors(trigger="stage_entered", trigger_stage=stages["Adoption"].pk) == {}
    assert PlaybookFactory(trigger="no_touch", days=14).days == 14
