"""The Content-Security-Policy (issue 12): every response carries it, no page of ours holds an inline script, an
inline event handler or a javascript: URL, and in chromium with the policy on an account page draws its charts and the
API docs page shows the operations."""

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser import CHROMIUM, CHROMIUM_ARGS, watch
from tests.factories import SuccessPlanFactory, TaskFactory
from tests.web.conftest import book

POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
}


def policy(response) -> set[str]:
    """The header's directives (django-csp writes them in no fixed order)."""
    return set(response["Content-Security-Policy"].split("; "))


class InlineCode(HTMLParser):
    """Collects what the policy would block: <script> without src (JSON data blocks are fine), on* attributes and
    javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_every_response_carries_the_policy(client, alice):
    assert policy(client.get("/auth/login/")) == POLICY
    client.force_login(alice)
    assert policy(client.get("/portfolio/")) == POLICY
    assert policy(client.get("/api/accounts/")) == POLICY


def test_the_pages_hold_no_inline_code(client, alice, edna, ada):
    (account, *_) = book(n=6, owner=alice)
    task = TaskFactory(account=account, owner=alice)
    SuccessPlanFactory(account=account)
    pages = {
        alice: [
            "/portfolio/",
            f"/accounts/{account.pk}/",
            f"/accounts/{account.pk}/success-plan/",
            "/renewals/",
            f"/renewals/{account.contracts.get().pk}/forecast/",
            "/tasks/",
            f"/tasks/{task.pk}/",
            "/journey/",
            "/surveys/",
            "/playbooks/",
            "/preferences/",
        ],
        edna: ["/leadership/"],
        ada: [
            "/status/",
            "/imports/",
            "/api/docs/",
            reverse("admin:index"),
            reverse("admin:accounts_writekey_changelist"),
        ],
    }
    found = {}
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            if inline := inline_code(response.content.decode()):
                found[url] = inline
    client.logout()
    for url in ["/auth/login/", "/no-such-page/"]:
        if inline := inline_code(client.get(url).content.decode()):
            found[url] = inline
    assert found == {}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_charts_and_api_docs_work_with_the_policy_on(live_server, alice, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    (account,) = book(n=1, owner=alice, as_of=timezone.localdate() - dt.timedelta(days=1))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=live_server.url, viewport={"width": 1440, "height": 900})
        problems = watch(page)
        page.goto(f"/auth/login/?next=/accounts/{account.pk}/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/accounts/{account.pk}/")
        sync_api.expect(page.locator("div.chart.js-plotly-plot .main-svg").first).to_be_visible()
        figures = page.locator("div.chart[data-figure]").count()
        assert figures >= 2 and page.locator("div.chart.js-plotly-plot").count() == figures  # each one drawn
        width = page.locator("div.chart").first.bounding_box()["width"]
        page.set_viewport_size({"width": 390, "height": 844})  # Plotly's responsive config follows the window
        page.wait_for_function(  # a function, not an expression: Playwright evals an expression, which the CSP refuses
            f"() => document.querySelector('div.chart .main-svg').getBoundingClientRect().width < {width}"
        )
        page.goto("/api/docs/")  # Swagger UI from its own script file (the split view)
        sync_api.expect(page.locator(".opblock").first).to_be_visible()
        browser.close()
    assert problems == []
