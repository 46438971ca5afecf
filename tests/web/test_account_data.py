"""The account's own data in the app, for the roles that own it: contacts and their roles (sponsor, champion),
deactivation, owner/AE reassignment (managers, not CSMs), activities changed and deleted by their author only, QBR
as a loggable touch, the timeline (paged, by kind, searched, with the audit trail), the user's time zone, styled
error pages."""

import datetime as dt

import pytest
from django.template.loader import get_template

from accounts.models import Account, Activity, Contact
from accounts.services import account_update
from csm_platform.web.selectors.portfolio import portfolio_list
from csm_platform.web.selectors.timeline import TIMELINE_PAGE
from tests.factories import AccountFactory, ActivityFactory, ContactFactory
from tests.web.conftest import NOW, TODAY, book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def account(alice, andy):
    return AccountFactory(name="Acme", owner=alice, account_executive=andy)


def test_the_owner_adds_a_sponsor_contact_edits_and_deactivates_them(client, alice, account):
    client.force_login(alice)
    response = client.post(
        f"/accounts/{account.pk}/contacts/",
        {"name": "Sam Sponsor", "email": "sam@acme.test", "title": "CFO", "is_executive_sponsor": "on", "active": "on"},
    )
    assert response.status_code == 302
    sam = Contact.objects.get(account=account)
    assert (sam.name, sam.is_executive_sponsor, sam.is_champion, sam.active) == ("Sam Sponsor", True, False, True)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "★ sponsor" in page and "name one and engage them" not in page

    edit = f"/accounts/{account.pk}/contacts/{sam.pk}/"
    assert client.get(edit).status_code == 200
    data = {"name": "Sam Sponsor", "email": "sam@acme.test", "title": "CEO", "is_executive_sponsor": "on"}
    assert client.post(edit, {**data, "is_champion": "on", "active": "on"}).status_code == 302
    sam.refresh_from_db()
    assert (sam.title, sam.is_champion) == ("CEO", True)
    assert client.post(edit, data).status_code == 302  # "active" unticked: deactivated
    sam.refresh_from_db()
    assert not sam.active
    assert "No executive sponsor: name one" in client.get(f"/accounts/{account.pk}/").content.decode()


def test_a_contact_needs_a_name_or_an_email_and_readers_cannot_add_one(client, alice, bob, account):
    client.force_login(alice)
    response = client.post(f"/accounts/{account.pk}/contacts/", {"title": "CFO", "active": "on"})
    assert response.status_code == 400
    assert "Give the contact a name or an e-mail address." in response.content.decode()
    client.force_login(bob)
    assert client.post(f"/accounts/{account.pk}/contacts/", {"name": "X", "active": "on"}).status_code == 403
    contact = ContactFactory(account=account, name="Pat")
    assert client.get(f"/accounts/{account.pk}/contacts/{contact.pk}/").status_code == 403
    assert Contact.objects.count() == 1


def test_a_manager_reassigns_the_owner_and_ae_and_a_csm_may_not(client, alice, mallory, andy, account):
    teammate = type(alice).objects.create_user(username="tess", team=alice.team)
    teammate.groups.add(*alice.groups.all())
    client.force_login(alice)
    assert client.post(f"/accounts/{account.pk}/assign/", {"owner": teammate.pk}).status_code == 403
    client.force_login(mallory)
    assert "Reassign the CSM or AE" in client.get(f"/accounts/{account.pk}/").content.decode()
    assert client.post(f"/accounts/{account.pk}/assign/", {"owner": teammate.pk}).status_code == 302
    account.refresh_from_db()
    assert account.owner == teammate
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Account changed" in page and f"CSM: {alice} → {teammate}" in page  # the audit trail on the timeline


def test_an_activity_is_changed_and_deleted_by_its_author_only(client, alice, mallory, account):
    mine = ActivityFactory(account=account, author=alice, subject="Kick-off", occurred_at=NOW - dt.timedelta(days=1))
    url = f"/accounts/{account.pk}/activities/{mine.pk}/"
    client.force_login(mallory)  # may edit the account, but did not write the activity
    assert client.get(url).status_code == 403
    assert client.post(f"{url}delete/").status_code == 403
    client.force_login(alice)
    assert "Kick-off" in client.get(url).content.decode()
    data = {"kind": "meeting", "occurred_at": "2024-06-30T10:30", "subject": "Kick-off (onsite)", "body": "Agenda"}
    assert client.post(url, data).status_code == 302
    mine.refresh_from_db()
    assert (mine.kind, mine.subject, mine.occurred_at) == (
        "meeting",
        "Kick-off (onsite)",
        dt.datetime(2024, 6, 30, 10, 30, tzinfo=dt.UTC),
    )
    assert client.post(url, {**data, "subject": ""}).status_code == 400
    assert client.post(f"{url}delete/").status_code == 302
    assert not Activity.objects.filter(pk=mine.pk).exists()


def test_a_qbr_is_loggable_and_counts_as_a_touch(client, alice, account):
    client.force_login(alice)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert '<option value="qbr">QBR</option>' in page
    response = client.post(
        f"/accounts/{account.pk}/activities/", {"kind": "qbr", "occurred_at": "2024-07-01T08:00", "subject": "Q2 QBR"}
    )
    assert response.status_code == 302
    assert Activity.objects.get(subject="Q2 QBR").kind == Activity.Kind.QBR
    touched = portfolio_list(user=alice, as_of=None, today=TODAY).get(pk=account.pk)
    assert touched.last_touch == dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)


def test_the_timeline_is_paged_filtered_by_kind_and_searched(client, edna, alice, account):
    ActivityFactory.create_batch(TIMELINE_PAGE + 5, account=account, author=alice, kind="call", subject="Weekly call")
    ActivityFactory(account=account, author=alice, kind="qbr", subject="Annual review", occurred_at=NOW)
    account_update(account=account, data={"status": Account.Status.CHURNED, "churned_on": TODAY})
    client.force_login(edna)
    url = f"/accounts/{account.pk}/timeline/"
    first = client.get(url).context["timeline"]
    assert (first.total, first.pages, len(first.items)) == (TIMELINE_PAGE + 6 + 2, 2, TIMELINE_PAGE)
    assert len(client.get(url, {"page": 2}).context["timeline"].items) == 8
    assert [i.subject for i in client.get(url, {"kind": "qbr"}).context["timeline"].items] == ["Annual review"]
    changes = client.get(url, {"kind": "change"}).context["timeline"].items
    assert [i.subject for i in changes] == ["Account changed", "Account created"]
    assert "Status: Active → Churned" in changes[0].body
    assert client.get(url, {"q": "annual"}).context["timeline"].total == 1
    fragment = client.get(url, {"q": "annual"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="timeline-items"') and "<html" not in fragment


def test_times_are_entered_and_shown_in_the_users_time_zone(client, alice, account):
    assert alice.time_zone == "UTC"  # the workspace's by default
    client.force_login(alice)
    assert client.post("/preferences/", {"time_zone": "America/New_York"}).status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/New_York"
    client.post(
        f"/accounts/{account.pk}/activities/", {"kind": "call", "occurred_at": "2024-07-01T04:30", "subject": "Early"}
    )
    activity = Activity.objects.get(subject="Early")
    assert activity.occurred_at == dt.datetime(2024, 7, 1, 8, 30, tzinfo=dt.UTC)  # 04:30 EDT
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "07/01/2024 04:30 EDT" in page
    assert "In your time zone, America/New_York" in page
    assert client.post("/preferences/", {"time_zone": "Mars/Olympus"}).status_code == 400


def test_one_date_format_per_locale(client, alice, account):
    book(n=1, owner=alice)
    client.force_login(alice)
    page = client.get(f"/portfolio/?owner={alice.pk}").content.decode()
    assert "07/01/2024" in page and "2024-07-01" not in page.split("<main")[1].split("<form")[0]


def test_403_and_404_are_styled_in_the_layout_and_500_renders_without_a_request(client, bob, account):
    client.force_login(bob)
    forbidden = client.post(f"/accounts/{account.pk}/contacts/", {"name": "X"})
    assert forbidden.status_code == 403
    assert "Not allowed" in forbidden.content.decode() and 'class="topbar"' in forbidden.content.decode()
    missing = client.get("/accounts/999999/")
    assert missing.status_code == 404
    assert "Not found" in missing.content.decode() and "/static/css/app.css" in missing.content.decode()
    server_error = get_template("500.html").render({})
    assert "Something went wrong" in server_error and "/static/css/app.css" in server_error
