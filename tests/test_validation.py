"""One validation of untrusted values: a date-time outside what UTC and PostgreSQL store, a NUL character, a text
over its column are refused with a clear message at every way in (tracking API, REST API and its filters, CSV
uploads), never stored to break a later read."""

import base64
import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.ingestion.services import write_key_create
from accounts.models import UsageEvent
from csm_platform.validation import has_nul, moment_checked, text_checked
from csm_platform.web.exports import neutralise
from journeys.models import SurveyResponse
from tests.factories import AccountFactory, SourceFactory, SurveyResponseFactory, UsageEventFactory

YEAR_ONE_AT_PLUS_14 = "0001-01-01T00:00:00+14:00"  # UTC: 31 December of the year 1 BC
YEAR_9999_AT_MINUS_5 = "9999-12-31T23:00:00-05:00"  # UTC: the year 10000
PLUS_21 = "2024-06-01T00:00:00+21:00"  # Python's offsets reach ±23:59, PostgreSQL's ±15:59

HEADER = "account,kind,score,responded_at,external_id\n"


# The module -----------------------------------------------------------------------------------------------------


def test_a_moment_is_kept_in_utc():
    assert moment_checked(dt.datetime.fromisoformat(PLUS_21)) == dt.datetime(2024, 5, 31, 3, tzinfo=dt.UTC)
    assert moment_checked(dt.datetime(1, 1, 1)) == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert moment_checked(dt.datetime(2024, 6, 1, 12)).tzinfo is dt.UTC


@pytest.mark.parametrize("value", [YEAR_ONE_AT_PLUS_14, YEAR_9999_AT_MINUS_5])
def test_a_moment_outside_the_years_1_to_9999_in_utc_is_refused(value):
    with pytest.raises(ValidationError, match="outside the years 1 to 9999 once converted to UTC"):
        moment_checked(dt.datetime.fromisoformat(value))


def test_text_has_no_nul_and_fits_its_column():
    assert text_checked("Acme", max_length=4) == "Acme"
    with pytest.raises(ValidationError, match="NUL"):
        text_checked("Ac\x00me")
    with pytest.raises(ValidationError, match="at most 3 characters"):
        text_checked("Acme", max_length=3)
    assert has_nul({"a": [1, {"b\x00": 2}]}) and has_nul(["\x00"]) and not has_nul({"a": ["b", 1, None]})


# CSV uploads ----------------------------------------------------------------------------------------------------


@pytest.fixture
def crm_1(db):
    return AccountFactory(external_id="CRM-1")


def _upload(client, text: bytes):
    upload = io.BytesIO(text)
    upload.name = "answers.csv"
    return client.post(reverse("journeys:survey_upload"), {"file": upload})


def test_a_csv_date_before_the_year_1_in_utc_is_a_row_error_and_every_page_still_reads(client, ada, crm_1):
    client.force_login(ada)
    response = _upload(client, f"{HEADER}CRM-1,nps,9,2024-06-01,r1\nCRM-1,nps,9,{YEAR_ONE_AT_PLUS_14},r2\n".encode())
    assert response.status_code == 200
    assert "Line 3: responded_at 0001-01-01T00:00:00+14:00 is outside the years 1 to 9999" in response.content.decode()
    assert not SurveyResponse.objects.exists()

    api = APIClient()
    api.force_authenticate(ada)
    assert api.get("/api/survey-responses/").status_code == 200
    assert client.get(reverse("admin:journeys_surveyresponse_changelist")).status_code == 200


def test_a_csv_offset_postgresql_refuses_is_stored_in_utc(client, ada, crm_1):
    client.force_login(ada)
    response = _upload(client, f"{HEADER}CRM-1,nps,9,{PLUS_21},r1\n".encode())
    assert response.status_code == 302
    assert SurveyResponse.objects.get().responded_at == dt.datetime(2024, 5, 31, 3, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "row",
    [
        b"CRM-1\x00,nps,9,2024-06-01,r1",
        b"CRM-1,nps,9,2024-06-01,r\x001",
        b"CRM-1,nps\x00,9,2024-06-01,r1",
        b"CRM-1,nps,9,2024-06-01\x00,r1",
    ],
)
def test_a_nul_byte_in_a_csv_is_a_row_error(client, ada, crm_1, row):
    client.force_login(ada)
    response = _upload(client, HEADER.encode() + b"CRM-1,nps,9,2024-06-01,ok\n" + row + b"\n")
    assert response.status_code == 200
    assert not SurveyResponse.objects.exists()
    assert "Line 3" in response.content.decode()


# The REST API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api(ada):
    client = APIClient()
    client.force_authenticate(ada)
    return client


@pytest.mark.parametrize(
    ("url", "parameter"),
    [("/api/usage-events/", "occurred_after"), ("/api/survey-responses/", "responded_before")],
)
def test_api_datetime_filters_convert_to_utc_and_refuse_what_utc_cannot_hold(api, crm_1, url, parameter):
    UsageEventFactory(account=crm_1, occurred_at=dt.datetime(2024, 5, 31, 4, tzinfo=dt.UTC))
    SurveyResponseFactory(account=crm_1, responded_at=dt.datetime(2024, 5, 31, 2, tzinfo=dt.UTC))

    response = api.get(url, {parameter: PLUS_21})  # 2024-05-31T03:00Z
    assert response.status_code == 200
    assert response.json()["count"] == 1

    for value in (YEAR_ONE_AT_PLUS_14, YEAR_9999_AT_MINUS_5):
        response = api.get(url, {parameter: value})
        assert response.status_code == 400
        assert "outside the years 1 to 9999 once converted to UTC" in response.json()[parameter][0]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/accounts/", "q"),
        ("/api/usage-events/", "event"),
        ("/api/contacts/", "email"),
        ("/api/survey-responses/", "external_id"),
    ],
)
def test_api_text_filters_refuse_nul(api, url, parameter):
    assert api.get(url, {parameter: "a\x00b"}).status_code == 400


def test_api_survey_answer_refuses_a_date_before_the_year_1_in_utc(api, crm_1):
    body = {"account": crm_1.pk, "kind": "nps", "score": 9, "responded_at": YEAR_ONE_AT_PLUS_14}
    response = api.post("/api/survey-responses/", body, format="json")
    assert response.status_code == 400
    assert "responded_at" in response.json()
    response = api.post(
        "/api/survey-responses/", body | {"responded_at": "2024-06-01", "comment": "a\x00b"}, format="json"
    )
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_api_usage_event_refuses_nul_in_properties_and_dates_outside_utc(api, crm_1):
    source = SourceFactory()
    body = {
        "source": source.name,
        "account": crm_1.pk,
        "user_id": "u1",
        "event": "Report Viewed",
        "occurred_at": "2024-06-01T00:00:00Z",
        "message_id": "m1",
    }
    assert api.post("/api/usage-events/", body | {"properties": {"a\x00": 1}}, format="json").status_code == 400
    response = api.post("/api/usage-events/", body | {"occurred_at": YEAR_ONE_AT_PLUS_14}, format="json")
    assert response.status_code == 400
    assert not UsageEvent.objects.exists()


# The tracking API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["timestamp", "originalTimestamp", "sentAt"])
def test_tracking_call_times_outside_the_years_1_to_9999_in_utc_are_call_errors(client, crm_1, name):
    key = write_key_create(source_name="Web app")[1]
    call = {"type": "track", "messageId": "m1", "userId": "u1", "event": "Viewed", "context": {"groupId": "CRM-1"}}
    call |= {"originalTimestamp": "2024-06-01T00:00:00Z"} if name == "sentAt" else {}
    response = client.post(
        "/v1/batch",
        data=json.dumps({"batch": [call | {name: YEAR_ONE_AT_PLUS_14}]}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode(),
    )
    assert response.status_code == 200
    assert response.json()["errors"] == [
        {
            "index": 0,
            "messageId": "m1",
            "error": f"{name}: {YEAR_ONE_AT_PLUS_14} is outside the years 1 to 9999 once converted to UTC.",
        }
    ]
    assert not UsageEvent.objects.exists()


# CSV exports ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "＝", "＋", "－", "＠"])
def test_a_csv_export_cell_starting_like_a_formula_is_neutralised_full_width_too(prefix):
    # A spreadsheet may read a full-width sign (U+FF1D, U+FF0B, U+FF0D, U+FF20) as the ASCII one.
    assert neutralise(f'{prefix}HYPERLINK("http://x.example")') == f'\'{prefix}HYPERLINK("http://x.example")'
