import pytest
from django.contrib.auth.models import Group

from accounts.models import Account
from accounts.roles import Role
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


def test_executive_reads_everything_and_changes_nothing(edna):
    assert edna.has_perm("accounts.view_account")
    assert edna.has_perm("accounts.view_contract")
    assert not edna.has_perm("accounts.change_account")
    assert not edna.has_perm("accounts.add_activity")


def test_csm_logs_activities_but_cannot_touch_contracts(alice):
    assert alice.has_perm("accounts.add_activity")
    assert not alice.has_perm("accounts.change_contract")
    assert not alice.has_perm("accounts.delete_account")


def test_admin_manages_users_and_teams(ada):
    assert ada.has_perm("accounts.add_user")
    assert ada.has_perm("accounts.change_team")
    assert ada.has_perm("auth.change_group")


def test_editable_by_scopes_csm_to_own_and_manager_to_team(alice, bob, mallory, edna, ada):
    own, bobs, unowned = AccountFactory(owner=alice), AccountFactory(owner=bob), AccountFactory(owner=None)
    assert set(Account.objects.editable_by(alice)) == {own}
    assert set(Account.objects.editable_by(bob)) == {bobs}
    assert set(Account.objects.editable_by(mallory)) == {own}
    assert set(Account.objects.editable_by(edna)) == set()
    assert set(Account.objects.editable_by(ada)) == {own, bobs, unowned}
    assert Account.objects.visible_to(edna).count() == 3


def test_anonymous_sees_nothing():
    from django.contrib.auth.models import AnonymousUser

    AccountFactory()
    assert Account.objects.visible_to(AnonymousUser()).count() == 0
