"""Browser tests: Playwright drives Debian's chromium (headless) against the live server. A CSM filters the
portfolio, exports it, opens an account and logs a call; an AE sets a forecast category and exports the renewals;
the leadership and status pages render their charts; a manager reassigns three accounts in bulk; a CSM goes from the
"ARR at risk" card to an at-risk renewal within 90 days, names a sponsor and logs a QBR; a phone shows the key
columns and the first renewal on the first screen. Each page is saved to artifacts/screenshots/<name>.png."""

import csv
import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import Account, Activity, Contact, Contract
from csm_platform.web.models import RenewalForecast
from csm_platform.web.services import leadership_night_write
from health.models import RevenueSnapshot
from tests.browser import CHROMIUM, CHROMIUM_ARGS, watch
from tests.factories import AccountFactory, ContractFactory
from tests.web.conftest import book

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    problems = watch(page)
    yield page
    context.close()
    assert problems == [], problems  # no CSP violation and no JavaScript error on any page (htmx, Plotly)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def world(alice, bob, mallory, andy, edna, ada, today):
    as_of = today - dt.timedelta(days=1)
    accounts = book(n=30, owner=alice, ae=andy, as_of=as_of)
    book(n=10, owner=bob, ae=andy, prefix="BOB", as_of=as_of)
    RevenueSnapshot.objects.create(
        as_of=as_of,
        arr="1000000.00",
        customers=40,
        million_customers=0,
        nrr=1.04,
        grr=0.93,
        logo_churn=0.06,
        waterfall={
            "start": "900000",
            "new": "150000",
            "expansion": "60000",
            "contraction": "40000",
            "churn": "70000",
            "end": "1000000",
        },
    )
    leadership_night_write(as_of=as_of)  # the night's step the leadership page reads
    return accounts


def log_in(page, username: str) -> None:
    page.goto("/auth/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def shoot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_csm_filters_exports_opens_an_account_and_logs_a_call(page, world, alice):
    log_in(page, "alice")
    assert "/portfolio/?owner=" in page.url
    assert page.get_by_role("heading", name="My portfolio").is_visible()
    assert page.locator("#results tbody tr").count() == 30
    shoot(page, "portfolio")

    page.locator("details.multi > summary", has_text="Health").click()
    page.get_by_label("Red", exact=True).check()  # htmx: results swapped in place, the URL pushed
    page.wait_for_url("**band=red**")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 10")
    assert page.locator("#results .figure .value").first.inner_text() == "10"
    shoot(page, "portfolio-filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert download.value.suggested_filename.startswith("portfolio-")
    assert len(exported) == 11 and exported[0][0] == "Account"

    page.get_by_role("link", name=world[0].name).click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name=world[0].name).is_visible()
    assert page.locator("div.chart.js-plotly-plot").count() >= 1  # drawn by static/js/charts.js
    shoot(page, "account")

    page.get_by_label("Kind", exact=True).select_option("call")
    page.get_by_label("Subject").fill("Renewal kick-off")
    page.get_by_label("Notes").fill("Agreed on a QBR next month.")
    page.get_by_role("button", name="Log activity").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Activity logged.").is_visible()
    assert page.locator("#timeline").get_by_text("Renewal kick-off").is_visible()
    assert Activity.objects.get(subject="Renewal kick-off").author == alice
    shoot(page, "account-activity-logged")


def test_an_ae_sets_a_forecast_and_exports_the_renewals(page, world, andy):
    log_in(page, "andy")
    page.goto("/renewals/")
    assert "account_executive=" in page.url and "window=90" in page.url
    shoot(page, "renewals")

    first = world[0].contracts.get()
    page.get_by_role("link", name=f"Set the forecast of {first.external_id}").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Commit").check()
    page.get_by_label("Why").fill("PO received")
    shoot(page, "forecast")
    page.get_by_role("button", name="Save forecast").click()
    page.wait_for_load_state("networkidle")
    assert "/renewals/?" in page.url
    assert page.get_by_text(f"Forecast of {first.external_id} set to Commit.").is_visible()
    assert RenewalForecast.objects.get(contract=first).category == "commit"
    shoot(page, "renewals-after-forecast")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    header = exported[0]
    assert "Commit" in [row[header.index("Forecast")] for row in exported[1:]]


def test_leadership_status_and_a_tablet(page, world):
    log_in(page, "edna")
    page.goto("/leadership/")
    page.wait_for_load_state("networkidle")
    assert page.locator("div.chart.js-plotly-plot").count() >= 3
    shoot(page, "leadership")
    page.goto("/auth/login/")
    page.context.clear_cookies()
    log_in(page, "ada")
    page.goto("/status/")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="System status").is_visible()
    shoot(page, "status")

    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto("/portfolio/")
    page.keyboard.press("Tab")  # keyboard users first reach the skip link
    assert page.evaluate("document.activeElement.className") == "skip-link"
    shoot(page, "portfolio-tablet")


def test_a_manager_reassigns_three_accounts_in_bulk(page, world, mallory, alice):
    teammate = type(alice).objects.create_user(
        username="tess", first_name="Tess", last_name="Teammate", password="password", team=alice.team
    )
    teammate.groups.add(*alice.groups.all())
    log_in(page, "mallory")
    assert "/portfolio/?team=" in page.url
    for account in world[:3]:
        page.get_by_label(f"Select {account.name}", exact=True).check()
    bulk = page.get_by_role("form", name="Reassign the ticked accounts")
    bulk.get_by_label("CSM", exact=True).select_option(label="Tess Teammate")
    shoot(page, "portfolio-bulk-assign")
    bulk.get_by_role("button", name="Assign").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("3 accounts reassigned.").is_visible()
    assert sorted(Account.objects.filter(owner=teammate).values_list("name", flat=True)) == [a.name for a in world[:3]]
    shoot(page, "portfolio-bulk-assigned")


def test_a_csm_goes_from_arr_at_risk_to_a_renewal_names_a_sponsor_and_logs_a_qbr(page, world, alice):
    log_in(page, "alice")
    page.locator("#portfolio-arr-at-risk a").click()
    page.wait_for_url("**at_risk=on**")
    at_risk = page.locator("#results tbody tr").count()
    assert at_risk == 10  # red health or high risk: every third account of the book
    page.get_by_label("Renewal", exact=True).select_option("90")
    page.wait_for_url("**renewal=90**")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 4")  # i = 0, 3, 6, 9
    shoot(page, "portfolio-at-risk-renewing")
    first = world[0]
    page.get_by_role("link", name=first.name, exact=True).click()
    page.wait_for_load_state("networkidle")

    page.get_by_text("Add a contact").click()
    contacts = page.locator("#contacts")
    contacts.get_by_label("Name", exact=True).fill("Sam Sponsor")
    contacts.get_by_label("Title", exact=True).fill("CFO")
    contacts.get_by_label("Executive sponsor", exact=True).check()
    contacts.get_by_role("button", name="Add contact").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Contact Sam Sponsor added.").is_visible()
    sponsor = Contact.objects.get(account=first, name="Sam Sponsor")
    assert sponsor.is_executive_sponsor

    log = page.get_by_role("form", name="Log an activity")
    log.get_by_label("Kind", exact=True).select_option("qbr")
    log.get_by_label("Subject", exact=True).fill("Q3 business review")
    log.get_by_label("With", exact=True).select_option(label="Sam Sponsor")
    log.get_by_role("button", name="Log activity").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#timeline").get_by_text("Q3 business review").is_visible()
    qbr = Activity.objects.get(subject="Q3 business review")
    assert (qbr.kind, qbr.contact, qbr.author) == ("qbr", sponsor, alice)
    shoot(page, "account-qbr-logged")


def test_a_phone_shows_the_key_columns_and_the_first_renewal_on_the_first_screen(page, world):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "andy")
    page.goto("/renewals/")
    page.wait_for_load_state("networkidle")
    headers = page.locator("#results thead th").all_inner_texts()
    assert [h.strip().rstrip("▲▼ ") for h in headers[:4]] == ["Account", "Health", "ACV", "Ends"]
    first_row = page.locator("#results tbody tr").first.bounding_box()
    assert first_row["y"] < 1300, first_row
    shoot(page, "renewals-phone")
    page.goto("/portfolio/?owner=")
    headers = page.locator("#results thead th").all_inner_texts()
    assert [h.strip() for h in headers[:4]] == ["Account", "Health", "ACV", "Next renewal"]
    shoot(page, "portfolio-phone")


def test_an_ae_reviews_the_quarter_by_state_and_sets_a_forecast_amount(page, alice, andy):
    """Open, renewed and churned totals of the quarter, then an amount and a next step on an open renewal."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC), tick=True):
        as_of = dt.date(2026, 12, 6)
        open_one, renewed_one = book(n=2, owner=alice, ae=andy, prefix="QTR", as_of=as_of)
        for account, end in ((open_one, dt.date(2026, 12, 20)), (renewed_one, dt.date(2026, 11, 30))):
            account.contracts.update(start_date=end - dt.timedelta(days=364), end_date=end)
        old = renewed_one.contracts.get()
        Contract.objects.create(
            account=renewed_one,
            external_id="QTR-RENEWAL",
            kind=Contract.Kind.RENEWAL,
            renews=old,
            start_date=dt.date(2026, 12, 1),
            end_date=dt.date(2027, 11, 30),
            recurring_tcv=old.recurring_tcv,
        )
        gone = AccountFactory(owner=alice, account_executive=andy, name="Gone Co")
        ContractFactory(
            account=gone, external_id="QTR-GONE", start_date=dt.date(2025, 10, 16), end_date=dt.date(2026, 10, 15)
        )

        log_in(page, "andy")
        page.goto("/renewals/")
        page.get_by_role("link", name="2026-Q4").click()
        page.wait_for_load_state("networkidle")
        assert "quarter=2026-Q4" in page.url
        for total in ("#up-for-renewal", "#total-renewed", "#total-churned"):
            assert any(digit in page.locator(total).inner_text() for digit in "123456789"), total
        shoot(page, "renewals-quarter")

        contract = open_one.contracts.get()
        page.get_by_role("link", name=f"Set the forecast of {contract.external_id}").click()
        page.wait_for_load_state("networkidle")
        page.get_by_label("Probable").check()
        page.get_by_label("Amount").fill("11000")
        page.get_by_label("Next step").fill("Pricing call with the CFO on Friday")
        page.get_by_role("button", name="Save forecast").click()
        page.wait_for_load_state("networkidle")

        forecast = RenewalForecast.objects.get(contract=contract)
        assert (forecast.category, forecast.amount, forecast.next_step) == (
            "probable",
            Decimal("11000.00"),
            "Pricing call with the CFO on Friday",
        )
        assert "Pricing call with the CFO on Friday" in page.content()
