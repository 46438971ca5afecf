"""The cast: alice is a CSM on the Alpha team managed by mallory, bob a CSM on Beta, andy an AE,
edna the read-only executive, ada the admin. Each test asks for the people it needs."""

import pytest

from accounts.roles import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def alpha_team(db):
    return TeamFactory(name="Alpha")


@pytest.fixture
def mallory(alpha_team):
    user = UserFactory(username="mallory", roles=[Role.MANAGER], team=alpha_team)
    alpha_team.manager = user
    alpha_team.save()
    return user


@pytest.fixture
def alice(alpha_team, mallory):
    return UserFactory(username="alice", roles=[Role.CSM], team=alpha_team)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", roles=[Role.CSM], team=TeamFactory(name="Beta"))


@pytest.fixture
def andy(db):
    return UserFactory(username="andy", roles=[Role.ACCOUNT_EXECUTIVE])


@pytest.fixture
def edna(db):
    return UserFactory(username="edna", roles=[Role.EXECUTIVE])


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", roles=[Role.ADMIN], is_staff=True)
