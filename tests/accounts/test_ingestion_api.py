"""The Segment-compatible tracking API over HTTP: paths, auth, limits, mapping, deduplication, time, quarantine."""

import base64
import datetime as dt
import gzip
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.ingestion.calls import PAGE_EVENT, SCREEN_EVENT
from accounts.ingestion.services import (
    REASON_UNGROUPED_USER,
    REASON_UNKNOWN_GROUP,
    write_key_create,
    write_key_revoke,
)
from accounts.models import Account, Contact, QuarantinedEvent, UsageDay, UsageEvent, UsageMessage, WriteKey
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def basic_auth(key: str) -> str:
    """The Authorization header the Segment clients send: the write key as user name, no password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def call(message_id: str, *, user: str = "u1", group: str | None = None, **fields) -> dict:
    """A track call; ``fields`` override its members, and a member given as None is left out."""
    message = {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": "Report Viewed",
        "timestamp": "2024-06-01T10:00:00Z",
        "properties": {},
    }
    if group:
        message["context"] = {"groupId": group}
    return {name: value for name, value in (message | fields).items() if value is not None}


@pytest.fixture
def write_key(db) -> str:
    return write_key_create(source_name="Web app")[1]


@pytest.fixture
def post(client, write_key):
    """POST a JSON body (or raw bytes) to a tracking path with the write key in HTTP Basic."""

    def post(path="/v1/batch", body=None, *, raw=None, key=write_key, **headers):
        data = raw if raw is not None else json.dumps(body)
        return client.post(
            path, data=data, content_type="application/json", HTTP_AUTHORIZATION=basic_auth(key), **headers
        )

    return post


def _batch(*calls, **extra):
    return {"batch": list(calls), "sentAt": "2024-06-01T12:00:00Z", **extra}


# Paths, methods, CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/batch", _batch()),
        ("/v1/track", {"messageId": "m1", "userId": "u1", "event": "Report Viewed"}),
        ("/v1/identify", {"messageId": "m1", "userId": "u1", "traits": {"email": "ann@acme.test"}}),
        ("/v1/group", {"messageId": "m1", "userId": "u1", "groupId": "ACME"}),
        ("/v1/page", {"messageId": "m1", "userId": "u1", "name": "Home"}),
        ("/v1/screen", {"messageId": "m1", "userId": "u1", "name": "Home"}),
    ],
)
def test_each_path_answers_200_without_csrf_token(write_key, path, body):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=basic_auth(write_key)
    )

    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    assert response.json()["errors"] == []


def test_paths_are_exact_a_trailing_slash_is_not_found_not_redirected(post):
    response = post("/v1/batch/", _batch())

    assert response.status_code == 404


def test_only_post_is_allowed(client, write_key):
    response = client.get("/v1/batch", HTTP_AUTHORIZATION=basic_auth(write_key))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["success"] is False


# Authentication ------------------------------------------------------------------------------------------------


def test_write_key_in_the_body_is_accepted(client, write_key):
    response = client.post("/v1/batch", data=json.dumps(_batch(writeKey=write_key)), content_type="application/json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": basic_auth("not-a-key")},
        {"HTTP_AUTHORIZATION": "Basic %%%not-base64"},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"\xff\xfe:").decode()},
        {"HTTP_AUTHORIZATION": "Bearer something"},
    ],
    ids=["none", "unknown", "not-base64", "not-utf8", "bearer"],
)
def test_missing_or_wrong_key_is_401(client, write_key, headers):
    response = client.post("/v1/batch", data=json.dumps(_batch()), content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json() == {"success": False, "code": "invalid_write_key", "error": response.json()["error"]}


def test_a_wrong_body_key_is_401(client, write_key):
    response = client.post(
        "/v1/batch", data=json.dumps(_batch(writeKey=write_key + "x")), content_type="application/json"
    )

    assert response.status_code == 401


def test_a_revoked_key_is_refused_at_once(post, write_key, django_capture_on_commit_callbacks):
    assert post(body=_batch()).status_code == 200  # the lookup is now cached

    with django_capture_on_commit_callbacks(execute=True):
        write_key_revoke(write_key_id=WriteKey.objects.get().pk)

    assert post(body=_batch()).status_code == 401


# Bodies and limits ---------------------------------------------------------------------------------------------


def test_gzip_body_is_accepted(post):
    raw = gzip.compress(json.dumps(_batch(call("m1", group="ACME"))).encode())
    AccountFactory(external_id="ACME")

    response = post(raw=raw, HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 200, response.content
    assert UsageEvent.objects.get().message_id == "m1"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not gzip at all", "invalid_gzip"),
        (gzip.compress(b'{"batch": []}')[:-6], "invalid_gzip"),
        (gzip.compress(b" " * (600 * 1024)), "body_too_large"),
    ],
    ids=["garbage", "truncated", "bomb"],
)
def test_bad_or_oversize_gzip_is_400(post, raw, code):
    response = post(raw=raw, HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_unknown_content_encoding_is_415(post):
    assert post(body=_batch(), HTTP_CONTENT_ENCODING="br").status_code == 415


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe\xfd", "invalid_json"),
        (b'{"batch": [NaN]}', "invalid_json"),
        (b'{"batch": [{"x": -Infinity}]}', "invalid_json"),
        (b"[" * 100_000, "invalid_json"),
        (b"[]", "invalid_body"),
        (b'"batch"', "invalid_body"),
        (b'{"batch": {}}', "invalid_batch"),
        (b'{"sentAt": "2024-06-01T12:00:00Z"}', "invalid_batch"),
        (b'{"batch": [], "sentAt": "yesterday"}', "invalid_sent_at"),
    ],
)
def test_malformed_bodies_are_400_with_a_reason(post, raw, code):
    response = post(raw=raw)

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["code"] == code


def test_a_body_over_500_kb_is_400_and_nothing_is_stored(post):
    calls = [call(f"m{n}", group="ACME", properties={"pad": "x" * 1000}) for n in range(520)]

    response = post(body=_batch(*calls))

    assert response.status_code == 400
    assert response.json()["code"] == "body_too_large"
    assert not UsageEvent.objects.exists()


def test_a_call_over_32_kb_is_400_and_nothing_is_stored(post):
    AccountFactory(external_id="ACME")
    calls = [call("small", group="ACME"), call("big", group="ACME", properties={"pad": "x" * (33 * 1024)})]

    response = post(body=_batch(*calls))

    assert response.status_code == 400
    assert response.json()["code"] == "call_too_large"
    assert "call 1" in response.json()["error"]
    assert not UsageEvent.objects.exists()


# Per-call validation -------------------------------------------------------------------------------------------


def test_invalid_calls_are_listed_and_the_valid_ones_stored(post):
    AccountFactory(external_id="ACME")
    calls = [
        call("ok-1", group="ACME"),
        {"type": "track", "userId": "u1", "event": "No id"},
        call("no-user", group="ACME", userId=None),
        "not an object",
        call("bad-type", type="alias"),
        call("ok-2", group="ACME"),
    ]

    response = post(body=_batch(*calls))

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(e["index"], e["messageId"]) for e in body["errors"]] == [
        (1, None),
        (2, "no-user"),
        (3, None),
        (4, "bad-type"),
    ]
    assert body["errors"][0]["error"] == "messageId is required"
    assert set(UsageEvent.objects.values_list("message_id", flat=True)) == {"ok-1", "ok-2"}


# Each item is a call that must be refused on its own (200, listed in errors), never a 500.
MALFORMED_CALLS = [
    None,
    42,
    [],
    {},
    {"type": "track"},
    {"type": 7, "messageId": "x"},
    call("m", messageId=12.5),
    call("m", messageId=""),
    call("m", messageId="x" * 201),
    call("m", messageId=True),
    call("m", userId={"id": 1}),
    call("m", userId="u" * 201),
    call("m", event=None),
    call("m", event=""),
    call("m", event=["a"]),
    call("m", event="e" * 201),
    call("m", properties=[1, 2]),
    call("m", properties="x"),
    call("m", context="x"),
    call("m", context={"groupId": {"a": 1}}),
    call("m", context={"groupId": "g" * 101}),
    call("m", timestamp="not a time"),
    call("m", timestamp=1717243200),
    call("m", timestamp="0001-01-01T00:00:00+01:00"),
    call("m", timestamp=None, originalTimestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T00:00:00Z"),
    call("m", event="nul\x00byte"),
    call("m", properties={"k\x00": 1}),
    call("m", properties={"lone": "\ud800"}),
    {"type": "identify", "messageId": "i", "traits": {"email": "a@b.test"}},
    {"type": "identify", "messageId": "i", "userId": "u", "traits": "x"},
    {"type": "group", "messageId": "g", "userId": "u"},
    {"type": "group", "messageId": "g", "groupId": "", "userId": "u"},
    {"type": "group", "messageId": "g", "groupId": ["x"], "userId": "u"},
    {"type": "page", "messageId": "p"},
]


@pytest.mark.parametrize("bad", MALFORMED_CALLS, ids=[f"call-{n}" for n in range(len(MALFORMED_CALLS))])
def test_a_malformed_call_is_listed_never_a_500(post, bad):
    AccountFactory(external_id="ACME")

    response = post(body=_batch(bad, call("fine", group="ACME")))

    assert response.status_code == 200, response.content
    assert [e["index"] for e in response.json()["errors"]] == [0]
    assert UsageEvent.objects.filter(message_id="fine").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"messageId": None},
        {"messageId": "m", "userId": "u", "event": "e", "context": []},
        {"messageId": "m", "userId": "u", "event": "e", "traits": 5, "properties": {"a": {"b": [None, True, 1.5]}}},
    ],
)
@pytest.mark.parametrize("path", ["/v1/track", "/v1/identify", "/v1/group", "/v1/page"])
def test_single_call_endpoints_never_500(post, path, body):
    response = post(path, body)

    assert response.status_code == 200, response.content


def test_a_number_beyond_float_range_is_refused_for_its_call(post):
    raw = b'{"batch": [{"type": "track", "messageId": "m", "userId": "u", "event": "e", "properties": {"x": 1e999}}]}'

    response = post(raw=raw)

    assert response.status_code == 200
    assert response.json()["errors"][0]["error"] == "numbers must be finite and values plain JSON"


def test_odd_but_valid_values_are_stored(post):
    """Integer ids (as the clients' stringify_id), unicode, nesting, extreme but valid times."""
    AccountFactory(external_id="42")
    calls = [
        call("int-ids", userId=7, context={"groupId": 42}, properties={"nested": {"a": [1, {"b": "ü ✓ 𝄞"}]}}),
        call("old", timestamp="1970-01-01T00:00:00Z", group="42"),
        call("naive", timestamp="2024-06-01T10:00:00", group="42"),
        call("offset", timestamp="2024-06-01T12:00:00+02:00", group="42"),
    ]

    response = post(body=_batch(*calls))

    assert response.json()["errors"] == []
    stored = {e.message_id: e for e in UsageEvent.objects.all()}
    assert stored["int-ids"].user_id == "7"
    assert stored["int-ids"].properties["nested"]["a"][1]["b"] == "ü ✓ 𝄞"
    assert stored["old"].occurred_at == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert stored["naive"].occurred_at == stored["offset"].occurred_at == dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)


def test_huge_integers_and_deep_nesting_are_stored_directly_and_from_quarantine(post):
    deep: dict = {"leaf": 1}
    for _ in range(300):
        deep = {"d": deep}
    AccountFactory(external_id="ACME")
    values = {"big": 10**20, "deep": deep}

    response = post(
        body=_batch(call("now", group="ACME", properties=values), call("held", group="LATER", properties=values))
    )
    released = post(body=_batch({"type": "group", "messageId": "g", "userId": "u1", "groupId": "LATER"}))
    post(body=_batch(call("later", group="LATER", properties=values)))

    assert response.status_code == released.status_code == 200
    assert released.json()["released"] == 1
    stored = {e.message_id: e.properties for e in UsageEvent.objects.all()}
    assert stored == {"now": values, "held": values, "later": values}


# Mapping -------------------------------------------------------------------------------------------------------


def test_track_goes_to_the_context_group_then_properties_group_then_the_users_last_group(post):
    acme, globex, initech = (AccountFactory(external_id=name) for name in ("ACME", "GLOBEX", "INITECH"))
    ContactFactory(account=initech, user_id="u-initech")
    calls = [
        call("ctx", user="u-initech", context={"groupId": "ACME"}, properties={"groupId": "GLOBEX"}),
        call("prop", user="u-initech", properties={"groupId": "GLOBEX"}),
        call("user", user="u-initech"),
    ]

    post(body=_batch(*calls))

    assert dict(UsageEvent.objects.values_list("message_id", "account_id")) == {
        "ctx": acme.pk,
        "prop": globex.pk,
        "user": initech.pk,
    }


def test_screen_becomes_screen_viewed_with_its_name(post):
    AccountFactory(external_id="ACME")
    screen = {"type": "screen", "messageId": "s1", "userId": "u1", "name": "Dashboard", "context": {"groupId": "ACME"}}

    response = post(body=_batch(screen))

    assert response.json()["errors"] == []
    event = UsageEvent.objects.get()
    assert (event.event, event.properties) == (SCREEN_EVENT, {"name": "Dashboard"})
    assert UsageDay.objects.get().events == 1


def test_page_becomes_page_viewed_with_its_name(post):
    AccountFactory(external_id="ACME")
    page = {
        "type": "page",
        "messageId": "p1",
        "userId": "u1",
        "name": "Pricing",
        "category": "Docs",
        "properties": {"url": "https://acme.test/pricing", "groupId": "ACME"},
    }

    post(body=_batch(page))

    event = UsageEvent.objects.get()
    assert event.event == PAGE_EVENT
    assert event.properties == {
        "name": "Pricing",
        "category": "Docs",
        "url": "https://acme.test/pricing",
        "groupId": "ACME",
    }


def test_group_creates_the_account_and_links_the_user_then_updates_both(post):
    post(
        "/v1/group",
        {
            "messageId": "g1",
            "userId": "u1",
            "groupId": "ACME",
            "traits": {
                "name": "Acme Inc",
                "website": "https://www.acme.test/home",
                "industry": "Retail",
                "plan": "pro",
            },
        },
    )

    account = Account.objects.get(external_id="ACME")
    assert (account.name, account.domain, account.industry) == ("Acme Inc", "www.acme.test", "Retail")
    assert Contact.objects.get(user_id="u1").account == account

    other = AccountFactory(external_id="GLOBEX", name="Globex", industry="Energy")
    post("/v1/group", {"messageId": "g2", "userId": "u1", "groupId": "GLOBEX", "traits": {"domain": "globex.test"}})

    other.refresh_from_db()
    assert (other.name, other.domain, other.industry) == ("Globex", "globex.test", "Energy")
    assert Contact.objects.get(user_id="u1").account == other  # the account the user was last grouped with


def test_group_without_traits_names_the_account_after_its_id(post):
    post("/v1/group", {"messageId": "g1", "anonymousId": "anon-1", "groupId": "ACME"})

    assert Account.objects.get(external_id="ACME").name == "ACME"
    assert not Contact.objects.exists()  # an anonymous user is no contact


def test_identify_updates_the_contact_and_links_a_known_account(post):
    acme = AccountFactory(external_id="ACME")
    globex = AccountFactory(external_id="GLOBEX")
    ContactFactory(account=acme, user_id="u1", name="Old", email="old@acme.test", title="")

    response = post(
        "/v1/identify",
        {
            "messageId": "i1",
            "userId": "u1",
            "traits": {"email": "ann@globex.test", "firstName": "Ann", "lastName": "Lee", "title": "CTO"},
            "context": {"groupId": "GLOBEX"},
        },
    )

    assert response.json()["warnings"] == []
    contact = Contact.objects.get(user_id="u1")
    assert (contact.name, contact.email, contact.title, contact.account) == (
        "Ann Lee",
        "ann@globex.test",
        "CTO",
        globex,
    )
    assert contact.last_engaged_at is None  # product usage is not a CSM touch


def test_identify_with_a_bad_email_keeps_the_rest_and_warns(post):
    ContactFactory(user_id="u1", email="old@acme.test")

    response = post("/v1/identify", {"messageId": "i1", "userId": "u1", "traits": {"email": "nope", "name": "Ann"}})

    assert [w["index"] for w in response.json()["warnings"]] == [0]
    contact = Contact.objects.get(user_id="u1")
    assert (contact.name, contact.email) == ("Ann", "old@acme.test")


# Quarantine ----------------------------------------------------------------------------------------------------


def test_calls_of_unknown_accounts_are_quarantined_then_attached_when_the_account_appears(post):
    response = post(
        body=_batch(
            call("by-group", user="u1", group="ACME"),
            call("by-user", user="u2"),
            {"type": "identify", "messageId": "id-u2", "userId": "u2", "traits": {"name": "Bea", "title": "VP"}},
        )
    )

    assert response.json()["quarantined"] == 3
    assert [w["messageId"] for w in response.json()["warnings"]] == ["id-u2"]
    assert not UsageEvent.objects.exists()
    assert dict(QuarantinedEvent.objects.values_list("message_id", "reason")) == {
        "by-group": REASON_UNKNOWN_GROUP,
        "by-user": REASON_UNGROUPED_USER,
        "id-u2": REASON_UNGROUPED_USER,
    }

    response = post("/v1/group", {"messageId": "g1", "groupId": "ACME", "userId": "u2", "traits": {"name": "Acme"}})

    assert response.json()["released"] == 3
    acme = Account.objects.get(external_id="ACME")
    assert dict(UsageEvent.objects.values_list("message_id", "account_id")) == {"by-group": acme.pk, "by-user": acme.pk}
    assert not QuarantinedEvent.objects.exists()
    contact = Contact.objects.get(user_id="u2")
    assert (contact.account, contact.name, contact.title) == (acme, "Bea", "VP")
    assert UsageDay.objects.get(account=acme).events == 2  # the rollups count released events


def test_a_group_later_in_the_same_batch_resolves_its_calls(post):
    response = post(
        body=_batch(call("t1", user="u1"), {"type": "group", "messageId": "g", "groupId": "ACME", "userId": "u1"})
    )

    assert response.json()["quarantined"] == 0
    assert UsageEvent.objects.get().account.external_id == "ACME"


def test_identify_naming_an_unknown_account_is_applied_when_it_appears(post):
    post("/v1/identify", {"messageId": "i1", "userId": "u1", "traits": {"name": "Ann", "company": {"id": "ACME"}}})
    assert QuarantinedEvent.objects.get().group_id == "ACME"

    post("/v1/group", {"messageId": "g1", "groupId": "ACME"})

    contact = Contact.objects.get(user_id="u1")
    assert (contact.name, contact.account.external_id) == ("Ann", "ACME")


def test_a_resent_quarantined_call_is_kept_once(post):
    first = post(body=_batch(call("q1", group="NEW")))
    again = post(body=_batch(call("q1", group="NEW")))

    assert (first.json()["quarantined"], again.json()["quarantined"], again.json()["duplicates"]) == (1, 0, 1)
    assert QuarantinedEvent.objects.count() == 1


# Deduplication -------------------------------------------------------------------------------------------------


def test_a_resent_batch_is_stored_once_and_counted_once(post):
    AccountFactory(external_id="ACME")
    batch = _batch(*(call(f"m{n}", group="ACME") for n in range(5)))

    first = post(body=batch)
    again = post(body=batch)

    assert (first.json()["accepted"], first.json()["duplicates"]) == (5, 0)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (5, 5)
    assert UsageEvent.objects.count() == 5
    assert UsageDay.objects.get().events == 5


def test_a_message_id_repeated_within_a_batch_is_stored_once(post):
    AccountFactory(external_id="ACME")

    response = post(body=_batch(call("m1", group="ACME"), call("m1", group="ACME", event="Other")))

    assert response.json()["duplicates"] == 1
    assert UsageEvent.objects.get().event == "Report Viewed"


def test_message_ids_are_unique_per_source_not_globally(post):
    AccountFactory(external_id="ACME")
    _, other_key = write_key_create(source_name="Mobile app")

    post(body=_batch(call("m1", group="ACME")))
    post(body=_batch(call("m1", group="ACME")), key=other_key)

    assert UsageEvent.objects.count() == 2


# Time ----------------------------------------------------------------------------------------------------------


def test_clock_skew_is_corrected_from_sent_at(post, time_machine):
    time_machine.move_to(dt.datetime(2024, 6, 1, 12, 0, 10, tzinfo=dt.UTC), tick=False)
    AccountFactory(external_id="ACME")
    # The device's clock is 2 hours fast: it stamped the event at 13:59:00 and sent it at 14:00:00 device time.
    skewed = call("m1", group="ACME", timestamp=None, originalTimestamp="2024-06-01T13:59:00Z")

    post(body=_batch(skewed, sentAt="2024-06-01T14:00:00Z"))

    event = UsageEvent.objects.get()
    assert event.occurred_at == dt.datetime(2024, 6, 1, 11, 59, 10, tzinfo=dt.UTC)
    assert event.received_at == dt.datetime(2024, 6, 1, 12, 0, 10, tzinfo=dt.UTC)
    assert not event.timestamp_clamped


def test_timestamp_is_used_as_given_and_received_at_is_the_fallback(post, time_machine):
    time_machine.move_to(dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC), tick=False)
    AccountFactory(external_id="ACME")

    post(
        body=_batch(
            call("given", group="ACME", timestamp="2024-05-01T08:00:00Z", originalTimestamp="2024-05-02T08:00:00Z"),
            call("original-only", group="ACME", timestamp=None, originalTimestamp="2024-05-03T08:00:00Z", sentAt=None),
            call("none", group="ACME", timestamp=None),
            sentAt=None,
        )
    )

    assert dict(UsageEvent.objects.values_list("message_id", "occurred_at")) == {
        "given": dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC),
        "original-only": dt.datetime(2024, 5, 3, 8, tzinfo=dt.UTC),
        "none": dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC),
    }


def test_a_time_more_than_24_hours_ahead_is_clamped_and_flagged(post, time_machine):
    now = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
    time_machine.move_to(now, tick=False)
    AccountFactory(external_id="ACME")

    post(
        body=_batch(
            call("near", group="ACME", timestamp="2024-06-02T11:00:00Z"),
            call("far", group="ACME", timestamp="2024-06-02T13:00:00Z"),
        )
    )

    stored = {e.message_id: e for e in UsageEvent.objects.all()}
    assert (stored["near"].occurred_at, stored["near"].timestamp_clamped) == (now + dt.timedelta(hours=23), False)
    assert (stored["far"].occurred_at, stored["far"].timestamp_clamped) == (now, True)


# Rate limit and the shape of the work --------------------------------------------------------------------------


def test_over_the_rate_limit_is_429_with_retry_after(post, settings, time_machine):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 2
    # A second of its own (the counters live in the shared cache for that second).
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 50), tick=False)

    answers = [post(body=_batch()) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2]["Retry-After"] == "1"
    assert answers[2].json()["code"] == "rate_limited"


def _mixed_batch(size: int) -> dict:
    """Calls spread over accounts named by groupId, users' last groups, and an unknown account."""
    calls = []
    for n in range(size):
        if n % 3 == 0:
            calls.append(call(f"m{n}", user=f"u{n % 7}", group=f"ACC-{n % 5}"))
        elif n % 3 == 1:
            calls.append(call(f"m{n}", user=f"known-{n % 4}", event=f"Feature {n % 6}"))
        else:
            calls.append(call(f"m{n}", user=f"u{n}", group="UNKNOWN"))
    return _batch(*calls)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite caps parameters per statement: bulk_create splits big batches"
)
def test_the_number_of_queries_does_not_grow_with_the_batch(post):
    accounts = [AccountFactory(external_id=f"ACC-{n}") for n in range(5)]
    for n in range(4):
        ContactFactory(account=accounts[n], user_id=f"known-{n}")
    post(body=_batch())  # warm the write key cache

    with CaptureQueriesContext(connection) as small:
        assert post(body=_mixed_batch(12)).json()["errors"] == []
    UsageEvent.objects.all().delete()
    UsageMessage.objects.all().delete()  # the ledger remembers deleted events' messageIds: forget them too
    QuarantinedEvent.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        response = post(body=_mixed_batch(600))

    assert (response.json()["accepted"], response.json()["quarantined"]) == (600, 200)
    assert UsageEvent.objects.count() == 400
    assert len(large) == len(small)
    # the batch (at most 20 with savepoints) and, tasks running in-process here, the rollup fold right after it
    assert len(large) <= 28
