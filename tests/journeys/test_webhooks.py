"""Outgoing webhooks, delivered to a real HTTP server on 127.0.0.1 (a thread, a random port): retries with their
log, exactly one successful receipt, the signature, the Slack body, the replay from the admin, and each source of
events (the night's band changes, renewals entering their window, overdue tasks, playbooks firing, imports)."""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import events as account_events
from health.models import AccountSnapshot
from journeys.models import Delivery, Endpoint, EventKind, WebhookEvent
from journeys.services import playbooks_evaluate
from journeys.webhooks.services import (
    delivery_attempt,
    delivery_backoff,
    webhook_events_nightly,
    webhook_import_finished,
)
from tests.factories import AccountFactory, ContractFactory, PlaybookFactory, PlaybookStepFactory, TaskFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 3, 31)
DAY_BEFORE = AS_OF - dt.timedelta(days=1)


class Receiver:
    """An HTTP server that answers each POST with the next scripted status (then 200) and keeps what it got."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                headers = {name.lower(): value for name, value in self.headers.items()}  # names are case-insensitive
                receiver.requests.append({"headers": headers, "body": body, "status": status})
                answer = b"ok" if status < 300 else b"try again later"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/csm"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def succeeded(self) -> list[dict]:
        return [r for r in self.requests if r["status"] < 300]

    def json(self, n: int = -1) -> dict:
        return json.loads(self.requests[n]["body"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    settings.SITE_URL = "https://csm.example.com"


def endpoint(url, *kinds, **fields) -> Endpoint:
    return Endpoint.objects.create(name=fields.pop("name", "Ops"), url=url, events=list(kinds), **fields)


def snapshot(account, on, band, health=None, risk_band="", churn_probability=None):
    return AccountSnapshot.objects.create(
        account=account,
        as_of=on,
        acv=Decimal(0),
        band=band,
        health=health,
        risk_band=risk_band,
        churn_probability=churn_probability,
    )


def red_turn(name="Acme"):
    account = AccountFactory(name=name)
    snapshot(account, DAY_BEFORE, "green", 81)
    snapshot(account, AS_OF, "red", 32)
    return account


def night(capture) -> int:
    with capture(execute=True):
        return webhook_events_nightly(as_of=AS_OF)


def test_a_receiver_failing_twice_then_succeeding_gets_the_event_exactly_once_with_the_retries_logged(
    receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503]
    hook = endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED)
    account = red_turn()

    assert night(django_capture_on_commit_callbacks) == 1

    assert [r["status"] for r in receiver.requests] == [500, 503, 200]
    assert len(receiver.succeeded()) == 1
    assert len({receiver.json(n)["id"] for n in range(3)}) == 1  # the same event each time
    document = receiver.json()
    assert document["type"] == "health_band_changed"
    assert document["data"]["account"] == {
        "id": account.pk,
        "external_id": account.external_id,
        "name": "Acme",
        "url": f"https://csm.example.com/accounts/{account.pk}/",
    }
    assert (document["data"]["previous_band"], document["data"]["band"], document["data"]["health"]) == (
        "green",
        "red",
        32,
    )
    delivery = Delivery.objects.get(endpoint=hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Delivery.Status.SUCCEEDED, 3, 200)
    assert delivery.delivered_at is not None and delivery.response_excerpt == "ok"
    log = list(delivery.attempt_log.values_list("number", "status_code", "response_excerpt"))
    assert log == [(1, 500, "try again later"), (2, 503, "try again later"), (3, 200, "ok")]

    assert night(django_capture_on_commit_callbacks) == 0  # the night again: nothing new is sent
    assert len(receiver.requests) == 3


def test_the_signature_verifies_with_the_endpoint_secret(receiver, django_capture_on_commit_callbacks):
    hook = endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED, secret="s3cret-of-the-receiver")  # noqa: S106
    red_turn()
    night(django_capture_on_commit_callbacks)

    (request,) = receiver.requests
    fields = dict(part.split("=", 1) for part in request["headers"]["x-csm-signature"].split(","))
    signed = f"{fields['t']}.".encode() + request["body"]
    assert hmac.compare_digest(fields["v1"], hmac.new(hook.secret.encode(), signed, hashlib.sha256).hexdigest())
    assert abs(int(fields["t"]) - time.time()) < 60
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["x-csm-event"] == "health_band_changed"
    forged = hmac.new(b"another secret", signed, hashlib.sha256).hexdigest()
    assert fields["v1"] != forged


def test_a_slack_compatible_endpoint_gets_a_text_body(receiver, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED, slack_compatible=True)
    account = red_turn()
    night(django_capture_on_commit_callbacks)

    assert receiver.json() == {
        "text": f"Health of Acme went from green to red (score 32) on 2025-03-31. "
        f"https://csm.example.com/accounts/{account.pk}/"
    }


def test_replay_from_the_admin_sends_the_event_again(receiver, client, ada, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED)
    red_turn()
    night(django_capture_on_commit_callbacks)
    original = Delivery.objects.get()

    client.force_login(ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/journeys/delivery/", {"action": "replay", "_selected_action": [original.pk]}, follow=True
        )
    assert response.status_code == 200

    assert len(receiver.succeeded()) == 2
    assert receiver.json(0)["id"] == receiver.json(1)["id"]
    replay = Delivery.objects.get(replay_of=original)
    assert (replay.status, replay.attempts) == (Delivery.Status.SUCCEEDED, 1)


def test_the_admin_screens_are_for_admins(client, ada, mallory):
    mallory.is_staff = True
    mallory.save()
    client.force_login(mallory)
    assert client.get("/admin/journeys/endpoint/").status_code == 403
    client.force_login(ada)
    assert client.get("/admin/journeys/endpoint/").status_code == 200
    assert client.get("/admin/journeys/endpoint/add/").status_code == 200
    assert client.get("/admin/journeys/delivery/").status_code == 200


def test_retries_back_off_and_stop_after_the_last_attempt(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 30, 200
    assert [delivery_backoff(attempt=n) for n in range(1, 6)] == [30, 60, 120, 200, 200]
    failing = Receiver(statuses=[500] * 10)
    try:
        endpoint(failing.url, EventKind.HEALTH_BAND_CHANGED)
        red_turn()
        night(django_capture_on_commit_callbacks)
    finally:
        failing.close()
    delivery = Delivery.objects.get()
    assert len(failing.requests) == settings.WEBHOOK_MAX_ATTEMPTS == delivery.attempts == 4
    assert (delivery.status, delivery.last_status_code, delivery.next_attempt_at) == (Delivery.Status.FAILED, 500, None)


def test_a_refusal_is_not_retried_and_a_receiver_that_is_down_is(receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [404]
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED)
    down = Receiver()
    down.close()  # nothing listens on its port any more
    endpoint(down.url, EventKind.HEALTH_BAND_CHANGED, name="Down")
    red_turn()
    night(django_capture_on_commit_callbacks)

    refused = Delivery.objects.get(endpoint__name="Ops")
    assert (refused.status, refused.attempts, refused.last_status_code) == (Delivery.Status.FAILED, 1, 404)
    unreachable = Delivery.objects.get(endpoint__name="Down")
    assert (unreachable.status, unreachable.attempts, unreachable.last_status_code) == (Delivery.Status.FAILED, 4, None)
    assert "refused" in unreachable.last_error.lower()


def test_a_delivery_that_succeeded_is_never_sent_again(receiver, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED)
    red_turn()
    night(django_capture_on_commit_callbacks)
    assert delivery_attempt(delivery_id=Delivery.objects.get().pk) is None  # a redelivered task
    assert len(receiver.requests) == 1


def test_nothing_is_recorded_without_a_subscribed_active_endpoint(receiver, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.TASK_OVERDUE)
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED, name="Paused", active=False)
    red_turn()
    assert night(django_capture_on_commit_callbacks) == 0
    assert not WebhookEvent.objects.exists()
    assert not receiver.requests


def test_risk_band_changes_and_no_change_from_or_to_na(receiver, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED, EventKind.RISK_BAND_CHANGED)
    riskier = AccountFactory(name="Riskier")
    snapshot(riskier, DAY_BEFORE, "green", 80, risk_band="low", churn_probability=0.1)
    snapshot(riskier, AS_OF, "green", 78, risk_band="high", churn_probability=0.62)
    unknown = AccountFactory(name="Unknown")
    snapshot(unknown, DAY_BEFORE, "green", 80)
    snapshot(unknown, AS_OF, "na")
    newcomer = AccountFactory(name="Newcomer")
    snapshot(newcomer, AS_OF, "red", 20)
    assert night(django_capture_on_commit_callbacks) == 1
    document = receiver.json()
    assert document["type"] == "risk_band_changed"
    assert (document["data"]["previous_risk_band"], document["data"]["risk_band"]) == ("low", "high")


def test_a_renewal_entering_its_window_is_sent_once(receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RENEWAL_WINDOW_DAYS = 90
    endpoint(receiver.url, EventKind.RENEWAL_WINDOW_ENTERED, slack_compatible=True)
    account = AccountFactory(name="Initech")
    ContractFactory(account=account, start_date=dt.date(2024, 6, 30), end_date=AS_OF + dt.timedelta(days=90))
    ContractFactory(account=AccountFactory(), start_date=dt.date(2024, 9, 1), end_date=AS_OF + dt.timedelta(days=91))
    assert night(django_capture_on_commit_callbacks) == 1
    assert night(django_capture_on_commit_callbacks) == 0
    assert receiver.json()["text"].startswith("Initech renews on 2025-06-29, in 90 days.")


def test_a_task_gone_overdue_is_sent_once(receiver, alice, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.TASK_OVERDUE)
    task = TaskFactory(owner=alice, title="Call the sponsor", due_date=AS_OF - dt.timedelta(days=2))
    TaskFactory(owner=alice, due_date=AS_OF)  # due today: not overdue
    TaskFactory(owner=alice, due_date=AS_OF - dt.timedelta(days=3), snoozed_until=AS_OF + dt.timedelta(days=1))
    assert night(django_capture_on_commit_callbacks) == 1
    assert night(django_capture_on_commit_callbacks) == 0
    data = receiver.json()["data"]
    assert data["task"] == {
        "id": task.pk,
        "title": "Call the sponsor",
        "due_date": "2025-03-29",
        "priority": task.priority,
        "owner": "alice",
        "owner_email": alice.email or None,
        "pool_segment": None,
    }


def test_a_playbook_firing_is_sent(receiver, alice, django_capture_on_commit_callbacks):
    endpoint(receiver.url, EventKind.PLAYBOOK_FIRED)
    book = PlaybookFactory(name="Save red accounts", trigger="health_red")
    PlaybookStepFactory(playbook=book, order=1)
    account = red_turn()
    account.owner = alice
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert playbooks_evaluate(as_of=AS_OF)["playbook_firings"] == 1
    data = receiver.json()["data"]
    assert (data["playbook"]["name"], data["account"]["id"], data["occurrence"]) == (
        "Save red accounts",
        account.pk,
        f"red:{AS_OF}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        playbooks_evaluate(as_of=AS_OF)
    assert len(receiver.requests) == 1


def test_an_import_finished_through_the_accounts_events(receiver, django_capture_on_commit_callbacks):
    account_events.register_listener("import_finished", webhook_import_finished)
    endpoint(receiver.url, EventKind.IMPORT_FINISHED, slack_compatible=True)
    payload = {
        "import_id": 7,
        "kind": "accounts",
        "file_name": "book.csv",
        "created": 10,
        "updated": 2,
        "unchanged": 988,
        "user": "ada",
    }
    with django_capture_on_commit_callbacks(execute=True):
        account_events.emit("import_finished", payload)
        account_events.emit("import_finished", payload)
    assert receiver.json() == {
        "text": "Import of accounts from book.csv finished: created 10, updated 2, unchanged 988."
    }
    assert len(receiver.requests) == 1
    with pytest.raises(ValueError, match="Unknown accounts event"):
        account_events.emit("import_started", payload)


def test_the_nightly_hook_sends_the_nights_events(receiver, django_capture_on_commit_callbacks):
    from journeys.health_hooks import after_recompute

    endpoint(receiver.url, EventKind.HEALTH_BAND_CHANGED)
    red_turn()
    with django_capture_on_commit_callbacks(execute=True):
        counts = after_recompute(AS_OF)
    assert counts["webhook_events"] == 1
    assert len(receiver.succeeded()) == 1
