"""Write keys (issued, stored hashed, revoked at once) and the ingestion admin: keys, quarantine, feature catalog."""

import datetime as dt
import hashlib
import re
import secrets
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.ingestion.auth import write_key_authenticate
from accounts.ingestion.services import ingest_batch, write_key_create, write_key_revoke
from accounts.models import Feature, QuarantinedEvent, Source, UsageEvent, WriteKey
from tests.factories import AccountFactory, SourceFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


# Services ------------------------------------------------------------------------------------------------------


def test_a_key_is_random_stored_only_hashed_and_bound_to_its_source(ada):
    write_key, plaintext = write_key_create(source_name="Web app", created_by=ada)
    other, other_plaintext = write_key_create(source_name="Web app")

    assert len(plaintext) >= 43 and plaintext != other_plaintext
    assert write_key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert write_key.prefix == plaintext[:8]
    assert plaintext not in {
        value for row in WriteKey.objects.values() for value in row.values() if isinstance(value, str)
    }
    assert (write_key.source.name, write_key.created_by) == ("Web app", ada)
    assert Source.objects.count() == 1
    assert write_key_authenticate(key=plaintext) == (write_key.pk, write_key.source_id)
    assert write_key_authenticate(key=other_plaintext).write_key_id == other.pk


def test_revoking_takes_effect_at_once_despite_the_cache(django_capture_on_commit_callbacks):
    write_key, plaintext = write_key_create(source_name="Web app")
    assert write_key_authenticate(key=plaintext) is not None  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        assert write_key_revoke(write_key_id=write_key.pk) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert write_key_revoke(write_key_id=write_key.pk) is False

    assert write_key_authenticate(key=plaintext) is None
    write_key.refresh_from_db()
    assert write_key.revoked_at is not None


def test_unknown_and_empty_keys_authenticate_nobody():
    assert write_key_authenticate(key="") is None
    assert write_key_authenticate(key="nope") is None


# Management commands -------------------------------------------------------------------------------------------


def test_create_write_key_prints_the_key_as_the_last_word():
    out = StringIO()

    call_command("create_write_key", "Mobile app", stdout=out)

    plaintext = out.getvalue().split()[-1]
    identity = write_key_authenticate(key=plaintext)
    assert identity is not None
    assert Source.objects.get(pk=identity.source_id).name == "Mobile app"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_write_key_refuses_a_bad_source_name(name):
    with pytest.raises(CommandError, match="1 to 100 characters"):
        call_command("create_write_key", name)
    assert not Source.objects.exists()


@pytest.mark.parametrize("by", ["prefix", "whole key"])
def test_revoke_write_key_by_prefix_or_whole_key(by, django_capture_on_commit_callbacks):
    write_key, plaintext = write_key_create(source_name="Web app")
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("revoke_write_key", write_key.prefix if by == "prefix" else plaintext, stdout=out)

    assert "Revoked" in out.getvalue()
    assert write_key_authenticate(key=plaintext) is None


def test_a_key_never_starts_with_a_dash(monkeypatch):
    """A key or its prefix is given on command lines (``revoke_write_key``), where a leading dash reads as an
    option. The key is drawn again until it does not start with one."""
    draws = iter(["-looks-like-an-option", "fine-key-value"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(draws))

    write_key, plaintext = write_key_create(source_name="Web app")

    assert (plaintext, write_key.prefix) == ("fine-key-value", "fine-key")


def test_revoke_write_key_refuses_unknown_and_ambiguous_prefixes():
    source = SourceFactory()
    WriteKey.objects.create(source=source, prefix="same1234", key_hash="a" * 64)
    WriteKey.objects.create(source=source, prefix="same1234", key_hash="b" * 64)

    with pytest.raises(CommandError, match="No active write key"):
        call_command("revoke_write_key", "zzzz")
    with pytest.raises(CommandError, match="2 active keys"):
        call_command("revoke_write_key", "same1234")
    assert not WriteKey.objects.filter(revoked_at__isnull=False).exists()


# Admin ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_logged_in(client, ada):
    client.force_login(ada)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_admin_issues_a_key_and_shows_it_once(admin_logged_in, ada):
    source = SourceFactory(name="Web app")

    response = admin_logged_in.post(reverse("admin:accounts_writekey_add"), {"source": source.pk}, follow=True)

    assert response.status_code == 200
    shown = [m for m in _messages(response) if "never shown again" in m]
    assert len(shown) == 1
    plaintext = re.search(r"is (\S+)\. Copy it now", shown[0]).group(1)
    write_key = WriteKey.objects.get()
    assert write_key_authenticate(key=plaintext) == (write_key.pk, source.pk)
    assert (write_key.created_by, write_key.prefix) == (ada, plaintext[:8])
    later = admin_logged_in.get(reverse("admin:accounts_writekey_change", args=[write_key.pk]))
    assert plaintext not in later.content.decode()


def test_admin_revoke_action_takes_effect_at_once(admin_logged_in, django_capture_on_commit_callbacks):
    write_key, plaintext = write_key_create(source_name="Web app")
    write_key_authenticate(key=plaintext)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_logged_in.post(
            reverse("admin:accounts_writekey_changelist"),
            {"action": "revoke", "_selected_action": [write_key.pk]},
            follow=True,
        )

    assert "1 write key revoked." in _messages(response)
    assert write_key_authenticate(key=plaintext) is None


def test_admin_revokes_from_the_change_form_through_the_service(admin_logged_in, django_capture_on_commit_callbacks):
    write_key, plaintext = write_key_create(source_name="Web app")
    write_key_authenticate(key=plaintext)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_logged_in.post(
            reverse("admin:accounts_writekey_change", args=[write_key.pk]),
            {"revoked_at_0": "2024-06-01", "revoked_at_1": "12:00:00"},
        )

    assert response.status_code == 302
    write_key.refresh_from_db()
    assert write_key.revoked_at == NOW
    assert write_key_authenticate(key=plaintext) is None


def test_admin_lists_and_searches_the_quarantine_read_only(admin_logged_in):
    source = SourceFactory()
    ingest_batch(
        source_id=source.pk,
        messages=[{"type": "track", "messageId": "q1", "userId": "u1", "event": "Report Viewed"}],
        received_at=NOW,
    )
    url = reverse("admin:accounts_quarantinedevent_changelist")

    assert admin_logged_in.get(url).status_code == 200
    assert admin_logged_in.get(url, {"q": "u1"}).context["cl"].result_count == 1
    assert admin_logged_in.get(url, {"kind": "track"}).status_code == 200
    assert admin_logged_in.get(reverse("admin:accounts_quarantinedevent_add")).status_code == 403
    change = admin_logged_in.get(
        reverse("admin:accounts_quarantinedevent_change", args=[QuarantinedEvent.objects.get().pk])
    )
    assert change.status_code == 200 and b"Save" not in change.content


def test_admin_attaches_quarantined_calls_once_the_account_exists(admin_logged_in):
    source = SourceFactory()
    ingest_batch(
        source_id=source.pk,
        messages=[
            {
                "type": "track",
                "messageId": "q1",
                "userId": "u1",
                "event": "Report Viewed",
                "context": {"groupId": "ACME"},
            }
        ],
        received_at=NOW,
    )
    account = AccountFactory(external_id="ACME")  # created in the admin, or imported from the CRM

    response = admin_logged_in.post(
        reverse("admin:accounts_quarantinedevent_changelist"),
        {"action": "release", "_selected_action": list(QuarantinedEvent.objects.values_list("pk", flat=True))},
        follow=True,
    )

    assert "1 call attached." in _messages(response)
    assert UsageEvent.objects.get().account == account
    assert not QuarantinedEvent.objects.exists()


def test_admin_edits_the_feature_catalog_from_the_list(admin_logged_in):
    feature = Feature.objects.create(name="Report Viewed", first_seen_at=NOW)

    response = admin_logged_in.post(
        reverse("admin:accounts_feature_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": feature.pk,
            "form-0-label": "Reports",
            "form-0-is_key": "on",
            "form-0-ignored": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.label, feature.is_key, feature.ignored) == ("Reports", True, True)
