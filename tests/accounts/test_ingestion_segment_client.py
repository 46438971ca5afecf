"""The official Segment client (segment-analytics-python) against a live server: every call is stored exactly once,
even when the client resends a batch whose answer it never received."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import segment.analytics as analytics
from segment.analytics.request import APIError

from accounts.ingestion.services import write_key_create
from accounts.models import Account, Contact, QuarantinedEvent, UsageDay, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)

FORWARDED_HEADERS = ("Authorization", "Content-Type", "Content-Encoding", "User-Agent")


class _LoseFirstAnswer(BaseHTTPRequestHandler):
    """Forwards every request to the live server, but hangs up on the client instead of answering the first one:
    the batch is stored, the client sees a network error and retries it (the case ``messageId`` exists for)."""

    def do_POST(self):  # noqa: N802 (the http.server hook's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers[name]}
        upstream = requests.post(self.server.upstream + self.path, data=body, headers=headers, timeout=10)
        self.server.attempts.append((upstream.status_code, body))
        if len(self.server.attempts) == 1:
            self.close_connection = True
            return
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def lossy_proxy(live_server):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoseFirstAnswer)
    server.upstream, server.attempts = live_server.url, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _message_ids(body: bytes) -> list[str]:
    return [message["messageId"] for message in json.loads(gzip.decompress(body))["batch"]]


def test_identify_group_track_with_a_forced_retry_store_every_call_once(lossy_proxy):
    write_key = write_key_create(source_name="Web app")[1]
    errors = []
    client = analytics.Client(
        write_key,
        host=f"http://127.0.0.1:{lossy_proxy.server_port}",
        gzip=True,
        max_retries=3,
        upload_interval=0.05,
        on_error=lambda error, batch: errors.append(error),
    )

    client.identify("u1", {"email": "ann@acme.test", "name": "Ann Lee", "title": "CTO"})
    client.track("u1", "Report Viewed", {"report": "churn"})  # before the group call: quarantined, then attached
    client.group("u1", "ACME", {"name": "Acme Inc", "industry": "Retail", "website": "https://acme.test"})
    for n in range(20):
        client.track("u1", "Dashboard Opened", {"n": n})
    client.page("u2", "Docs", "Pricing", {"url": "https://acme.test/pricing", "groupId": "ACME"})
    client.shutdown()

    assert errors == []
    statuses = [status for status, _ in lossy_proxy.attempts]
    assert len(statuses) >= 2 and set(statuses) == {200}
    first, retry = lossy_proxy.attempts[0][1], lossy_proxy.attempts[1][1]
    assert _message_ids(retry) == _message_ids(first)  # the same batch, resent

    acme = Account.objects.get(external_id="ACME")
    assert (acme.name, acme.industry, acme.domain) == ("Acme Inc", "Retail", "acme.test")
    contact = Contact.objects.get(user_id="u1")
    assert (contact.account, contact.email, contact.name, contact.title) == (acme, "ann@acme.test", "Ann Lee", "CTO")
    events = list(UsageEvent.objects.values_list("message_id", "event", "account_id"))
    assert len(events) == 22 == len({message_id for message_id, _, _ in events})
    assert sorted({(event, account_id) for _, event, account_id in events}) == [
        ("Dashboard Opened", acme.pk),
        ("Page Viewed", acme.pk),
        ("Report Viewed", acme.pk),
    ]
    assert not QuarantinedEvent.objects.exists()
    assert sum(UsageDay.objects.filter(account=acme).values_list("events", flat=True)) == 22


def test_the_client_in_sync_mode_without_gzip(live_server):
    write_key = write_key_create(source_name="Backend")[1]
    client = analytics.Client(write_key, host=live_server.url, sync_mode=True)

    client.group("u9", "GLOBEX", {"name": "Globex"})
    ok, message = client.track("u9", "Export Run", {"rows": 10})
    client.track("u9", "Export Run", {"rows": 10}, message_id=message["messageId"])  # a resend of the same call

    assert ok
    assert UsageEvent.objects.get().message_id == message["messageId"]
    assert UsageEvent.objects.get().account.external_id == "GLOBEX"


def test_the_client_hears_401_for_a_wrong_key(live_server):
    client = analytics.Client("wrong-key", host=live_server.url, sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track("u1", "Report Viewed")

    assert raised.value.status == 401
    assert not UsageEvent.objects.exists()
