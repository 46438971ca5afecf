"""A "Survey Responded" call for an account not known yet waits in the quarantine and becomes an answer when the
account appears (it must never be released as a plain usage event only)."""

import pytest

from accounts.ingestion.services import write_key_create
from accounts.models import QuarantinedEvent, UsageEvent
from journeys.models import SurveyResponse

pytestmark = pytest.mark.django_db


def test_a_quarantined_survey_answer_is_recorded_when_its_account_is_grouped(client):
    _, key = write_key_create(source_name="App")
    answer = {
        "type": "track",
        "messageId": "s-1",
        "userId": "u-1",
        "event": "Survey Responded",
        "timestamp": "2024-06-01T10:00:00Z",
        "properties": {"type": "nps", "score": 4, "comment": "Slow exports"},
        "context": {"groupId": "LATER"},
    }
    first = client.post("/v1/batch", data={"batch": [answer], "writeKey": key}, content_type="application/json")
    assert first.status_code == 200
    assert QuarantinedEvent.objects.count() == 1
    assert not SurveyResponse.objects.exists()

    group = {"type": "group", "messageId": "g-1", "userId": "u-1", "groupId": "LATER", "traits": {"name": "Later"}}
    second = client.post("/v1/batch", data={"batch": [group], "writeKey": key}, content_type="application/json")

    assert second.status_code == 200
    assert not QuarantinedEvent.objects.exists()
    recorded = SurveyResponse.objects.get()
    assert (recorded.kind, recorded.score, recorded.comment, recorded.account.external_id) == (
        "nps",
        4,
        "Slow exports",
        "LATER",
    )
    assert UsageEvent.objects.filter(event="Survey Responded").count() == 1
