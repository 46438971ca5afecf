"""axe-core (issue 11) on the Django admin and the API's docs page, at 1440×900 and on a 390×844 phone: no violation
of serious or critical impact, no Content-Security-Policy violation, no JavaScript error, every page answered 200.

The admin is crawled as a superuser (the demo's ``admin``): the index, each app's index, and for every model of
``admin.site._registry`` its changelist, its add form and the change form of its first row (``admin_book`` gives every
changelist a row, and the inlines of those rows theirs), then the admin's own screens (the scorecard's preview, a
user's password form, an object's history and delete confirmation, the TOTP device's QR page, the playbook dry run the
playbooks' list links to) and the login page. Then as a CS manager given the staff flag, the pages the admin draws
otherwise for them: the change forms they may only view. ``/api/docs/`` (Swagger UI; no ReDoc page is routed) is
checked as loaded, then with operations tried out and the Authorize dialog open. One browser, one context per role
and width, as in test_accessibility.py, whose helpers this reuses."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.ingestion.services import ingest_batch, write_key_create
from accounts.models import Account, StripeCustomer, StripeEvent, User
from accounts.roles import Role
from accounts.usage.services import usage_rollups_fold_all
from csm_platform.web.models import QuarterTarget
from health.models import AccountSnapshot, RecomputeRun, Scorecard, ScorecardPreview
from health.services import scorecard_preview_compute, scorecard_preview_request, scorecard_publish
from journeys.models import (
    CheckIn,
    Delivery,
    DeliveryAttempt,
    DigestRun,
    Endpoint,
    EventKind,
    Outcome,
    Playbook,
    PlaybookFiring,
    PoolMember,
    Stage,
    StageMilestone,
    SuccessPlan,
    Task,
    TaskComment,
    WebhookEvent,
)
from tests.browser import AXE, CHROMIUM, CHROMIUM_ARGS, watch
from tests.factories import ExchangeRateFactory, SourceFactory, UserFactory
from tests.web.test_accessibility import WIDTHS, axe, describe, small_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Swagger UI draws the operations after fetching the schema.
DOCS_DRAWN = "() => document.querySelectorAll('.opblock').length > 0"
# A button's colours fade for .3 s after a click: checked once nothing moves (mid-fade, its contrast is not its own).
SETTLED = "() => document.getAnimations().every(animation => animation.playState !== 'running')"
# Then, one after the other on the same page: a list operation opened, tried out and executed (its parameters, the
# request, the response), an operation with a request body tried out, the Authorize dialog. (What, the clicks, what
# shows it is drawn.)
DOCS_STATES = [
    (
        "a list operation executed",
        [".opblock-get .opblock-summary-control", ".opblock-get .try-out__btn", ".opblock-get .execute"],
        "() => document.querySelector('.opblock-get .live-responses-table .response-col_status') !== null",
    ),
    (
        "an operation with a body tried out",
        [".opblock-post .opblock-summary-control", ".opblock-post .try-out__btn"],
        "() => document.querySelector('.opblock-post textarea.body-param__text') !== null",
    ),
    ("the Authorize dialog", [".btn.authorize"], "() => document.querySelector('.dialog-ux .modal-ux') !== null"),
]


def admin_book(*, root: User, alice: User, bob: User, andy: User) -> None:
    """The pages' book (test_accessibility.small_book: accounts, a night, tasks, a plan) and a row for every other
    model of the admin, with rows in the inlines of the first object each changelist lists."""
    small_book(alice=alice, bob=bob, andy=andy)
    now = timezone.now()
    if not Scorecard.objects.exists():  # a transactional test before this one may have flushed the migration's
        importlib.import_module("health.migrations.0002_default_scorecard").create_default_scorecard(apps, None)
    scorecard_publish(scorecard_id=Scorecard.objects.get(segment="").pk)
    account = Account.objects.order_by("pk").first()
    ExchangeRateFactory()
    source = SourceFactory(name="Web app")
    write_key_create(source_name=source.name, created_by=root)
    ingest_batch(
        source_id=source.pk,
        messages=[
            {"type": "track", "messageId": "m1", "userId": "u1", "event": "Report Viewed"},  # no account: quarantined
            {"type": "track", "messageId": "m2", "userId": "u2", "event": "Report Viewed", "context": {"groupId": "?"}},
            *(
                {
                    "type": "track",
                    "messageId": f"a{n}",
                    "userId": "u3",
                    "event": "Report Viewed",
                    "context": {"groupId": account.external_id},
                }
                for n in range(3)
            ),
        ],
        received_at=now,
    )
    usage_rollups_fold_all()
    StripeCustomer.objects.create(customer_id="cus_1", account=account, needs_review=True, review_reason="No crm_id")
    StripeEvent.objects.create(event_id="evt_1", type="invoice.paid", created=now, outcome=StripeEvent.Outcome.APPLIED)
    apps.get_model("authtoken", "Token").objects.create(user=root)
    for model in ("AccessAttempt", "AccessFailureLog", "AccessLog"):
        fields = {"get_data": "", "post_data": "", "failures_since_start": 1} if model == "AccessAttempt" else {}
        apps.get_model("axes", model).objects.create(
            username="nobody", ip_address="127.0.0.1", user_agent="test", http_accept="*/*", path_info="/", **fields
        )
    apps.get_model("otp_totp", "TOTPDevice").objects.create(user=root, name="Phone")
    LogEntry.objects.log_actions(  # the admin's own history: the index's recent actions, an account's history page
        user_id=root.pk, queryset=Account.objects.filter(pk=account.pk), action_flag=CHANGE, change_message="Renamed"
    )
    snapshot = AccountSnapshot.objects.order_by("-as_of", "pk").first()
    AccountSnapshot.objects.filter(pk=snapshot.pk).update(
        problems=[{"message": "No usage in the last 30 days.", "fix": "Check the tracking of this account."}]
    )
    run = RecomputeRun.objects.order_by("-started_at").first()
    assert run is not None and run.chunks.exists()
    for stage in Stage.objects.all():
        StageMilestone.objects.create(stage=stage, event_name=f"Milestone of {stage.name}")
    for task in Task.objects.all():
        TaskComment.objects.create(task=task, author=alice, body="Called, left a message.")
    for plan in SuccessPlan.objects.all():
        Outcome.objects.create(plan=plan, description="Roll out to every team", owner=alice, target_date=now.date())
        CheckIn.objects.create(plan=plan, asked_on=now.date())
    if not PlaybookFiring.objects.exists():  # the night fires the red-account playbook when an account is red
        PlaybookFiring.objects.create(
            playbook=Playbook.objects.first(), account=account, occurrence_key="red", as_of=now.date()
        )
    PoolMember.objects.create(user=alice, segment=Account.Segment.TECH_TOUCH)
    DigestRun.objects.create(as_of=now.date(), finished_at=now, sent=3)
    QuarterTarget.objects.create(quarter=f"{now.year}-Q1", target=100000)
    endpoint = Endpoint.objects.create(
        name="Slack", url="https://hooks.example.com/1", events=[EventKind.HEALTH_BAND_CHANGED], secret="s3cret"
    )
    event = WebhookEvent.objects.create(kind=EventKind.HEALTH_BAND_CHANGED, key="k1", payload={}, occurred_at=now)
    delivery = Delivery.objects.create(
        endpoint=endpoint, event=event, payload={}, status=Delivery.Status.FAILED, attempts=1
    )
    DeliveryAttempt.objects.create(delivery=delivery, number=1, attempted_at=now, status_code=500, error="HTTP 500")


def admin_request(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def first_row(model_admin, request) -> str:
    """The change form of the first row the model's changelist shows."""
    first = model_admin.get_changelist_instance(request).get_queryset(request).first()
    assert first is not None, f"{model_admin.opts.label} needs a row in admin_book"
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_change", args=[first.pk])


def admin_pages(root: User) -> list[str]:
    """Every page of the admin, from its own app list as the superuser sees it: the index, each app, each model's
    changelist, add form and the change form of its first row, then the admin's own screens."""
    request = admin_request(root)
    pages = [reverse("admin:index")]
    for app in admin.site.get_app_list(request):
        pages.append(app["app_url"])
        for entry in app["models"]:
            pages += [entry["admin_url"], *([entry["add_url"]] if entry["add_url"] else [])]
            pages.append(first_row(admin.site._registry[entry["model"]], request))
    assert len(pages) == 1 + len(admin.site.get_app_list(request)) + len(admin.site._registry) * 2 + sum(
        bool(model_admin.has_add_permission(request)) for model_admin in admin.site._registry.values()
    ), "a registered model is missing from the superuser's app list"
    account = Account.objects.order_by("pk").first()
    scorecard = Scorecard.objects.get(segment="")
    done = scorecard_preview_request(
        scorecard_id=scorecard.pk, segment="", definition=scorecard.versions.latest("version").definition,
        as_of=timezone.localdate(), user_id=root.pk,
    )  # fmt: skip
    scorecard_preview_compute(preview_id=done.pk)
    pending = ScorecardPreview.objects.create(  # its page polls its progress
        scorecard=None, segment="", definition=done.definition, fingerprint="x", based_on_version=0,
        as_of=timezone.localdate(),
    )  # fmt: skip
    return pages + [
        reverse("admin:health_scorecard_preview", args=[done.pk]),
        reverse("admin:health_scorecard_preview", args=[pending.pk]),
        reverse("admin:password_change"),
        reverse("admin:auth_user_password_change", args=[root.pk]),
        reverse("admin:accounts_account_history", args=[account.pk]),
        reverse("admin:accounts_account_delete", args=[account.pk]),
        reverse("admin:otp_totp_totpdevice_config", args=[apps.get_model("otp_totp", "TOTPDevice").objects.get().pk]),
        reverse("journeys:playbook_dry_run", args=[Playbook.objects.first().pk]),  # the playbooks' list links it
    ]


def view_only_pages(user: User, *, root: User) -> list[str]:
    """What the admin draws otherwise for ``user`` than for the superuser: their index, and the change forms they may
    only view where the superuser may change (drawn read-only, inlines too). Their other pages are the superuser's,
    less what they may not do."""
    request, as_root = admin_request(user), admin_request(root)
    pages = [reverse("admin:index")]
    for app in admin.site.get_app_list(request):
        for entry in app["models"]:
            model_admin = admin.site._registry[entry["model"]]
            if not model_admin.has_change_permission(request) and model_admin.has_change_permission(as_root):
                pages.append(first_row(model_admin, request))
    return pages


def crawl(page, urls: list[str], who: str, *, ready: str | None = None) -> list[str]:
    """Each page's serious and critical violations (and any page not answered 200), once ``ready`` holds."""
    found = []
    for url in urls:
        response = page.goto(url)
        if response.status != 200:
            found.append(f"{who} {url}: answered {response.status}")
            continue
        if ready:
            page.wait_for_function(ready)
        found += [describe(url, who, v) for v in axe(page)]
    return found


def sign_in(context, user: User, *, path: str):
    page = context.new_page()
    page.goto(path)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda address: "/login/" not in address)
    return page


def launch(playwright):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not AXE.exists():
        pytest.skip("axe-core is missing: npm ci --prefix tests/browser")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture
def root(db):
    """A superuser with the admin role, as the demo's ``admin``."""
    return UserFactory(username="root", roles=[Role.ADMIN], is_staff=True, is_superuser=True)


@pytest.mark.parametrize("width", WIDTHS)  # one test per width: the suite's processes crawl them side by side
def test_every_admin_page_as_the_admin_and_a_staff_manager(
    width, live_server, root, alice, bob, mallory, andy, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    admin_book(root=root, alice=alice, bob=bob, andy=andy)
    mallory.is_staff = True
    mallory.save()
    pages = {root: admin_pages(root), mallory: view_only_pages(mallory, root=root)}
    found, problems, visited = [], [], 0
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        anonymous = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        anonymous.add_init_script(path=str(AXE))  # in every page, before its own scripts; exempt from the CSP
        page = anonymous.new_page()
        problems += watch(page)
        found += crawl(page, ["/admin/login/"], width)
        visited += 1
        anonymous.close()
        for user, urls in pages.items():
            context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
            context.add_init_script(path=str(AXE))
            page = sign_in(context, user, path="/admin/login/")
            problems += watch(page)
            found += crawl(page, urls, f"{width} {user.username}")
            visited += len(urls)
            context.close()
        browser.close()
    assert visited > 140
    assert problems == []
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_api_docs_at_both_widths(width, live_server, alice, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    found, problems = [], []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        context.add_init_script(path=str(AXE))
        page = sign_in(context, alice, path="/auth/login/")
        problems += watch(page)
        found += crawl(page, ["/api/docs/"], width, ready=DOCS_DRAWN)
        for state, clicks, ready in DOCS_STATES:
            for selector in clicks:
                page.locator(selector).first.click()
            page.wait_for_function(ready)
            page.wait_for_function(SETTLED)
            found += [describe(f"/api/docs/ ({state})", width, v) for v in axe(page)]
        context.close()
        browser.close()
    assert problems == []
    assert found == [], "\n".join(found)
