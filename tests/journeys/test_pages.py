"""Every journeys page for every role: reads for all, writes only with the role's rights (executives: 403), login
required; list pages do not grow queries with their rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from csm_platform.navigation import NAV_ITEMS
from tests.factories import AccountFactory, PlaybookFactory, PlaybookStepFactory, TaskFactory

pytestmark = pytest.mark.django_db

ROLES = ["alice", "mallory", "bob", "andy", "edna", "ada"]


@pytest.fixture
def objects(alice, stages):
    account = AccountFactory(owner=alice)
    task = TaskFactory(account=account, owner=alice)
    playbook = PlaybookFactory()
    PlaybookStepFactory(playbook=playbook)
    return account, task, playbook


def read_urls(account, task, playbook) -> dict[str, set[str]]:
    """URL → the roles answered 403 (everyone else gets 200)."""
    return {
        reverse("journeys:my_tasks"): set(),
        reverse("journeys:task_detail", args=[task.pk]): set(),
        reverse("journeys:success_plan", args=[account.pk]): set(),
        reverse("journeys:account_panel", args=[account.pk]): set(),
        reverse("journeys:funnel"): set(),
        reverse("journeys:surveys"): set(),
        reverse("journeys:survey_upload"): {"andy", "edna"},
        reverse("journeys:playbooks"): set(),
        reverse("journeys:playbook_dry_run", args=[playbook.pk]): {"alice", "bob", "andy", "edna"},
    }


def write_urls(account, task) -> list[str]:
    return [
        reverse("journeys:task_done", args=[task.pk]),
        reverse("journeys:task_snooze", args=[task.pk]),
        reverse("journeys:task_take", args=[task.pk]),
        reverse("journeys:task_create", args=[account.pk]),
        reverse("journeys:stage_change", args=[account.pk]),
        reverse("journeys:plan_summary", args=[account.pk]),
        reverse("journeys:outcome_add", args=[account.pk]),
        reverse("journeys:outcome_status", args=[account.pk, 1]),
        reverse("journeys:check_in_record", args=[account.pk]),
        reverse("journeys:survey_upload"),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role(role, request, client, objects):
    user = request.getfixturevalue(role)
    client.force_login(user)
    for url, refused in read_urls(*objects).items():
        expected = 403 if role in refused else 200
        assert client.get(url).status_code == expected, (role, url)


def test_executives_cannot_write_anything(client, edna, objects):
    account, task, _ = objects
    client.force_login(edna)
    for url in write_urls(account, task):
        assert client.post(url, {}).status_code == 403, url
    assert client.post(reverse("journeys:task_detail", args=[task.pk]), {"body": "Hi"}).status_code == 403
    assert not task.comments.exists()


def test_anonymous_users_are_sent_to_log_in(client, objects):
    for url in read_urls(*objects[:3]):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/auth/login/"), url


def test_navigation_has_the_journeys_pages(client, alice, objects):
    assert {"journeys:my_tasks", "journeys:funnel", "journeys:surveys", "journeys:playbooks"} <= {
        item.url_name for item in NAV_ITEMS
    }
    client.force_login(alice)
    page = client.get(reverse("journeys:my_tasks")).content.decode()
    assert 'href="/tasks/" aria-current="page"' in page and 'href="/playbooks/"' in page


def test_my_tasks_queries_do_not_grow_with_tasks(client, alice):
    client.force_login(alice)
    url = reverse("journeys:my_tasks")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    TaskFactory(owner=alice, account=AccountFactory(owner=alice), playbook=PlaybookFactory(), source="playbook")
    few = count()
    for day in range(10):
        TaskFactory(
            owner=alice,
            account=AccountFactory(owner=alice),
            due_date=dt.date(2024, 6, 1) + dt.timedelta(days=day),
            playbook=PlaybookFactory(),
            source="playbook",
        )
    assert count() == few


def test_an_out_of_range_as_of_falls_back_to_today_instead_of_failing(client, ada, objects):
    client.force_login(ada)
    urls = [reverse("journeys:funnel"), reverse("journeys:surveys")]
    urls.append(reverse("journeys:playbook_dry_run", args=[objects[2].pk]))
    for url in urls:
        for as_of in ("9999-12-31", "0001-01-01", "not-a-date"):
            assert client.get(url, {"as_of": as_of}).status_code == 200, (url, as_of)
