"""Owner and AE assignment follow the scope rule: admins anyone, a manager within their team, a CSM not at all."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.roles import Role
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def patch(user, account, **changes):
    client = APIClient()
    client.force_authenticate(user)
    return client.patch(reverse("api:account-detail", args=[account.pk]), changes, format="json")


@pytest.fixture
def teammate(alpha_team):
    return UserFactory(username="carol", roles=[Role.CSM], team=alpha_team)


def test_a_csm_cannot_hand_their_account_to_anyone(alice, teammate, andy, bob):
    account = AccountFactory(owner=alice, name="Acme")

    for changes in ({"owner": bob.pk}, {"owner": teammate.pk}, {"owner": None}, {"account_executive": andy.pk}):
        response = patch(alice, account, **changes)
        assert response.status_code == 403, changes
        assert "manager or an admin" in response.json()["detail"]
    assert patch(alice, account, name="Acme Corp", owner=alice.pk).status_code == 200  # unchanged owner is fine
    assert Account.objects.get(pk=account.pk).owner == alice


def test_a_manager_reassigns_within_their_team_and_sets_the_ae(mallory, alice, teammate, bob, andy):
    account = AccountFactory(owner=alice)

    assert patch(mallory, account, owner=teammate.pk, account_executive=andy.pk).status_code == 200
    refused = patch(mallory, account, owner=bob.pk)  # bob is on another team
    assert refused.status_code == 403
    assert "own team" in refused.json()["detail"]
    account.refresh_from_db()
    assert (account.owner, account.account_executive) == (teammate, andy)


def test_a_csm_cannot_edit_a_teammates_account(alice, teammate):
    account = AccountFactory(owner=teammate)
    assert patch(alice, account, name="Mine now").status_code in {403, 404}
    assert Account.objects.get(pk=account.pk).name != "Mine now"


def test_an_admin_assigns_anyone(ada, bob):
    account = AccountFactory(owner=UserFactory(roles=[Role.CSM], team=TeamFactory(name="Gamma")))
    assert patch(ada, account, owner=bob.pk).status_code == 200
