"""The audit trail: who changed what and when, through the admin, the REST API and the services."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import ExchangeRate
from accounts.roles import Role
from accounts.selectors import account_changes
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db


def test_an_owner_change_in_the_admin_is_recorded_with_who_made_it(ada, alice, bob):
    account = AccountFactory(owner=alice, name="Acme")
    client = Client()
    client.force_login(ada)
    form = client.get(reverse("admin:accounts_account_change", args=[account.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"owner": bob.pk, "status": "active", "segment": account.segment}
    for prefix in ("contacts", "contracts"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}

    response = client.post(reverse("admin:accounts_account_change", args=[account.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = account_changes(account_id=account.pk).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == ada
    assert entry.changes_dict["owner"] == [str(alice.pk), str(bob.pk)]


def test_a_contract_change_through_the_api_is_on_its_accounts_trail_with_the_token_user(ada):
    contract = ContractFactory(seats=10)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ada).key}")

    response = client.patch(reverse("api:contract-detail", args=[contract.pk]), {"seats": 25}, format="json")

    assert response.status_code == 200, response.content
    trail = account_changes(account_id=contract.account_id).filter(content_type__model="contract")
    created, updated = trail.order_by("timestamp", "id")
    assert created.action == LogEntry.Action.CREATE and created.actor is None  # made by a factory, not a person
    entry = updated
    assert (entry.content_type.model, entry.actor, entry.changes_dict["seats"]) == ("contract", ada, ["10", "25"])
    assert not account_changes(account_id=AccountFactory().pk).filter(content_type__model="contract").exists()


def test_exchange_rates_and_user_roles_are_tracked(alice):
    ExchangeRate.objects.create(currency="EUR", date=dt.date(2024, 1, 1), rate="1.10")
    alice.groups.add(Group.objects.get_or_create(name=Role.MANAGER)[0])

    assert LogEntry.objects.filter(content_type__model="exchangerate").exists()
    roles = LogEntry.objects.filter(content_type__model="user", object_id=alice.pk, changes__has_key="groups")
    assert roles.exists()
