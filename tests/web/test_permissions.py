"""The permission matrix: every page and action as every role and anonymously. Anonymous visitors are sent to
the login page everywhere; no role can change what it must not (a refused POST leaves the database unchanged)."""

import pytest

from accounts.models import Activity
from csm_platform.web.models import RenewalForecastChange, SavedView
from tests.factories import ActivityFactory, ContactFactory
from tests.web.conftest import book
from tests.web.matrix import ANONYMOUS, ROLES, Case, request_as, url_patterns

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LANDS = {"alice": 302, "bob": 302, "mallory": 302, "andy": 302}  # a bare list page redirects to the role's filters
LEADERS_ONLY = {"alice": 403, "bob": 403, "andy": 403}
ADMINS_ONLY = {"alice": 403, "bob": 403, "mallory": 403, "andy": 403, "edna": 403}
# Alice's account: she and her manager may log activities; its AE, his manager... may set the forecast.
EDITORS = {"alice": 302, "mallory": 302, "ada": 302, "bob": 403, "andy": 403, "edna": 403}
FORECASTERS = {"andy": 302, "mallory": 302, "ada": 302, "alice": 403, "bob": 403, "edna": 403}
# Alice's own activity: only she may change or delete it.
AUTHOR = {"bob": 403, "mallory": 403, "andy": 403, "edna": 403, "ada": 403}
CONTACT_EDITORS = {"bob": 403, "andy": 403, "edna": 403}
# Reassigning: a manager (within their team) or an admin, never a CSM.
ASSIGNERS = {"mallory": 302, "ada": 302, "alice": 403, "bob": 403, "andy": 403, "edna": 403}


@pytest.fixture
def world(alice, bob, mallory, andy, edna, ada, churn_model, settings, tmp_path):
    (account,) = book(n=1, owner=alice, ae=andy)
    settings.DOCS_ROOT = tmp_path  # a built documentation site
    (tmp_path / "index.html").write_text("<h1>Docs</h1>")
    view = SavedView.objects.create(user=alice, name="Mine", querystring="band=red")
    activity = ActivityFactory(account=account, author=alice)
    contact = ContactFactory(account=account, name="Pat Sponsor")
    return {
        "account": account,
        "contract": account.contracts.get(),
        "view": view,
        "model": churn_model,
        "activity": activity,
        "contact": contact,
    }


def cases(world) -> list[Case]:
    account, contract = world["account"].pk, world["contract"].pk
    activity = {"pk": account, "activity_id": world["activity"].pk}
    return [
        Case("web:portfolio", expected=LANDS),
        Case("web:portfolio", query="owner=&band=red"),
        Case("web:portfolio_export", query="band=red"),
        Case("web:account", kwargs={"pk": account}),
        Case("web:churn_model", kwargs={"pk": world["model"].pk}),
        Case("web:renewals", default=302),
        Case("web:renewals", query="window=90"),
        Case("web:renewals_export", query="window=90"),
        Case("web:forecast", kwargs={"contract_id": contract}),
        Case("web:timeline", kwargs={"pk": account}, query="kind=change&q=a"),
        Case("web:preferences"),
        Case("web:docs"),
        Case("web:docs_file", kwargs={"path": "index.html"}),
        Case("web:activity_edit", kwargs=activity, expected=AUTHOR),
        Case("web:contact_edit", kwargs={"pk": account, "contact_id": world["contact"].pk}, expected=CONTACT_EDITORS),
        Case(
            "web:contact_add",
            method="post",
            kwargs={"pk": account},
            data={"name": "Matrix", "active": "on"},
            expected=EDITORS,
        ),
        Case(
            "web:account_assign",
            method="post",
            kwargs={"pk": account},
            data={"owner": world["activity"].author_id},
            expected=ASSIGNERS,
        ),
        Case(
            "web:portfolio_assign",
            method="post",
            data={"accounts": [account], "owner": world["activity"].author_id},
            expected=ASSIGNERS,
        ),
        Case("web:activity_delete", method="post", kwargs=activity, expected={**AUTHOR, "alice": 302}),
        Case("web:leadership", expected=LEADERS_ONLY),
        Case("web:status", expected=ADMINS_ONLY),
        Case(
            "web:activity_log",
            method="post",
            kwargs={"pk": account},
            data={"kind": "note", "occurred_at": "2024-07-01T08:00", "subject": "Matrix"},
            expected=EDITORS,
        ),
        Case(
            "web:forecast",
            method="post",
            kwargs={"contract_id": contract},
            data={"category": "commit", "note": "Matrix"},
            expected=FORECASTERS,
        ),
        Case(
            "web:saved_view_create",
            method="post",
            data={"page": "portfolio", "name": "M", "querystring": ""},
            default=302,
        ),
        Case(
            "web:saved_view_delete",
            method="post",
            kwargs={"pk": world["view"].pk},
            data={"page": "portfolio"},
            expected={"alice": 302},
            default=404,
        ),
    ]


def test_every_page_of_the_web_app_is_in_the_matrix(world):
    covered = {case.name for case in cases(world)}
    assert {name for name, _kwargs in url_patterns({"web"})} == covered


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_permission_matrix(request, client, world, role):
    user = None if role == ANONYMOUS else request.getfixturevalue(role)
    for case in cases(world):
        if case.name == "web:saved_view_delete" and not SavedView.objects.filter(pk=world["view"].pk).exists():
            continue
        activities, forecasts = Activity.objects.count(), RenewalForecastChange.objects.count()
        status = request_as(client, case, user)
        if role == ANONYMOUS:
            assert status == 302, case
            assert client.get(case.url()).url.startswith("/auth/login/?next="), case
            continue
        assert status == case.status_for(role), (case, role)
        if case.method == "post" and status != 302:
            assert (Activity.objects.count(), RenewalForecastChange.objects.count()) == (activities, forecasts), case


def test_the_api_refuses_anonymous_and_serves_every_role(client, world, alice, bob, mallory, andy, edna, ada):
    assert client.get("/api/portfolio/").status_code == 401
    for user in (alice, bob, mallory, andy, edna, ada):
        client.force_login(user)
        assert client.get("/api/portfolio/").status_code == 200


def test_every_page_of_every_app_needs_a_login(client, world):
    """Each named HTML page of the project (the web app's and journeys' when installed) sends anonymous visitors to
    the login page; ids that do not exist do not matter, the login comes first."""
    namespaces = {"web", "journeys"}
    checked = 0
    for name, kwarg_names in url_patterns(namespaces):
        case = Case(name, kwargs=dict.fromkeys(kwarg_names, 1))
        response = client.get(case.url())
        assert response.status_code == 302, name
        assert response.url.startswith("/auth/login/?next="), name
        checked += 1
    assert checked >= len(list(url_patterns({"web"})))


def test_root_lands_on_the_portfolio(client, alice):
    assert client.get("/")["Location"] == "/portfolio/"
