"""A CSM opens 'My tasks', completes a playbook task, records a success plan check-in; the account's timeline
shows both. Drives Debian's chromium through Playwright against the live server; screenshots go to
artifacts/screenshots/."""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from health.models import AccountSnapshot
from journeys.models import CheckIn, Task, Trigger
from journeys.services import check_ins_schedule, playbooks_evaluate
from tests.browser import CHROMIUM, CHROMIUM_ARGS, watch
from tests.factories import AccountFactory, PlaybookFactory, PlaybookStepFactory, SuccessPlanFactory, TaskFactory

sync_api = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium"),
]


@contextmanager
def chromium_page():
    """A page of Debian's chromium. Playwright's sync API switches the ORM to another context while it runs (and
    so to another connection): create the data before and check the database after, not inside. No page may
    violate the Content-Security-Policy or throw."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        problems = watch(page)
        try:
            yield page
        finally:
            browser.close()
        assert problems == [], problems


def test_a_csm_finishes_a_playbook_task_and_records_a_check_in(live_server, alice, monkeypatch):
    # Playwright's sync API runs an event loop in this thread while it is open; set for this test only (a leak
    # into the environment would fail the deployment check of other tests' subprocesses).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    today = timezone.now().date()
    account = AccountFactory(owner=alice, name="Acme Robotics")
    AccountSnapshot.objects.create(account=account, as_of=today, acv=Decimal(0), health=25, band="red")
    playbook = PlaybookFactory(name="Red account rescue", trigger=Trigger.HEALTH_RED)
    PlaybookStepFactory(playbook=playbook, title="Call {account} about their health", due_in_days=0)
    playbooks_evaluate(as_of=today)
    SuccessPlanFactory(account=account, created_at=timezone.now() - dt.timedelta(days=200))
    check_ins_schedule(as_of=today)
    task = Task.objects.get(playbook=playbook)
    with chromium_page() as page:
        _click_through(page, live_server.url, task=task, account=account)

    task.refresh_from_db()
    check_in = CheckIn.objects.get(plan__account=account)
    assert (task.status, task.completed_by) == ("done", alice)
    assert (check_in.achieved, check_in.task.status) == ("yes", "done")


def _click_through(page, url: str, *, task: Task, account) -> None:
    """Log in as alice, finish the task on 'My tasks', record a check-in, and read the timeline."""
    page.goto(f"{url}/auth/login/?next=/tasks/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "password")
    page.get_by_role("button", name="Log in").click()  # not the header's language switch
    page.wait_for_url(f"{url}/tasks/")
    row = page.locator(f"#task-{task.pk}")
    sync_api.expect(row).to_contain_text("Call Acme Robotics about their health")
    sync_api.expect(page.locator("body")).to_contain_text("Success plan check-in")
    page.screenshot(path=SCREENSHOTS / "journeys-my-tasks.png", full_page=True)

    row.get_by_role("button", name="Done", exact=False).first.click()
    sync_api.expect(page.locator(f"#task-{task.pk} .band-green")).to_have_text("Done")
    page.screenshot(path=SCREENSHOTS / "journeys-task-done.png", full_page=True)

    page.goto(f"{url}/accounts/{account.pk}/success-plan/")
    page.check("input[name=achieved][value=yes]")
    page.fill("textarea[name=notes]", "Robots on every line, reporting live")
    page.get_by_role("button", name="Record check-in").click()
    sync_api.expect(page.locator(".messages")).to_contain_text("Check-in recorded.")
    timeline = page.locator("ol.timeline")
    sync_api.expect(timeline).to_contain_text("Task done: Call Acme Robotics about their health")
    sync_api.expect(timeline).to_contain_text("Success plan check-in: achieved yes")
    sync_api.expect(timeline).to_contain_text("Robots on every line, reporting live")
    page.screenshot(path=SCREENSHOTS / "journeys-success-plan.png", full_page=True)


def test_a_csm_completes_a_task_and_schedules_a_check_in(live_server, alice, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    today = timezone.now().date()
    account = AccountFactory(owner=alice, name="Globex")
    TaskFactory(account=account, owner=alice, title="Send Globex the QBR deck", due_date=today)
    plan = SuccessPlanFactory(account=account, created_at=timezone.now() - dt.timedelta(days=30))
    day = today + dt.timedelta(days=10)
    with chromium_page() as page:
        _complete_and_schedule(page, live_server.url, account=account, day=day)

    plan.refresh_from_db()
    assert plan.next_check_in == day
    assert Task.objects.get(title="Send Globex the QBR deck").status == "done"


def _complete_and_schedule(page, url: str, *, account, day: dt.date) -> None:
    page.goto(f"{url}/auth/login/?next=/tasks/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "password")
    page.get_by_role("button", name="Log in").click()  # not the header's language switch
    page.wait_for_url(f"{url}/tasks/")
    sync_api.expect(page.locator("#count-due-today")).to_have_text("1")
    page.get_by_role("button", name="Mark “Send Globex the QBR deck” done").click()
    sync_api.expect(page.locator("#count-due-today")).to_have_text("0")  # in place, without a reload
    sync_api.expect(page.locator("tr", has_text="Send Globex the QBR deck")).to_contain_text("Done")

    page.goto(f"{url}/accounts/{account.pk}/success-plan/")
    page.fill("input[name=next_check_in]", day.isoformat())
    page.get_by_role("button", name="Schedule").click()
    sync_api.expect(page.locator(".messages")).to_contain_text("Next check-in scheduled.")
    sync_api.expect(page.locator("#next-check-in")).to_contain_text("Next check-in")
    page.screenshot(path=SCREENSHOTS / "journeys-check-in-scheduled.png", full_page=True)

    for width, height in ((390, 844), (1440, 900)):
        page.set_viewport_size({"width": width, "height": height})
        card = page.locator("#check-in-section").bounding_box()
        for selector in ("textarea[name=notes]", "input[name=next_check_in]"):
            box = page.locator(selector).bounding_box()
            assert box["x"] + box["width"] <= min(card["x"] + card["width"], width) + 1, (width, selector)
