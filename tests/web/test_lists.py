"""The list pages as a team works them: every portfolio card links to exactly the rows it counts, multi-select
filters (OR within, AND across), the "at risk" filter, "mine" by default with a way to widen, churned accounts
hidden unless asked for, bulk reassignment (managers, never CSMs), the renewals quarter view with attainment, and the
CSV export rounded as a person reads it."""

import csv
import io
import re
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

import pytest

from accounts.models import Account
from csm_platform.web.models import QuarterTarget
from tests.factories import AccountFactory
from tests.web.conftest import book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

CARD = re.compile(r'<a class="card-link" href="\?([^"]*)" data-rows="(\d+)">')


def names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].page.object_list]


def cards(response) -> list[tuple[str, int]]:
    """(query, rows counted) of every header card of a portfolio page."""
    return [(unescape(query), int(rows)) for query, rows in CARD.findall(response.content.decode())]


@pytest.mark.parametrize(
    "query",
    [
        "owner={alice}",
        "owner=",
        "owner=&band=red&band=green",
        "owner=&renewal=30",
        "owner=&renewal=180&segment=high_touch",
        "owner=&band=na",
        "owner=&at_risk=on&risk=medium",
    ],
)
def test_every_card_counts_exactly_the_rows_of_its_link(client, alice, bob, edna, query):
    book(n=23, owner=alice, prefix="ALICE")
    book(n=9, owner=bob, prefix="BOB", segment="high_touch")
    AccountFactory(name="Unscored", owner=alice)
    client.force_login(edna)
    page = client.get(f"/portfolio/?{query.format(alice=alice.pk)}")
    found = cards(page)
    figures = page.context["figures"]
    # Accounts, ARR, ARR at risk, renewals in 90 days, median health (no link when the bands asked for are N/A only).
    assert len(found) == (4 if query.endswith("band=na") else 5)
    assert {rows for _query, rows in found} <= {
        figures.accounts,
        figures.accounts_at_risk,
        figures.renewals,
        figures.scored,
    }
    for link, rows in found:
        shown = client.get(f"/portfolio/?{link}&per_page=500")
        assert shown.context["table"].paginator.count == rows, unquote(link)


def test_the_arr_at_risk_card_leads_to_the_at_risk_accounts(client, alice):
    accounts = book(n=9, owner=alice)
    client.force_login(alice)
    page = client.get(f"/portfolio/?owner={alice.pk}")
    at_risk_link = cards(page)[2][0]  # accounts, ARR, ARR at risk, ...
    assert "at_risk=on" in at_risk_link
    at_risk = client.get(f"/portfolio/?{at_risk_link}")
    # Red health or high risk: the book's red ones are also its high-risk ones (0, 3, 6).
    assert names(at_risk) == [accounts[i].name for i in (0, 3, 6)]
    assert at_risk.context["figures"].arr_at_risk == page.context["figures"].arr_at_risk


def test_multi_select_is_or_within_a_filter_and_and_across(client, edna, alice, bob):
    accounts = book(n=6, owner=alice)
    theirs = book(n=3, owner=bob, prefix="BOB")
    client.force_login(edna)
    red_or_green = client.get("/portfolio/?band=red&band=green")
    assert names(red_or_green) == sorted(
        [a.name for i, a in enumerate(accounts) if i % 3 != 1] + [a.name for i, a in enumerate(theirs) if i % 3 != 1]
    )
    both_csms_red = client.get(f"/portfolio/?owner={alice.pk}&owner={bob.pk}&band=red")
    assert names(both_csms_red) == sorted([accounts[0].name, accounts[3].name, theirs[0].name])
    assert names(client.get(f"/portfolio/?owner={bob.pk}&band=red&band=yellow")) == [theirs[0].name, theirs[1].name]


def test_the_at_risk_filter_is_red_health_or_high_risk(client, edna, alice):
    accounts = book(n=3, owner=alice)
    Account.objects.filter(pk=accounts[1].pk).update(name="BK Customer 00001")
    accounts[1].snapshots.update(risk_band="high")  # yellow health, high risk
    client.force_login(edna)
    assert names(client.get("/portfolio/?at_risk=on")) == [accounts[0].name, accounts[1].name]
    renewals = client.get("/renewals/?window=180&at_risk=on")
    assert [row.record.account.name for row in renewals.context["table"].page.object_list] == [
        accounts[0].name,
        accounts[1].name,
    ]


@pytest.mark.parametrize(
    ("user", "portfolio", "renewals"),
    [
        ("alice", "owner={alice}", "owner={alice}&window=90"),
        ("mallory", "team={team}", "team={team}&window=90"),
        ("andy", "account_executive={andy}", "account_executive={andy}&window=90"),
        ("edna", None, "window=90"),
    ],
)
def test_mine_is_the_default_of_every_list(request, client, alice, mallory, andy, edna, user, portfolio, renewals):
    client.force_login(request.getfixturevalue(user))
    values = {"alice": alice.pk, "team": alice.team_id, "andy": andy.pk}
    first = client.get("/portfolio/")
    if portfolio is None:
        assert first.status_code == 200
    else:
        assert first["Location"] == f"/portfolio/?{portfolio.format(**values)}"
    assert client.get("/renewals/")["Location"] == f"/renewals/?{renewals.format(**values)}"


def test_a_csm_widens_from_mine_to_the_team_and_everyone(client, alice, bob, mallory):
    book(n=2, owner=alice, prefix="ALICE")
    book(n=1, owner=mallory, prefix="MALLORY")
    book(n=3, owner=bob, prefix="BOB")
    client.force_login(alice)
    mine = client.get(f"/portfolio/?owner={alice.pk}&band=red")
    scopes = {scope.label: scope for scope in mine.context["scopes"]}
    assert list(scopes) == ["Mine", "My team", "Everyone"]
    assert scopes["Mine"].current and not scopes["Everyone"].current
    team = client.get(f"/portfolio/?{scopes['My team'].query}")
    assert "band=red" in scopes["My team"].query  # the other filters are kept
    assert names(team) == ["ALICE Customer 00000", "MALLORY Customer 00000"]
    everyone = client.get(f"/portfolio/?{scopes['Everyone'].query}")
    assert names(everyone) == ["ALICE Customer 00000", "BOB Customer 00000", "MALLORY Customer 00000"]


def test_churned_accounts_are_hidden_unless_asked_for(client, alice):
    book(n=2, owner=alice)
    AccountFactory(name="Gone", owner=alice, status=Account.Status.CHURNED)
    client.force_login(alice)
    assert "Gone" not in names(client.get(f"/portfolio/?owner={alice.pk}"))
    assert client.get(f"/portfolio/?owner={alice.pk}").context["figures"].accounts == 2
    assert names(client.get(f"/portfolio/?owner={alice.pk}&status=churned")) == ["Gone"]
    assert "Gone" in names(client.get(f"/portfolio/?owner={alice.pk}&status=active&status=churned"))
    exported = client.get(f"/portfolio/export.csv?owner={alice.pk}").content.decode()
    assert "Gone" not in exported


def test_saved_views_are_shown_above_the_table(client, alice):
    client.force_login(alice)
    client.post("/saved-views/", {"page": "portfolio", "name": "Red ones", "querystring": "band=red"})
    page = client.get(f"/portfolio/?owner={alice.pk}").content.decode()
    assert page.index("Red ones") < page.index("<table")
    renewals = client.get("/renewals/?window=90").content.decode()
    assert renewals.index('id="saved-views-title"') < renewals.index("<table")


def test_the_portfolio_counts_renewals_by_account_and_says_so(client, alice):
    book(n=2, owner=alice)
    client.force_login(alice)
    page = client.get(f"/portfolio/?owner={alice.pk}").content.decode()
    assert "Accounts renewing in 90 days" in page
    assert "counted by account" in page and "Renewals counts by contract" in page
    assert "counted by contract" in client.get("/renewals/?window=90").content.decode()


def test_a_manager_reassigns_accounts_in_bulk(client, alice, mallory, andy):
    accounts = book(n=4, owner=alice)
    teammate = type(alice).objects.create_user(username="tess", team=alice.team)
    teammate.groups.add(*alice.groups.all())
    client.force_login(mallory)
    response = client.post(
        "/portfolio/assign/",
        {"accounts": [a.pk for a in accounts[:3]], "owner": teammate.pk, "account_executive": andy.pk},
    )
    assert response.status_code == 302
    owners = dict(Account.objects.values_list("name", "owner__username"))
    assert [owners[a.name] for a in accounts] == ["tess", "tess", "tess", "alice"]
    assert set(Account.objects.filter(owner=teammate).values_list("account_executive", flat=True)) == {andy.pk}


def test_bulk_reassignment_is_refused_to_a_csm_and_outside_a_managers_team(client, alice, bob, mallory):
    mine = book(n=2, owner=alice)
    theirs = book(n=1, owner=bob, prefix="BOB")
    client.force_login(alice)
    assert client.post("/portfolio/assign/", {"accounts": [mine[0].pk], "owner": bob.pk}).status_code == 403
    client.force_login(mallory)
    client.post("/portfolio/assign/", {"accounts": [mine[0].pk], "owner": bob.pk})  # bob is not on her team
    client.post("/portfolio/assign/", {"accounts": [mine[1].pk, theirs[0].pk], "owner": mallory.pk})  # not hers
    assert list(Account.objects.order_by("name").values_list("owner__username", flat=True)) == ["alice", "alice", "bob"]


def test_the_quarter_view_has_totals_per_state_and_attainment(client, edna, alice):
    book(n=20, owner=alice)
    QuarterTarget.objects.create(quarter="2024-Q3", target=Decimal("100000"))
    client.force_login(edna)
    response = client.get("/renewals/?quarter=2024-Q3")
    totals = {total.key: total for total in response.context["totals"].states}
    assert set(totals) == {"open", "renewed", "churned"}
    attainment = response.context["attainment"]
    assert attainment.target == Decimal("100000") and attainment.renewed == totals["renewed"].acv
    assert attainment.ratio == float(totals["renewed"].acv / Decimal("100000"))
    assert 'id="attainment"' in response.content.decode()
    assert [q["label"] for q in response.context["quarters"]][0] == "2024-Q3"
    assert client.get("/renewals/?quarter=2024-Q4").context["attainment"].target is None


def test_renewals_filter_by_health_and_risk(client, edna, alice):
    book(n=6, owner=alice)
    client.force_login(edna)
    rows = client.get("/renewals/?window=180&band=green&risk=low").context["table"].page.object_list
    assert [row.record.band for row in rows] == ["green", "green"]
    both = client.get("/renewals/?window=180&band=green&band=red").context["table"].page.object_list
    assert sorted({row.record.band for row in both}) == ["green", "red"]


def test_the_csv_export_is_rounded_with_currency_columns(client, edna, alice):
    (account,) = book(n=1, owner=alice)
    account.snapshots.update(churn_probability=0.96224)
    client.force_login(edna)
    rows = list(csv.DictReader(io.StringIO(client.get("/portfolio/export.csv").content.decode())))
    row = rows[0]
    assert row["Churn risk"] == "96.2%"
    assert row["ACV"] == "12000.00" and row["ACV currency"] == "USD"
    assert row["CLV currency"] == "USD" and re.fullmatch(r"\d+\.\d{2}", row["CLV"])
    assert (row["Health"], row["Health change, 30 days"]) == ("25", "5")  # whole points, never "25.0"
    assert (row["Seats"], row["MAU"]) == ("20", "4")
    renewals = list(csv.DictReader(io.StringIO(client.get("/renewals/export.csv?window=180").content.decode())))
    assert renewals[0]["Churn risk"] == "96.2%"
    assert renewals[0]["ACV currency"] == renewals[0]["Expected renewal currency"] == "USD"
    assert re.fullmatch(r"\d+\.\d{2}", renewals[0]["Expected renewal"])
