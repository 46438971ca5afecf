"""axe-core (issue 11) on every page the navigation offers each role, and the pages one opens from them (an
account, its success plan, a task, a forecast, the churn model card, preferences, imports, 403 and 404), at 1440×900
and on a 390×844 phone: no violation of serious or critical impact. A test per width, one context per role;
the pages are also watched for Content-Security-Policy violations and JavaScript errors. axe-core comes from npm:
`npm ci --prefix tests/browser`."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Activity
from health.models import ChurnModelVersion
from health.pipeline import recompute
from journeys.models import JourneySettings
from journeys.services import playbooks_evaluate
from tests.browser import AXE, CHROMIUM, CHROMIUM_ARGS, watch
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    StageChangeFactory,
    StageFactory,
    SuccessPlanFactory,
    SurveyResponseFactory,
    TaskFactory,
)
from tests.web.conftest import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
BLOCKING = {"serious", "critical"}
# Panels that htmx loads after the page (hx-trigger="load", swapped outerHTML) are checked once they are in.
DEFERRED_PANELS_LOADED = "() => !document.querySelector('[hx-trigger=\"load\"]')"
STAGES = ["Awareness", "Research", "Decision", "Purchase (onboarding)", "Adoption", "Advocacy"]


def small_book(*, alice, bob, andy) -> dict:
    """A few accounts with contracts, contacts, touches, stages, survey answers, a playbook's tasks and a success
    plan, then one night (so the snapshots, revenue and the pages' stored figures are those a night writes)."""
    today = timezone.localdate()
    as_of = today - dt.timedelta(days=1)
    accounts = book(n=12, owner=alice, ae=andy, as_of=as_of) + book(n=4, owner=bob, ae=andy, prefix="BOB", as_of=as_of)
    stages = {name: StageFactory(name=name, order=order) for order, name in enumerate(STAGES, start=1)}
    JourneySettings.objects.update_or_create(pk=1, defaults={"adoption_stage": stages["Adoption"], "value_event": ""})
    for i, account in enumerate(accounts):
        StageChangeFactory(account=account, to_stage=stages[STAGES[3 + i % 3]], changed_at=timezone.now())
        ContactFactory(account=account, is_executive_sponsor=i % 2 == 0)
        ActivityFactory(account=account, author=account.owner, kind=Activity.Kind.CALL, subject=f"Call {i}")
        SurveyResponseFactory(account=account, score=i % 11)
    playbook = PlaybookFactory(name="Red account rescue", trigger="health_red")
    PlaybookStepFactory(playbook=playbook, title="Call {account} about their health", due_in_days=2)
    task = TaskFactory(account=accounts[0], owner=alice, title="Send the QBR deck", due_date=today)
    SuccessPlanFactory(account=accounts[0])
    recompute(as_of=as_of)
    playbooks_evaluate(as_of=as_of)
    model = ChurnModelVersion.objects.order_by("-trained_at").first() or ChurnModelVersion.objects.create(
        trained_at=timezone.now(),
        as_of=as_of,
        kind="logistic",
        card={"kind": "logistic", "n_outcomes": 120, "backtest": {"roc_auc": 0.81, "holdout": "latest 20% by time"}},
        model=b"",
    )
    account = accounts[0]
    return {
        "account": f"/accounts/{account.pk}/",
        "success plan": f"/accounts/{account.pk}/success-plan/",
        "task": f"/tasks/{task.pk}/",
        "forecast": f"/renewals/{account.contracts.get().pk}/forecast/",
        "churn model": f"/churn-models/{model.pk}/",
        "preferences": "/preferences/",
        "password": "/auth/password_change/",
        "imports": "/imports/",
        "status (403 for most)": "/status/",
        "404": "/accounts/999999/",
    }


def axe(page) -> list[dict]:
    """axe-core's violations of serious or critical impact on the page as it is now."""
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(url: str, width: str, violation: dict) -> str:
    nodes = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
    return f"{width} {url}: {violation['id']} ({violation['impact']}, {len(violation['nodes'])}×: {nodes})"


@pytest.mark.parametrize("width", WIDTHS)  # one test per width: the suite's processes crawl them side by side
def test_every_page_of_every_role_at_both_widths(width, live_server, alice, bob, mallory, andy, ada, edna, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not AXE.exists():
        pytest.skip("axe-core is missing: npm ci --prefix tests/browser")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    details = small_book(alice=alice, bob=bob, andy=andy)
    found, problems, visited = [], [], 0
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        anonymous = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        anonymous.add_init_script(path=str(AXE))  # in every page, before its own scripts; exempt from the CSP
        page = anonymous.new_page()
        problems += watch(page)
        for url in ("/auth/login/", "/no-such-page/"):
            page.goto(url)
            found += [describe(url, width, v) for v in axe(page)]
            visited += 1
        anonymous.close()
        for user in (alice, mallory, andy, ada, edna):
            context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
            context.add_init_script(path=str(AXE))
            page = context.new_page()
            problems += watch(page)
            page.goto("/auth/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill("password")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda address: "/auth/login/" not in address)
            nav = page.locator("nav[aria-label=Main] a").evaluate_all("links => links.map(a => a.pathname)")
            for url in dict.fromkeys([*nav, *details.values()]):
                page.goto(url)
                page.wait_for_function(DEFERRED_PANELS_LOADED)
                found += [describe(url, f"{width} {user.username}", v) for v in axe(page)]
                visited += 1
            context.close()
        browser.close()
    assert visited >= 5 * len(details)
    assert problems == []
    assert found == [], "\n".join(found)
