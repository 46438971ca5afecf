"""Survey answers are written only on accounts the writer may change: they feed health and fire detractor
playbooks there (REST API and CSV upload alike)."""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from journeys.models import SurveyResponse
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ANSWER = {"kind": "nps", "score": 2, "responded_at": "2024-06-01T10:00:00Z"}


def test_a_csm_answers_for_their_own_account_only_over_the_api(alice, bob):
    mine, theirs = AccountFactory(owner=alice), AccountFactory(owner=bob)
    client = APIClient()
    client.force_authenticate(alice)

    refused = client.post("/api/survey-responses/", {**ANSWER, "account": theirs.pk}, format="json")
    accepted = client.post("/api/survey-responses/", {**ANSWER, "account": mine.pk}, format="json")

    assert refused.status_code == 403
    assert accepted.status_code == 201, accepted.content
    assert list(SurveyResponse.objects.values_list("account_id", flat=True)) == [mine.pk]


def test_a_managers_csv_upload_refuses_rows_of_another_teams_accounts(client, mallory, alice, bob):
    AccountFactory(owner=alice, external_id="CRM-MINE")
    AccountFactory(owner=bob, external_id="CRM-THEIRS")
    body = b"account,kind,score,responded_at\nCRM-MINE,nps,9,2024-06-01\nCRM-THEIRS,nps,0,2024-06-01\n"
    client.force_login(mallory)

    page = client.post(reverse("journeys:survey_upload"), {"file": io.BytesIO(body)})

    assert page.status_code == 200
    assert "Line 3: You may not record answers for this account" in page.content.decode()
    assert not SurveyResponse.objects.exists()  # all or nothing

    good = b"account,kind,score,responded_at\nCRM-MINE,nps,9,2024-06-01\n"
    assert client.post(reverse("journeys:survey_upload"), {"file": io.BytesIO(good)}).status_code == 302
    assert SurveyResponse.objects.count() == 1
