"""Bounded work per request on the tracking API: whatever a small body inflates to, the answer is small and the
work stops early (a batch of more than MAX_BATCH_CALLS calls is refused before any call is read; errors and
warnings are listed up to LISTED_MAX and counted beyond); a chunked body is read within the same 500 KB."""

import base64
import gzip
import io
import json
import time

import pytest

from accounts.ingestion.services import LISTED_MAX, MAX_BATCH_CALLS, WARNING_PENDING, write_key_create
from accounts.ingestion.views import MAX_BODY_BYTES
from accounts.models import UsageEvent
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SMALL_ANSWER = 1024  # bytes: a refusal
LISTED_ANSWER = 16 * 1024  # bytes: an answer listing LISTED_MAX errors or warnings
SANITY_SECONDS = 2  # the real figure is far lower (a few ms); this only catches work per element coming back


@pytest.fixture
def write_key(db) -> str:
    return write_key_create(source_name="Web app")[1]


@pytest.fixture
def post(client, write_key):
    """POST ``body`` (bytes) to a tracking path with the write key; returns the answer and the seconds it took."""

    def post(path: str, body: bytes, **extra):
        auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        started = time.perf_counter()
        response = client.generic("POST", path, body, content_type="application/json", HTTP_AUTHORIZATION=auth, **extra)
        return response, time.perf_counter() - started

    return post


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def track(message_id: str, **fields) -> dict:
    return {"type": "track", "messageId": message_id, "userId": "u1", "event": "Viewed"} | fields


# A small body, a large batch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzip", "plain"])
def test_a_batch_of_250000_calls_is_refused_before_any_call_is_read(post, gzipped):
    # The first call alone is over 32 KB, which refuses the request as soon as that call is read: being answered
    # "too many calls" instead shows that no call was.
    oversized = track("big", properties={"text": "x" * 33_000})
    body = _json({"batch": [oversized] + [1] * 235_000})
    assert len(body) <= MAX_BODY_BYTES
    extra = {"HTTP_CONTENT_ENCODING": "gzip"} if gzipped else {}
    sent = gzip.compress(body) if gzipped else body
    if gzipped:
        assert len(sent) < 1024

    response, seconds = post("/v1/batch", sent, **extra)

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "code": "too_many_calls",
        "error": f"a batch may have at most {MAX_BATCH_CALLS:,} calls; this one has 235,001",
    }
    assert len(response.content) < SMALL_ANSWER
    assert seconds < SANITY_SECONDS


def test_the_reported_1_kb_gzip_body_of_250000_elements_is_refused_small(post):
    body = gzip.compress(_json({"batch": [1] * 250_000}))
    assert len(body) < 1024

    response, seconds = post("/v1/batch", body, HTTP_CONTENT_ENCODING="gzip")

    assert (response.status_code, response.json()["code"]) == (400, "too_many_calls")
    assert len(response.content) < SMALL_ANSWER
    assert seconds < SANITY_SECONDS


@pytest.mark.parametrize("kind", ["track", "identify", "group", "page", "screen"])
def test_a_small_body_inflating_to_one_large_call_is_refused_small(post, kind):
    body = gzip.compress(_json({"messageId": "m1", "userId": "u1", "properties": {"list": [1] * 240_000}}))
    assert len(body) < 1024

    response, seconds = post(f"/v1/{kind}", body, HTTP_CONTENT_ENCODING="gzip")

    assert (response.status_code, response.json()["code"]) == (400, "call_too_large")
    assert len(response.content) < SMALL_ANSWER
    assert seconds < SANITY_SECONDS


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track"])
def test_a_small_body_inflating_past_500_kb_is_refused_small(post, path):
    body = gzip.compress(b'{"batch":[' + b"1," * 400_000 + b"1]}")
    assert len(body) < 1024

    response, seconds = post(path, body, HTTP_CONTENT_ENCODING="gzip")

    assert (response.status_code, response.json()["code"]) == (400, "body_too_large")
    assert len(response.content) < SMALL_ANSWER
    assert seconds < SANITY_SECONDS


def test_a_batch_of_exactly_the_limit_is_read_and_one_more_call_is_refused(post):
    response, _seconds = post("/v1/batch", _json({"batch": [1] * MAX_BATCH_CALLS}))
    assert response.status_code == 200

    response, _seconds = post("/v1/batch", _json({"batch": [1] * (MAX_BATCH_CALLS + 1)}))
    assert (response.status_code, response.json()["code"]) == (400, "too_many_calls")
    assert f"{MAX_BATCH_CALLS:,} calls" in response.json()["error"]


# The answer: the first errors and warnings in full, the rest counted ---------------------------------------------


def test_errors_are_listed_up_to_the_limit_and_all_counted_by_reason(post):
    calls = [track("ok", context={"groupId": "ACME"})] + [1] * (MAX_BATCH_CALLS - 2) + [track("no-event", event=None)]
    AccountFactory(external_id="ACME")

    response, seconds = post("/v1/batch", _json({"batch": calls}))

    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert [error["index"] for error in answer["errors"]] == list(range(1, LISTED_MAX + 1))
    assert answer["errors"][0] == {"index": 1, "messageId": None, "error": "a call must be a JSON object"}
    assert answer["error_counts"] == {"a call must be a JSON object": MAX_BATCH_CALLS - 2, "event is required": 1}
    assert len(response.content) < LISTED_ANSWER
    assert seconds < SANITY_SECONDS
    assert UsageEvent.objects.get().message_id == "ok"


def test_a_listed_error_never_echoes_an_overlong_message_id(post):
    response, _seconds = post("/v1/batch", _json({"batch": [track("m" * 30_000)]}))

    assert response.json()["errors"] == [
        {"index": 0, "messageId": None, "error": "messageId must have at most 200 characters"}
    ]
    assert len(response.content) < SMALL_ANSWER


def test_warnings_are_listed_up_to_the_limit_and_the_rest_counted(post):
    identifies = [
        {"type": "identify", "messageId": f"m{i}", "userId": f"user-{i}", "traits": {}} for i in range(LISTED_MAX + 7)
    ]

    response, _seconds = post("/v1/batch", _json({"batch": identifies}))

    answer = response.json()
    assert [warning["messageId"] for warning in answer["warnings"]] == [f"m{i}" for i in range(LISTED_MAX)]
    assert {warning["warning"] for warning in answer["warnings"]} == {WARNING_PENDING}
    assert answer["warnings_omitted"] == 7


# Chunked bodies (Transfer-Encoding: chunked, no Content-Length) ------------------------------------------------


@pytest.fixture
def post_chunked(client, write_key):
    """POST ``body`` as gunicorn hands a chunked request to Django: no CONTENT_LENGTH, the decoded body as a stream
    that ends (``wsgi.input_terminated``); Django's own reading of a body without Content-Length is empty."""

    def post_chunked(path: str, body: bytes, *, terminated: bool = True):
        return client.generic(
            "POST",
            path,
            b"",
            CONTENT_TYPE="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
            HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": terminated},
        )

    return post_chunked


def test_a_chunked_body_is_read(post_chunked):
    AccountFactory(external_id="ACME")

    response = post_chunked("/v1/batch", _json({"batch": [track("m1", context={"groupId": "ACME"})]}))

    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert UsageEvent.objects.get().message_id == "m1"


def test_a_chunked_body_is_read_within_500_kb(post_chunked):
    body = _json({"batch": [track("m1", properties={"text": "x" * 20_000})] * 30})
    assert len(body) > MAX_BODY_BYTES

    response = post_chunked("/v1/batch", body)

    assert (response.status_code, response.json()["code"]) == (400, "body_too_large")


def test_a_chunked_body_the_server_does_not_end_is_refused(post_chunked):
    response = post_chunked("/v1/batch", _json({"batch": []}), terminated=False)

    assert (response.status_code, response.json()["code"]) == (411, "length_required")
