"""My tasks with each account's context, counters updated in place, errors beside the form that caused them, the
task page (edit title, due date and owner within scope), a manager's pooled queue, and per-plan check-in dates."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from health.models import AccountSnapshot
from journeys.errors import JourneyError
from journeys.models import CheckIn, SuccessPlan, Task
from journeys.selectors.tasks import my_tasks, task_owner_choices
from journeys.services import check_ins_schedule, success_plan_next_check_in_set, task_update
from tests.factories import AccountFactory, ContractFactory, SuccessPlanFactory, TaskFactory
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def frozen():
    with time_machine.travel(at(TODAY), tick=False):
        yield


@pytest.fixture
def acme(alice):
    account = AccountFactory(owner=alice, name="Acme")
    ContractFactory(account=account, start_date=dt.date(2026, 3, 4), end_date=dt.date(2027, 3, 3))
    AccountSnapshot.objects.create(
        account=account, as_of=TODAY - dt.timedelta(days=1), acv=Decimal("12000"), health=31, band="red"
    )
    return account


def test_my_tasks_carry_health_acv_and_renewal_set_based(alice, acme, frozen):
    for n in range(3):
        TaskFactory(account=acme, owner=alice, due_date=TODAY + dt.timedelta(days=n))
    my_tasks(user=alice, today=TODAY)  # the user's roles and permissions are cached from then on
    with CaptureQueriesContext(connection) as queries:
        listing = my_tasks(user=alice, today=TODAY)
    task = listing.due_today[0]
    assert (task.health, task.band, task.acv, task.renews_on) == (31, "red", Decimal("12000.00"), dt.date(2027, 3, 3))
    TaskFactory.create_batch(10, account=AccountFactory(owner=alice), owner=alice, due_date=TODAY)
    with CaptureQueriesContext(connection) as more:
        my_tasks(user=alice, today=TODAY)
    assert len(more) == len(queries)


def test_the_page_shows_priority_health_acv_and_renewal(client, alice, acme, frozen):
    TaskFactory(account=acme, owner=alice, due_date=TODAY, priority=3, title="Call Acme")
    client.force_login(alice)
    row = re.search(r'<tr id="task-\d+">(.*?)</tr>', client.get(reverse("journeys:my_tasks")).content.decode(), re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1)))
    assert "Call Acme" in text and "High" in text and "31" in text and "12,000" in text


def test_done_updates_the_counters_in_place(client, alice, acme, frozen):
    today = [TaskFactory(account=acme, owner=alice, due_date=TODAY) for _ in range(2)]
    client.force_login(alice)
    assert re.search(r'id="count-due-today">2<', client.get(reverse("journeys:my_tasks")).content.decode())
    response = client.post(reverse("journeys:task_done", args=[today[0].pk]), headers=HTMX).content.decode()
    assert f'id="task-{today[0].pk}"' in response and "band-green" in response
    assert 'id="task-counts" hx-swap-oob="true"' in response
    assert re.search(r'id="count-due-today">1<', response)


def test_snoozing_to_a_past_day_says_why_beside_the_form(client, alice, acme, frozen):
    task = TaskFactory(account=acme, owner=alice, due_date=TODAY)
    client.force_login(alice)
    response = client.post(reverse("journeys:task_snooze", args=[task.pk]), {"until": "2026-12-01"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the row, with the message next to the snooze form
    assert f'<p class="error" role="alert" id="task-error-{task.pk}">Snooze until a day after today.</p>' in html
    assert 'min="2026-12-08"' in html
    task.refresh_from_db()
    assert task.snoozed_until is None


def test_a_manager_sees_the_pooled_queue_not_well_done(client, mallory, frozen):
    pooled = AccountFactory(segment="tech_touch")
    TaskFactory.create_batch(18, account=pooled, owner=None, pool_segment="tech_touch", due_date=TODAY)
    client.force_login(mallory)
    html = client.get(reverse("journeys:my_tasks")).content.decode()
    assert "Well done" not in html
    assert "No tasks of your own; 18 tasks wait in the pooled queue below." in html
    assert re.search(r'id="count-pooled">18<', html)


def test_the_task_page_is_styled_edits_and_does_not_repeat_its_row(client, alice, acme, mallory, frozen):
    task = TaskFactory(account=acme, owner=alice, due_date=TODAY, title="Call Acme")
    client.force_login(alice)
    url = reverse("journeys:task_detail", args=[task.pk])
    html = client.get(url).content.decode()
    assert '<link rel="stylesheet"' in html and f'id="task-{task.pk}"' not in html
    assert html.count(">Call Acme<") == 1
    edit = reverse("journeys:task_edit", args=[task.pk])
    response = client.post(edit, {"title": "Call Acme's CFO", "due_date": "2026-12-10", "owner": mallory.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_date, task.owner) == ("Call Acme's CFO", dt.date(2026, 12, 10), mallory)
    assert client.get(edit).status_code == 302  # the form's URL never errors on GET


def test_the_owner_stays_within_scope(alice, bob, mallory, ada, acme):
    task = TaskFactory(account=acme, owner=alice)
    assert set(task_owner_choices(account_id=acme.pk)) == {alice, mallory, ada}
    with pytest.raises(JourneyError, match="may not work on Acme"):
        task_update(task_id=task.pk, user=alice, title="x", due_date=TODAY, owner_id=bob.pk)
    task_update(task_id=task.pk, user=alice, title="x", due_date=TODAY, owner_id=ada.pk)
    assert Task.objects.get(pk=task.pk).owner == ada


def test_an_edit_refused_is_shown_beside_the_form(client, alice, bob, acme, frozen):
    task = TaskFactory(account=acme, owner=alice)
    client.force_login(alice)
    response = client.post(
        reverse("journeys:task_edit", args=[task.pk]), {"title": " ", "due_date": "2026-12-10", "owner": bob.pk}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice" in html and 'id="task-edit-heading"' in html


def test_an_empty_task_title_is_shown_beside_the_form(client, alice, acme, frozen):
    client.force_login(alice)
    url = reverse("journeys:task_create", args=[acme.pk])
    response = client.post(url, {"title": "", "due_date": "2026-12-10", "priority": 2}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the tasks section only: the page stays where it is
    section = re.search(r'<div id="open-tasks-section">(.*?)</details>', html, re.S).group(1)
    assert "This field is required." in section
    assert client.get(url).status_code == 302
    ok = client.post(url, {"title": "Send the deck", "due_date": "2026-12-10", "priority": 2}, headers=HTMX)
    assert ok.headers["HX-Refresh"] == "true" and Task.objects.filter(title="Send the deck").exists()


def test_a_plan_check_in_date_is_shown_and_asked_once(client, alice, acme, frozen):
    plan = SuccessPlanFactory(account=acme, created_at=at(dt.date(2026, 11, 1)))
    client.force_login(alice)
    page = client.get(reverse("journeys:success_plan", args=[acme.pk])).content.decode()
    assert "Next check-in: <strong>" in page  # from the workspace interval: six months after the plan
    assert page.count("Has the customer achieved what they expected?") == 1
    url = reverse("journeys:next_check_in", args=[acme.pk])
    past = client.post(url, {"next_check_in": "2026-12-01"}, headers=HTMX)
    assert "Schedule the check-in for today or a later day." in past.content.decode()
    assert client.post(url, {"next_check_in": "2026-12-09"}).status_code == 302
    plan.refresh_from_db()
    assert plan.next_check_in == dt.date(2026, 12, 9)
    assert check_ins_schedule(as_of=dt.date(2026, 12, 8)) == 0
    assert check_ins_schedule(as_of=dt.date(2026, 12, 9)) == 1
    assert check_ins_schedule(as_of=dt.date(2026, 12, 9)) == 0
    assert check_ins_schedule(as_of=dt.date(2026, 12, 10)) == 0
    check_in = CheckIn.objects.get(plan=plan)
    assert (check_in.asked_on, check_in.task.owner, check_in.task.source) == (dt.date(2026, 12, 9), alice, "check_in")
    assert SuccessPlan.objects.get(pk=plan.pk).next_check_in is None  # the interval counts from this one on


def test_a_check_in_cannot_be_scheduled_in_the_past(alice, acme):
    with pytest.raises(JourneyError, match="today or a later day"):
        success_plan_next_check_in_set(account_id=acme.pk, user=alice, on=TODAY - dt.timedelta(days=1), today=TODAY)
