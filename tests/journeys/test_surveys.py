"""NPS, CSAT and customer effort against hand computations; answers from the API, a CSV and a Segment track call."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.ingestion.services import write_key_create
from accounts.models import Activity
from health.measures import REGISTRY, measure_inputs
from journeys.errors import JourneyError
from journeys.models import JourneySettings, SurveyResponse, Task, Trigger
from journeys.selectors.surveys import (
    detractor_answers,
    nps_by_account,
    nps_from_scores,
    survey_score,
    survey_summary,
    survey_trend,
)
from journeys.services import survey_response_create, survey_response_from_track, survey_responses_import_csv
from tests.factories import (
    AccountFactory,
    ContactFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    SurveyResponseFactory,
)
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)


def answer(account, contact, day, score, kind="nps", hour=12, comment=""):
    return SurveyResponseFactory(
        account=account,
        contact=contact,
        respondent=f"contact:{contact.pk}",
        kind=kind,
        score=score,
        responded_at=at(day, hour),
        comment=comment,
    )


@pytest.fixture
def surveyed():
    """Account A: latest answers per contact in the 180-day window are 10, 9, 6, 8 → NPS (2 − 1) / 4 = +25."""
    a, b = AccountFactory(), AccountFactory()
    c1, c2, c3, c4, c5, c6 = (ContactFactory(account=a) for _ in range(6))
    answer(a, c1, dt.date(2024, 3, 1), 3)  # superseded by c1's later 10
    answer(a, c1, dt.date(2024, 6, 1), 10, comment="Great")
    answer(a, c2, dt.date(2024, 5, 1), 9)
    answer(a, c3, dt.date(2024, 6, 15), 6, comment="Too slow")
    answer(a, c4, dt.date(2024, 6, 20), 8)
    answer(a, c5, dt.date(2024, 1, 2), 0, hour=23)  # the window (as_of − 180, as_of] starts on 2024-01-03
    answer(a, c6, dt.date(2024, 7, 1), 0, hour=0)  # after as_of
    return a, b


def test_nps_uses_the_latest_answer_per_contact_in_the_window(surveyed):
    a, b = surveyed
    score = survey_score(kind="nps", as_of=AS_OF, account_ids=[a.pk])
    assert (score.value, score.n, score.window_days) == (25.0, 4, 180)
    assert (score.promoters, score.passives, score.detractors) == (2, 1, 1)
    # The mean 0-10 score (8.25) is never NPS.
    assert score.value != pytest.approx(8.25)


def test_the_latest_answer_is_the_latest_given_not_the_latest_entered():
    """An answer imported late (a higher id) but given earlier never replaces the respondent's later answer: the
    page's score, the health measure's and the month trend all read the answer given last."""
    account, contact = AccountFactory(), ContactFactory()
    answer(account, contact, dt.date(2024, 6, 10), 10)  # given last, entered first (lower id)
    answer(account, contact, dt.date(2024, 4, 1), 2)  # given earlier, imported later (higher id)
    assert survey_score(kind="nps", as_of=AS_OF, account_ids=[account.pk]).value == 100.0
    assert nps_by_account(as_of=AS_OF, account_ids=[account.pk]).loc[account.pk, "x"] == 100.0
    answer(account, contact, dt.date(2024, 6, 20), 9)
    answer(account, contact, dt.date(2024, 6, 5), 0)  # June: the 20th's 9 is the latest, not the 5th's 0
    june = survey_trend(as_of=AS_OF, months=1, account_ids=[account.pk])[0]
    assert (june.nps.value, june.nps.n) == (100.0, 1)


def test_window_boundary_is_inclusive_of_its_first_day(surveyed):
    a, _ = surveyed
    answer(a, ContactFactory(account=a), dt.date(2024, 1, 3), 0, hour=0)  # exactly the window's first instant
    score = survey_score(kind="nps", as_of=AS_OF, account_ids=[a.pk])
    assert (score.value, score.n) == (pytest.approx(100 * (2 - 2) / 5), 5)


def test_no_answers_is_na_not_zero(surveyed):
    _, b = surveyed
    score = survey_score(kind="nps", as_of=AS_OF, account_ids=[b.pk])
    assert (score.value, score.n) == (None, 0)
    assert nps_from_scores([]) == (None, 0, 0, 0)
    assert survey_score(kind="csat", as_of=AS_OF, account_ids=[b.pk]).value is None
    assert survey_score(kind="ces", as_of=AS_OF, account_ids=[b.pk]).value is None


def test_nps_by_account_and_the_window_setting(surveyed):
    a, b = surveyed
    frame = nps_by_account(as_of=AS_OF, account_ids=[a.pk, b.pk])
    assert frame.loc[a.pk, "x"] == 25.0 and frame.loc[a.pk, "n"] == 4
    assert pd_isna(frame.loc[b.pk, "x"]) and frame.loc[b.pk, "n"] == 0
    # A 30-day window keeps c3 (6) and c4 (8) and c1's 10 of June 1st: (1 − 1) / 3 = 0.
    JourneySettings.objects.update_or_create(pk=1, defaults={"nps_window_days": 30})
    assert survey_score(kind="nps", as_of=AS_OF, account_ids=[a.pk]).value == 0.0


def pd_isna(value) -> bool:
    return value != value


def test_csat_is_the_share_of_4_and_5_and_effort_the_mean():
    account = AccountFactory()
    contact = ContactFactory(account=account)
    for score in (5, 4, 3, 1, 4):  # every CSAT answer counts, even the same contact's: 3 of 5
        answer(account, contact, dt.date(2024, 6, 10), score, kind="csat")
    for score in (2, 3, 7):
        answer(account, contact, dt.date(2024, 6, 11), score, kind="ces")
    summary = survey_summary(as_of=AS_OF, account_ids=[account.pk])
    assert (summary["csat"].value, summary["csat"].n) == (pytest.approx(0.6), 5)
    assert (summary["ces"].value, summary["ces"].n) == (pytest.approx(4.0), 3)
    assert summary["nps"].value is None


def test_trend_by_month_and_detractor_comments(surveyed):
    a, _ = surveyed
    trend = {m.month: m for m in survey_trend(as_of=AS_OF, months=6, account_ids=[a.pk])}
    assert list(trend) == [dt.date(2024, m, 1) for m in range(1, 7)]
    assert (trend[dt.date(2024, 6, 1)].nps.value, trend[dt.date(2024, 6, 1)].nps.n) == (pytest.approx(0.0), 3)
    assert (trend[dt.date(2024, 3, 1)].nps.value, trend[dt.date(2024, 3, 1)].nps.n) == (-100.0, 1)
    assert trend[dt.date(2024, 2, 1)].nps.value is None
    assert [d.comment for d in detractor_answers(as_of=AS_OF, account_ids=[a.pk])] == ["Too slow"]


def test_the_nps_measure_and_churn_feature_are_registered(surveyed):
    a, b = surveyed
    frame = measure_inputs(keys=["nps"], as_of=AS_OF, account_ids=[a.pk, b.pk])["nps"]
    assert frame.loc[a.pk, "x"] == 25.0 and pd_isna(frame.loc[b.pk, "x"])
    assert (REGISTRY["nps"].bad, REGISTRY["nps"].good, REGISTRY["nps"].weight) == (-20, 50, 15)


# Writes ------------------------------------------------------------------------------------------------------------


def test_create_validates_the_scale_of_each_kind():
    account = AccountFactory()
    with pytest.raises(JourneyError, match="NPS score is 0 to 10; 11 is out of range"):
        survey_response_create(account_id=account.pk, kind="nps", score=11, responded_at=at(AS_OF), source="api")
    with pytest.raises(JourneyError, match="CSAT score is 1 to 5"):
        survey_response_create(account_id=account.pk, kind="csat", score=0, responded_at=at(AS_OF), source="api")
    with pytest.raises(JourneyError, match="kind must be"):
        survey_response_create(account_id=account.pk, kind="stars", score=3, responded_at=at(AS_OF), source="api")
    with pytest.raises(JourneyError, match="whole number"):
        survey_response_create(account_id=account.pk, kind="ces", score="4.5", responded_at=at(AS_OF), source="api")
    response = survey_response_create(account_id=account.pk, kind="ces", score=7, responded_at=at(AS_OF), source="api")
    assert response.respondent.startswith("answer:")


def test_the_database_refuses_out_of_range_scores():
    from django.db import IntegrityError, transaction

    account = AccountFactory()
    for kind, score in (("nps", -1), ("csat", 6), ("ces", 8)):
        with pytest.raises(IntegrityError), transaction.atomic():
            SurveyResponseFactory(account=account, kind=kind, score=score)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def test_csv_import_is_all_or_nothing_with_errors_by_line():
    account = AccountFactory(external_id="CRM-1")
    contact = ContactFactory(account=account, email="pat@example.com")
    bad = csv_file(
        "account,kind,score,responded_at,contact_email,comment,external_id\n"
        "CRM-1,nps,9,2024-06-01,pat@example.com,,r1\n"
        "CRM-404,nps,9,2024-06-01,,,r2\n"
        "CRM-1,csat,9,2024-06-01,,,r3\n"
        "CRM-1,nps,7,yesterday,,,r4\n"
        "CRM-1,nps,--5,2024-06-01,,,r5\n"
        "CRM-1,nps,²,2024-06-01,,,r6\n"
        "CRM-1,nps,7,2024-13-45 10:00,,,r7\n"
        f"CRM-1,nps,7,2024-06-01,{'x' * 250}@example.com,,r8\n"
    )
    result = survey_responses_import_csv(file=bad, created_by_id=None)
    assert [line for line, _ in result.errors] == [3, 4, 5, 6, 7, 8, 9]
    assert "CRM-404" in result.errors[0][1] and "1 to 5" in result.errors[1][1] and "ISO date" in result.errors[2][1]
    assert "whole number" in result.errors[3][1] and "whole number" in result.errors[4][1]
    assert "ISO date" in result.errors[5][1] and "e-mail address" in result.errors[6][1]
    assert not SurveyResponse.objects.exists()

    good = "account,kind,score,responded_at,contact_email,comment,external_id\n" + (
        "CRM-1,nps,9,2024-06-01,PAT@example.com,,r1\nCRM-1,ces,2,2024-06-02T10:00:00Z,other@example.com,Easy,r2\n"
    )
    result = survey_responses_import_csv(file=csv_file(good), created_by_id=None)
    assert (result.created, result.duplicates, result.errors) == (2, 0, [])
    nps = SurveyResponse.objects.get(external_id="r1")
    assert (nps.contact_id, nps.respondent, nps.source) == (contact.pk, f"contact:{contact.pk}", "csv")
    assert SurveyResponse.objects.get(external_id="r2").respondent == "email:other@example.com"
    again = survey_responses_import_csv(file=csv_file(good), created_by_id=None)
    assert (again.created, again.duplicates) == (0, 2)


def test_csv_header_and_encoding_errors():
    assert (
        "Missing columns: score"
        in survey_responses_import_csv(
            file=csv_file("account,kind,responded_at\nX,nps,2024-01-01\n"), created_by_id=None
        ).errors[0][1]
    )
    assert "UTF-8" in survey_responses_import_csv(file=io.BytesIO(b"\xff\xfe\x00"), created_by_id=None).errors[0][1]


def test_segment_track_call_is_stored_once_per_message_id():
    account = AccountFactory()
    contact = ContactFactory(account=account, user_id="user-7")
    properties = {"type": "nps", "score": 4, "comment": "Meh"}
    first = survey_response_from_track(
        account_id=account.pk, user_id="user-7", properties=properties, occurred_at=at(AS_OF), message_id="m-1"
    )
    again = survey_response_from_track(
        account_id=account.pk, user_id="user-7", properties=properties, occurred_at=at(AS_OF), message_id="m-1"
    )
    assert first.pk == again.pk and first.contact_id == contact.pk and first.source == "segment"
    assert SurveyResponse.objects.count() == 1
    with pytest.raises(JourneyError, match="score must be a whole number"):
        survey_response_from_track(
            account_id=account.pk, user_id="", properties={"type": "nps"}, occurred_at=at(AS_OF), message_id="m-2"
        )


def test_a_detractor_answer_fires_the_detractor_playbook_at_once(alice):
    account = AccountFactory(owner=alice)
    playbook = PlaybookFactory(trigger=Trigger.DETRACTOR)
    PlaybookStepFactory(playbook=playbook, title="Call {account} about their NPS")
    now = timezone.now() - dt.timedelta(minutes=1)
    survey_response_create(account_id=account.pk, kind="nps", score=3, responded_at=now, source="api")
    task = Task.objects.get()
    assert (task.owner, task.title, task.playbook) == (alice, f"Call {account.name} about their NPS", playbook)
    survey_response_create(account_id=account.pk, kind="nps", score=9, responded_at=now, source="api")
    assert Task.objects.count() == 1


# The REST API and the pages ---------------------------------------------------------------------------------------


def test_api_create_list_and_roles(alice, edna):
    account = AccountFactory(owner=alice)
    client = APIClient()
    client.force_authenticate(alice)
    url = "/api/survey-responses/"
    payload = {"account": account.pk, "kind": "nps", "score": 10, "responded_at": "2024-06-01T10:00:00Z"}
    created = client.post(url, payload | {"external_id": "x-1"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["respondent"] == "answer:api:x-1"
    assert client.post(url, payload | {"external_id": "x-1"}, format="json").json()["id"] == created.json()["id"]
    refused = client.post(url, payload | {"score": 11}, format="json")
    assert refused.status_code == 400 and "out of range" in refused.json()["non_field_errors"][0]
    listed = client.get(url, {"kind": "nps"})
    assert listed.status_code == 200 and listed.json()["count"] == 1

    client.force_authenticate(edna)
    assert client.get(url).status_code == 200
    assert client.post(url, payload, format="json").status_code == 403


def test_survey_page_and_upload(client, alice, edna):
    AccountFactory(external_id="CRM-9", owner=alice)  # an answer is written on an account one may change
    client.force_login(alice)
    upload = reverse("journeys:survey_upload")
    body = b"account,kind,score,responded_at,comment\nCRM-9,nps,2,2024-06-01,Broken exports\nCRM-9,csat,4,2024-06-02,\n"
    response = client.post(upload, {"file": io.BytesIO(body)}, follow=True)
    assert response.status_code == 200 and "Imported 2 answers" in response.content.decode()
    page = client.get(reverse("journeys:surveys"), {"as_of": "2024-06-30"}).content.decode()
    assert "Broken exports" in page and "n = 1 (latest answer per contact, last 180 days)" in page
    bad = client.post(upload, {"file": io.BytesIO(b"account,kind,score,responded_at\nCRM-9,nps,12,2024-06-01\n")})
    assert "Line 2: A NPS score is 0 to 10; 12 is out of range." in bad.content.decode()
    client.force_login(edna)
    assert client.post(upload, {"file": io.BytesIO(body)}).status_code == 403
    assert not Activity.objects.exists()


def test_a_segment_survey_responded_call_records_the_answer_and_a_bad_one_warns(client):
    _, key = write_key_create(source_name="App")
    account = AccountFactory(external_id="ACME")
    ContactFactory(account=account, user_id="u-1")
    good = {
        "type": "track",
        "messageId": "s-1",
        "userId": "u-1",
        "event": "Survey Responded",
        "properties": {"type": "nps", "score": 3, "comment": "Too slow"},
        "context": {"groupId": "ACME"},
    }
    bad = {**good, "messageId": "s-2", "properties": {"type": "nps", "score": 11}}
    impossible = {**good, "messageId": "s-3", "properties": {"type": "nps", "score": "--5"}}

    response = client.post(
        "/v1/batch", data={"batch": [good, bad, impossible], "writeKey": key}, content_type="application/json"
    )

    assert response.status_code == 200
    answer = SurveyResponse.objects.get()
    assert (answer.kind, answer.score, answer.comment, answer.account_id) == ("nps", 3, "Too slow", account.pk)
    warnings = response.json()["warnings"]
    assert [w["messageId"] for w in warnings] == ["s-2", "s-3"]
    assert "survey answer not recorded" in warnings[0]["warning"]
