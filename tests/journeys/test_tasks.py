"""Tasks: 'My tasks' (overdue first), done (on the timeline), snooze, the pooled queue, comments, who may act,
and the point-in-time count the churn model reads."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Activity
from health.features import EXTRA_FEATURES
from journeys.errors import JourneyError
from journeys.models import PoolMember, Priority, Task
from journeys.selectors.tasks import my_tasks, open_high_priority_tasks
from journeys.services import task_comment_add, task_complete, task_create, task_snooze, task_take
from tests.factories import AccountFactory, TaskFactory
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 6, 30)


@pytest.fixture
def book(alice, bob):
    """alice's tasks around 2024-06-30, bob's task, and two pooled tasks (alice works the tech-touch pool)."""
    mine = AccountFactory(owner=alice, name="Acme")
    PoolMember.objects.create(user=alice, segment="tech_touch")
    tasks = {
        "overdue_normal": TaskFactory(account=mine, owner=alice, due_date=dt.date(2024, 6, 20)),
        "overdue_high": TaskFactory(account=mine, owner=alice, due_date=dt.date(2024, 6, 10), priority=Priority.HIGH),
        "today": TaskFactory(account=mine, owner=alice, due_date=TODAY),
        "upcoming": TaskFactory(account=mine, owner=alice, due_date=dt.date(2024, 7, 5)),
        "snoozed": TaskFactory(
            account=mine, owner=alice, due_date=dt.date(2024, 6, 25), snoozed_until=dt.date(2024, 7, 2)
        ),
        "done": TaskFactory(account=mine, owner=alice, status="done", completed_at=at(TODAY)),
        "bobs": TaskFactory(account=AccountFactory(owner=bob), owner=bob),
        "pooled": TaskFactory(account=AccountFactory(segment="tech_touch"), owner=None, pool_segment="tech_touch"),
        "other_pool": TaskFactory(account=AccountFactory(segment="high_touch"), owner=None, pool_segment="high_touch"),
    }
    return tasks


def titles(tasks) -> list[str]:
    return [task.title for task in tasks]


def test_my_tasks_lists_overdue_first(book, alice):
    listing = my_tasks(user=alice, today=TODAY)
    assert titles(listing.overdue) == [book["overdue_high"].title, book["overdue_normal"].title]
    assert titles(listing.due_today) == [book["today"].title]
    assert titles(listing.upcoming) == [book["upcoming"].title]
    assert titles(listing.snoozed) == [book["snoozed"].title]
    assert titles(listing.pooled) == [book["pooled"].title]
    # The snooze ends: the task is overdue again.
    assert book["snoozed"].title in titles(my_tasks(user=alice, today=dt.date(2024, 7, 2)).overdue)


def test_the_page_in_that_order(book, alice, client):
    client.force_login(alice)
    with time_machine.travel(at(TODAY), tick=False):
        page = client.get(reverse("journeys:my_tasks")).content.decode()
    order = [book[key].title for key in ("overdue_high", "overdue_normal", "today", "upcoming", "pooled", "snoozed")]
    positions = [page.index(f">{title}</a>") for title in order]
    assert positions == sorted(positions)
    assert book["bobs"].title not in page and book["done"].title not in page


def test_done_logs_the_timeline_once(book, alice):
    task = task_complete(task_id=book["today"].pk, user=alice)
    task.refresh_from_db()
    assert (task.status, task.completed_by) == ("done", alice)
    activity = Activity.objects.get(kind="task_done")
    assert (activity.account_id, activity.author, activity.subject) == (
        task.account_id,
        alice,
        f"Task done: {task.title}",
    )
    with pytest.raises(JourneyError, match="already done"):
        task_complete(task_id=task.pk, user=alice)
    assert Activity.objects.count() == 1


def test_who_may_act(book, alice, bob, mallory, edna, ada):
    with pytest.raises(PermissionDenied):
        task_complete(task_id=book["today"].pk, user=bob)
    with pytest.raises(PermissionDenied):
        task_complete(task_id=book["today"].pk, user=edna)
    task_complete(task_id=book["today"].pk, user=mallory)  # alice's manager
    task_complete(task_id=book["bobs"].pk, user=ada)
    with pytest.raises(PermissionDenied):
        task_take(task_id=book["pooled"].pk, user=bob)  # not in the tech-touch pool
    with pytest.raises(PermissionDenied):
        task_take(task_id=book["other_pool"].pk, user=alice)


def test_snooze_and_take(book, alice, mallory):
    with pytest.raises(JourneyError, match="after today"):
        task_snooze(task_id=book["today"].pk, user=alice, until=TODAY, today=TODAY)
    task_snooze(task_id=book["today"].pk, user=alice, until=dt.date(2024, 7, 3), today=TODAY)
    assert titles(my_tasks(user=alice, today=TODAY).snoozed)[-1] == book["today"].title

    taken = task_take(task_id=book["pooled"].pk, user=alice)
    assert (taken.owner, taken.pool_segment) == (alice, "tech_touch")
    with pytest.raises(JourneyError, match="already taken"):
        task_take(task_id=book["pooled"].pk, user=mallory)
    listing = my_tasks(user=alice, today=TODAY)
    assert book["pooled"].title in titles(listing.overdue + listing.due_today + listing.upcoming)
    assert book["pooled"].title not in titles(listing.pooled)


def test_comments_and_manual_tasks(book, alice, bob):
    comment = task_comment_add(task_id=book["today"].pk, user=alice, body="  Called, left a voicemail. ")
    assert comment.body == "Called, left a voicemail."
    with pytest.raises(JourneyError, match="cannot be empty"):
        task_comment_add(task_id=book["today"].pk, user=alice, body=" ")
    with pytest.raises(PermissionDenied):
        task_comment_add(task_id=book["today"].pk, user=bob, body="Hi")
    task = task_create(
        account_id=book["today"].account_id,
        title="Send QBR deck",
        due_date=TODAY,
        owner_id=alice.pk,
        created_by_id=alice.pk,
    )
    assert (task.source, task.priority, task.pool_segment) == ("manual", Priority.NORMAL, "")
    with pytest.raises(JourneyError, match="needs a title"):
        task_create(account_id=task.account_id, title=" ", due_date=TODAY, owner_id=alice.pk, created_by_id=None)


def test_pages_done_snooze_take_and_comment(book, alice, client):
    client.force_login(alice)
    done = client.post(reverse("journeys:task_done", args=[book["today"].pk]), headers={"HX-Request": "true"})
    assert done.status_code == 200 and "band-green" in done.content.decode()
    again = client.post(reverse("journeys:task_done", args=[book["today"].pk]), headers={"HX-Request": "true"})
    assert again.status_code == 200 and 'role="alert"' in again.content.decode()
    assert "This task is already done." in again.content.decode()
    snoozed = client.post(reverse("journeys:task_snooze", args=[book["upcoming"].pk]), {"until": "2099-01-01"})
    assert snoozed.status_code == 302
    bad = client.post(reverse("journeys:task_snooze", args=[book["upcoming"].pk]), {"until": "soon"}, follow=True)
    assert "Snooze until a day after today." in bad.content.decode()
    assert client.post(reverse("journeys:task_take", args=[book["pooled"].pk])).status_code == 302
    detail = reverse("journeys:task_detail", args=[book["overdue_high"].pk])
    assert client.post(detail, {"body": "Escalated to support"}).status_code == 302
    assert "Escalated to support" in client.get(detail).content.decode()
    assert client.get(reverse("journeys:task_detail", args=[999_999])).status_code == 404


def test_open_high_priority_tasks_is_point_in_time():
    account = AccountFactory()
    TaskFactory(account=account, priority=Priority.HIGH, created_at=at(dt.date(2024, 6, 1)))
    TaskFactory(
        account=account,
        priority=Priority.HIGH,
        created_at=at(dt.date(2024, 6, 1)),
        status="done",
        completed_at=at(dt.date(2024, 6, 15)),
    )
    TaskFactory(account=account, priority=Priority.HIGH, created_at=at(dt.date(2024, 6, 25)))
    TaskFactory(account=account, priority=Priority.NORMAL, created_at=at(dt.date(2024, 6, 1)))
    counts = {day: open_high_priority_tasks(dt.date(2024, 6, day), [account.pk])[account.pk] for day in (1, 10, 20, 30)}
    assert counts == {1: 2.0, 10: 2.0, 20: 1.0, 30: 2.0}
    assert EXTRA_FEATURES["open_high_priority_tasks"] is open_high_priority_tasks
    assert "nps" in EXTRA_FEATURES
    assert Task.objects.count() == 4
