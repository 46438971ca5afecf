"""The accounts REST API: authentication, writes scoped by role, filters, money as strings, bad input answered 400
with nothing stored, and list query counts that do not grow with the rows."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.validators import UniqueValidator

from accounts import services
from accounts.models import Account, Contact, Contract, Source, UsageDay, UsageEvent
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    SourceFactory,
    UsageEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = ["account", "contact", "contract", "usage-event"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def list_url(name: str) -> str:
    return reverse(f"api:{name}-list")


def detail_url(name: str, pk: int) -> str:
    return reverse(f"api:{name}-detail", args=[pk])


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# Authentication -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_requires_authentication(name):
    assert APIClient().get(list_url(name)).status_code == 401


def test_a_token_from_username_and_password_authenticates(alice):
    AccountFactory()
    response = APIClient().post(reverse("api-token"), {"username": "alice", "password": "password"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(list_url("account")).json()["count"] == 1


def test_a_session_authenticates(client, alice):
    client.force_login(alice)
    assert client.get(list_url("account")).status_code == 200


def test_nothing_is_deleted_through_the_api(ada):
    account = AccountFactory()
    assert api(ada).delete(detail_url("account", account.pk)).status_code == 405
    assert Account.objects.filter(pk=account.pk).exists()


# Writes by role ---------------------------------------------------------------------------------------------------


@pytest.fixture
def book(alice, bob, andy):
    """alice's account (andy is its AE) and bob's, each with a contact and a contract."""
    alices, bobs = AccountFactory(owner=alice, account_executive=andy), AccountFactory(owner=bob)
    return SimpleNamespace(
        account={"alice": alices, "bob": bobs},
        contact={"alice": ContactFactory(account=alices), "bob": ContactFactory(account=bobs)},
        contract={"alice": ContractFactory(account=alices), "bob": ContractFactory(account=bobs)},
    )


CHANGES = {"account": {"region": "NA"}, "contact": {"title": "VP Operations"}, "contract": {"seats": 25}}


@pytest.mark.parametrize(
    "user, name, whose, status",
    [
        ("alice", "account", "alice", 200),
        ("alice", "account", "bob", 403),
        ("mallory", "account", "alice", 200),
        ("mallory", "account", "bob", 403),
        ("andy", "account", "alice", 403),
        ("ada", "account", "bob", 200),
        ("alice", "contact", "alice", 200),
        ("alice", "contact", "bob", 403),
        ("andy", "contact", "alice", 403),
        ("alice", "contract", "alice", 403),
        ("mallory", "contract", "alice", 403),
        ("andy", "contract", "alice", 200),
        ("andy", "contract", "bob", 403),
        ("ada", "contract", "bob", 200),
    ],
)
def test_who_may_update_what(request, book, user, name, whose, status):
    row = getattr(book, name)[whose]
    response = api(request.getfixturevalue(user)).patch(detail_url(name, row.pk), CHANGES[name], format="json")
    assert response.status_code == status, response.content
    field, value = next(iter(CHANGES[name].items()))
    row.refresh_from_db()
    assert (getattr(row, field) == value) == (status == 200)


@pytest.mark.parametrize("name", ["account", "contact", "contract"])
def test_the_executive_reads_everything_and_writes_nothing(edna, book, name):
    client = api(edna)
    row = getattr(book, name)["alice"]
    assert client.get(detail_url(name, row.pk)).status_code == 200
    assert client.patch(detail_url(name, row.pk), CHANGES[name], format="json").status_code == 403
    assert client.put(detail_url(name, row.pk), {}, format="json").status_code == 403
    assert client.post(list_url(name), {}, format="json").status_code == 403


def test_the_executive_cannot_send_usage_events(edna, book):
    SourceFactory()
    payload = event_payload(book.account["alice"])
    assert api(edna).post(list_url("usage-event"), payload, format="json").status_code == 403


def test_a_csm_adds_contacts_to_their_own_accounts_only(alice, book):
    client = api(alice)
    own = client.post(list_url("contact"), {"account": book.account["alice"].pk, "name": "Zoe"}, format="json")
    other = client.post(list_url("contact"), {"account": book.account["bob"].pk, "name": "Yan"}, format="json")
    assert (own.status_code, other.status_code) == (201, 403)
    assert list(Contact.objects.filter(name__in=["Zoe", "Yan"]).values_list("name", flat=True)) == ["Zoe"]


def test_a_csm_cannot_move_a_contact_to_someone_elses_account(alice, book):
    contact = book.contact["alice"]
    response = api(alice).patch(detail_url("contact", contact.pk), {"account": book.account["bob"].pk}, format="json")
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.account == book.account["alice"]


@pytest.mark.parametrize("user", ["alice", "andy", "mallory"])
def test_only_admins_create_accounts_and_contracts(request, book, user):
    client = api(request.getfixturevalue(user))
    assert client.post(list_url("account"), {"external_id": "CRM-N", "name": "New"}, format="json").status_code == 403
    payload = contract_payload(book.account["alice"])
    assert client.post(list_url("contract"), payload, format="json").status_code == 403
    assert not Account.objects.filter(external_id="CRM-N").exists()
    assert not Contract.objects.filter(external_id=payload["external_id"]).exists()


def test_an_admin_creates_an_account_and_its_contract(ada, alice, andy):
    client = api(ada)
    response = client.post(
        list_url("account"),
        {"external_id": "CRM-N", "name": "New Co", "owner": alice.pk, "account_executive": andy.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["owner_username"] == "alice"
    account = Account.objects.get(external_id="CRM-N")
    response = client.post(list_url("contract"), contract_payload(account), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["acv"] == "12000.00"
    assert account.contracts.get().recurring_tcv == Decimal("12000.00")


# Reading: fields and filters ---------------------------------------------------------------------------------------


def test_an_account_names_its_owner_and_executive(edna, alice, andy):
    account, unowned = AccountFactory(owner=alice, account_executive=andy), AccountFactory()
    data = api(edna).get(detail_url("account", account.pk)).json()
    assert (data["owner"], data["owner_username"]) == (alice.pk, "alice")
    assert (data["account_executive"], data["account_executive_username"]) == (andy.pk, "andy")
    data = api(edna).get(detail_url("account", unowned.pk)).json()
    assert (data["owner"], data["owner_username"]) == (None, None)


def test_contract_money_is_strings_and_acv_is_annualized_without_one_time_fees(edna):
    contract = ContractFactory(
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
        recurring_tcv=Decimal("24000.00"),
        one_time_fees=Decimal("500.00"),
    )
    data = api(edna).get(detail_url("contract", contract.pk)).json()
    assert (data["recurring_tcv"], data["one_time_fees"], data["acv"]) == ("24000.00", "500.00", "12000.00")


def test_account_filters(edna, alice, bob, andy):
    parent = AccountFactory(name="Globex Holding", external_id="CRM-P")
    acme = AccountFactory(
        name="Acme Corp",
        external_id="CRM-A",
        domain="acme.io",
        owner=alice,
        account_executive=andy,
        segment=Account.Segment.HIGH_TOUCH,
        industry="Retail",
        region="APAC",
        parent=parent,
    )
    initech = AccountFactory(
        name="Initech", external_id="CRM-B", owner=bob, status=Account.Status.CHURNED, churned_on=dt.date(2024, 6, 1)
    )
    cases = {
        "external_id=CRM-A": {acme},
        "name=ACME": {acme},
        "segment=high_touch": {acme},
        "status=churned": {initech},
        f"owner={alice.pk}": {acme},
        f"account_executive={andy.pk}": {acme},
        "industry=retail": {acme},
        "region=apac": {acme},
        f"parent={parent.pk}": {acme},
        "q=acme.io": {acme},
        "q=crm-b": {initech},
        "q=globex": {parent},
        "": {acme, initech, parent},
    }
    for query, expected in cases.items():
        assert ids(api(edna).get(f"{list_url('account')}?{query}")) == {a.pk for a in expected}, query


def test_contact_filters(edna):
    account = AccountFactory()
    champion = ContactFactory(account=account, email="Pat@Acme.io", user_id="u-pat", is_champion=True)
    sponsor = ContactFactory(is_executive_sponsor=True, is_decision_maker=True, active=False)
    billing = ContactFactory(account=account, is_billing=True, is_end_user=True)
    cases = {
        f"account={account.pk}": {champion, billing},
        "email=pat@acme.io": {champion},
        "user_id=u-pat": {champion},
        "is_champion=true": {champion},
        "is_executive_sponsor=true": {sponsor},
        "is_decision_maker=true": {sponsor},
        "is_billing=true": {billing},
        "is_end_user=true": {billing},
        "active=false": {sponsor},
    }
    for query, expected in cases.items():
        assert ids(api(edna).get(f"{list_url('contact')}?{query}")) == {c.pk for c in expected}, query


def test_contract_filters(edna):
    account = AccountFactory()
    first = ContractFactory(account=account, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    renewal = ContractFactory(
        account=account,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        kind=Contract.Kind.RENEWAL,
        renews=first,
        currency="EUR",
    )
    cancelled = ContractFactory(
        start_date=dt.date(2024, 6, 1), end_date=dt.date(2025, 5, 31), status=Contract.Status.CANCELLED
    )
    cases = {
        f"account={account.pk}": {first, renewal},
        "status=cancelled": {cancelled},
        "kind=renewal": {renewal},
        "currency=EUR": {renewal},
        "ends_after=2025-05-31": {renewal, cancelled},
        "ends_before=2024-12-31": {first},
        "live_on=2024-12-31": {first},
        "live_on=2025-01-01": {renewal},
        "live_on=2023-12-31": set(),
    }
    for query, expected in cases.items():
        assert ids(api(edna).get(f"{list_url('contract')}?{query}")) == {c.pk for c in expected}, query


def test_usage_event_filters(edna):
    noon = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    account = AccountFactory()
    early = UsageEventFactory(account=account, user_id="u1", event="login", occurred_at=noon - dt.timedelta(days=1))
    late = UsageEventFactory(account=account, user_id="u2", event="export", occurred_at=noon)
    other = UsageEventFactory(source=SourceFactory(name="Import"), occurred_at=noon + dt.timedelta(days=1))
    cases = {
        f"account={account.pk}": {early, late},
        "user_id=u1": {early},
        "event=export": {late},
        "occurred_after=2024-03-01T12:00:00Z": {late, other},
        "occurred_before=2024-03-01T12:00:00Z": {early},
        "source=Import": {other},
    }
    for query, expected in cases.items():
        assert ids(api(edna).get(f"{list_url('usage-event')}?{query}")) == {e.pk for e in expected}, query


@pytest.mark.parametrize(
    "name, query", [("account", "segment=vip"), ("contract", "live_on=soon"), ("usage-event", "occurred_after=x")]
)
def test_a_bad_filter_value_is_a_400_naming_it(edna, name, query):
    response = api(edna).get(f"{list_url(name)}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_pages_hold_50_rows_and_up_to_500_on_request(edna):
    Account.objects.bulk_create([Account(external_id=f"B-{i}", name=f"Bulk {i:03d}") for i in range(501)])
    client = api(edna)
    assert len(client.get(list_url("account")).json()["results"]) == 50
    assert len(client.get(f"{list_url('account')}?page_size=2").json()["results"]) == 2
    assert len(client.get(f"{list_url('account')}?page_size=1000").json()["results"]) == 500


def _accounts(n: int) -> None:
    for _ in range(n):
        AccountFactory(owner=UserFactory(), account_executive=UserFactory())


def _usage_events(n: int) -> None:
    for index in range(n):
        UsageEventFactory(source=SourceFactory(name=f"Source {index}"))


@pytest.mark.parametrize(
    "name, make",
    [
        ("account", _accounts),
        ("contact", ContactFactory.create_batch),
        ("contract", ContractFactory.create_batch),
        ("usage-event", _usage_events),
    ],
)
def test_a_list_takes_two_queries_whatever_its_length(edna, django_assert_num_queries, name, make):
    client = api(edna)
    for batch, total in ((3, 3), (27, 30)):
        make(batch)
        with django_assert_num_queries(2):  # the count and the page
            response = client.get(f"{list_url(name)}?page_size=100")
        assert response.json()["count"] == total


# Bad input: 400 with field messages, nothing stored or changed ------------------------------------------------------


def contract_payload(account: Account, /, **changes) -> dict:
    return {
        "account": account.pk,
        "external_id": "CT-NEW",
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "currency": "EUR",
        "recurring_tcv": "12000.00",
        "seats": 10,
    } | changes


def event_payload(account: Account, /, **changes) -> dict:
    return {
        "source": "Product",
        "account": account.pk,
        "user_id": "u-1",
        "event": "report_viewed",
        "occurred_at": "2024-03-01T12:00:00Z",
        "properties": {"plan": "pro"},
        "message_id": "m-1",
    } | changes


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"recurring_tcv": "-1.00"}, "recurring_tcv"),
        ({"one_time_fees": "-5"}, "one_time_fees"),
        ({"end_date": "2024-12-31"}, "end_date"),
        ({"end_date": "9999-12-31"}, "end_date"),
        ({"currency": "XYZ"}, "currency"),
        ({"external_id": "CT-TAKEN"}, "external_id"),
        ({"external_id": ""}, "external_id"),
        ({"recurring_tcv": "lots"}, "recurring_tcv"),
        ({"recurring_tcv": "123456789012345678.00"}, "recurring_tcv"),
        ({"recurring_tcv": 12.345}, "recurring_tcv"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"seats": "many"}, "seats"),
        ({"seats": -1}, "seats"),
        ({"kind": "upsell"}, "kind"),
        ({"account": 999999}, "account"),
        ({"account": "abc"}, "account"),
        ({"renews": "OTHER"}, "renews"),
        ({"renews": 999999}, "renews"),
    ],
)
def test_a_bad_contract_is_refused_with_a_field_message(ada, changes, field):
    account = AccountFactory()
    other_accounts = ContractFactory(external_id="CT-TAKEN")
    if changes.get("renews") == "OTHER":
        changes = {"renews": other_accounts.pk}
    before = Contract.objects.count()
    response = api(ada).post(list_url("contract"), contract_payload(account, **changes), format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field][0]
    assert Contract.objects.count() == before


def test_every_problem_of_a_contract_is_reported_at_once(ada):
    payload = contract_payload(AccountFactory(), end_date="2024-01-01", recurring_tcv="-1", one_time_fees="-1")
    response = api(ada).post(list_url("contract"), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"end_date", "recurring_tcv", "one_time_fees"}
    assert response.json()["end_date"] == ["The end date must be on or after the start date."]


def test_a_bad_contract_update_changes_nothing(andy):
    contract = ContractFactory(account=AccountFactory(account_executive=andy), seats=10)
    elsewhere = ContractFactory()
    client = api(andy)
    for changes, field in [
        ({"seats": 12, "end_date": "2023-01-01"}, "end_date"),
        ({"seats": 12, "renews": elsewhere.pk}, "renews"),
        ({"seats": 12, "renews": contract.pk}, "renews"),
        ({"seats": 12, "account": elsewhere.account_id}, "account"),
    ]:
        response = client.patch(detail_url("contract", contract.pk), changes, format="json")
        assert response.status_code == 400, changes
        assert field in response.json(), response.json()
    contract.refresh_from_db()
    assert (contract.seats, contract.end_date, contract.renews_id) == (10, dt.date(2024, 12, 31), None)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"external_id": "CRM-TAKEN", "name": "Twin"}, "external_id"),
        ({"external_id": "", "name": "Blank"}, "external_id"),
        ({"external_id": "CRM-N"}, "name"),
        ({"external_id": "CRM-N", "name": "N", "churned_on": "2024-01-01"}, "churned_on"),
        ({"external_id": "CRM-N", "name": "N", "segment": "vip"}, "segment"),
        ({"external_id": "CRM-N", "name": "N", "owner": "alice"}, "owner"),
        ({"external_id": "CRM-N", "name": "N", "owner": 999999}, "owner"),
        ({"external_id": "CRM-N", "name": "N", "parent": 999999}, "parent"),
        ({"external_id": ["CRM-N"], "name": "N"}, "external_id"),
    ],
)
def test_a_bad_account_is_refused_with_a_field_message(ada, payload, field):
    AccountFactory(external_id="CRM-TAKEN")
    response = api(ada).post(list_url("account"), payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field][0]
    assert list(Account.objects.values_list("external_id", flat=True)) == ["CRM-TAKEN"]


def test_an_account_cannot_become_its_own_ancestor(ada):
    grandparent = AccountFactory()
    child = AccountFactory(parent=AccountFactory(parent=grandparent))
    for parent in (grandparent, child):
        response = api(ada).patch(detail_url("account", parent.pk), {"parent": child.pk}, format="json")
        assert response.status_code == 400
        assert response.json() == {"parent": ["An account cannot be its own parent or ancestor."]}
    grandparent.refresh_from_db()
    assert grandparent.parent is None


def test_an_update_saves_only_the_fields_it_was_given():
    """A change made meanwhile to another field survives (the service behind PATCH, called on a stale copy)."""
    account = AccountFactory(name="Old name")
    Account.objects.filter(pk=account.pk).update(name="Renamed meanwhile")
    services.account_update(account=account, data={"region": "NA"})
    account.refresh_from_db()
    assert (account.name, account.region) == ("Renamed meanwhile", "NA")


def test_a_duplicate_that_slips_past_validation_is_a_400_and_stores_nothing(ada, monkeypatch):
    """A concurrent insert of the same external id: the serializer and ``full_clean`` saw none, the database does."""
    AccountFactory(external_id="CRM-DUP", name="First")
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, serializer_field: None)
    monkeypatch.setattr(Account, "validate_unique", lambda self, exclude=None: None)
    response = api(ada).post(list_url("account"), {"external_id": "CRM-DUP", "name": "Twin"}, format="json")
    assert response.status_code == 400
    assert "nothing was saved" in response.json()["non_field_errors"][0]
    assert list(Account.objects.values_list("name", flat=True)) == ["First"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"user_id": "u-taken"}, "user_id"),
        ({"email": "not an email"}, "email"),
        ({"is_champion": "maybe"}, "is_champion"),
        ({"last_engaged_at": "recently"}, "last_engaged_at"),
    ],
)
def test_a_bad_contact_is_refused_with_a_field_message(alice, payload, field):
    account = AccountFactory(owner=alice)
    ContactFactory(user_id="u-taken")
    response = api(alice).post(list_url("contact"), {"account": account.pk, "name": "N"} | payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field][0]
    assert Contact.objects.count() == 1


# Usage events go through ingestion -----------------------------------------------------------------------------------


def test_an_admin_sends_a_usage_event_and_the_rollups_follow(ada):
    account, source = AccountFactory(), SourceFactory()
    response = api(ada).post(list_url("usage-event"), event_payload(account), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["source"], data["account"], data["event"], data["properties"]) == (
        "Product",
        account.pk,
        "report_viewed",
        {"plan": "pro"},
    )
    assert UsageEvent.objects.get(pk=data["id"]).source == source
    assert UsageDay.objects.get(account=account, day=dt.date(2024, 3, 1)).events == 1


def test_a_csm_cannot_send_usage_events(alice):
    SourceFactory()
    payload = event_payload(AccountFactory(owner=alice))
    assert api(alice).post(list_url("usage-event"), payload, format="json").status_code == 403


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"message_id": "m-taken"}, "message_id"),
        ({"source": "Nowhere"}, "source"),
        ({"user_id": ""}, "user_id"),
        ({"event": ""}, "event"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"properties": ["a"]}, "properties"),
        ({"properties": {"blob": "x" * 40_000}}, "properties"),
    ],
)
def test_a_bad_usage_event_is_refused_with_a_message(ada, changes, field):
    account = AccountFactory()
    UsageEventFactory(account=account, source=SourceFactory(), message_id="m-taken")
    response = api(ada).post(list_url("usage-event"), event_payload(account, **changes), format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field][0]
    assert UsageEvent.objects.count() == 1
    assert not UsageDay.objects.exists()
    assert Source.objects.count() == 1
