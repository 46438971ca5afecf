"""Portfolio: role landing, filters, sorting, the htmx fragment, header figures, saved views, CSV export, and the
number of queries (the same for 10 and 200 accounts)."""

import csv
import io
from decimal import Decimal

import pytest

from csm_platform.web.exports import neutralise
from csm_platform.web.models import SavedView
from tests.web.conftest import TODAY, book, open_task, stage_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def rows(response) -> list[str]:
    """The account names of the table, in order."""
    return [row.record.name for row in response.context["table"].page.object_list]


@pytest.mark.parametrize(
    ("user", "landing"),
    [("alice", "owner={alice}"), ("mallory", "team={team}"), ("andy", "account_executive={andy}"), ("edna", None)],
)
def test_each_role_lands_on_its_accounts(request, client, alice, mallory, andy, edna, user, landing):
    client.force_login(request.getfixturevalue(user))
    response = client.get("/portfolio/")
    if landing is None:
        assert response.status_code == 200
        assert response.context["title"] == "Portfolio"
        return
    expected = landing.format(alice=alice.pk, team=alice.team_id, andy=andy.pk)
    assert response.status_code == 302
    assert response["Location"] == f"/portfolio/?{expected}"


def test_my_portfolio_shows_my_accounts_and_their_figures(client, alice, bob):
    book(n=6, owner=alice, prefix="ALICE")
    book(n=4, owner=bob, prefix="BOB")
    client.force_login(alice)
    response = client.get(f"/portfolio/?owner={alice.pk}")
    assert response.status_code == 200
    assert response.context["title"] == "My portfolio"
    assert rows(response) == [f"ALICE Customer {i:05d}" for i in range(6)]
    figures = response.context["figures"]
    # ACV 12k × (1..5, 1): 12+24+36+48+60+12 = 192k; red (0 and 3): 12k + 48k; renewals within 90 days: ends on
    # 07-15 + 7i days, i = 0..5, all before 2024-09-29.
    assert figures.accounts == 6
    assert figures.arr == Decimal("192000")
    assert figures.arr_at_risk == Decimal("60000")
    assert figures.accounts_at_risk == 2
    assert figures.renewals == 6
    assert figures.median_health == 55.0
    page = response.content.decode()
    assert "USD 192,000" in page
    assert "Σ ACV of the 2 accounts in red health or high churn risk" in page


def test_a_csm_sees_every_account_when_asking_for_all(client, alice, bob):
    book(n=2, owner=alice, prefix="ALICE")
    book(n=2, owner=bob, prefix="BOB")
    client.force_login(alice)
    response = client.get("/portfolio/?owner=")
    assert response.context["title"] == "Portfolio"
    assert len(rows(response)) == 4


def test_filters_combine(client, edna, alice):
    accounts = book(n=12, owner=alice)
    stage_of(accounts[:4], "Adoption")
    client.force_login(edna)
    red = client.get("/portfolio/?band=red")
    assert rows(red) == [accounts[i].name for i in (0, 3, 6, 9)]
    adopted_high_risk = client.get("/portfolio/?stage=5&risk=high")
    assert rows(adopted_high_risk) == [accounts[0].name, accounts[3].name]
    # Renewals within 30 days of 2024-07-01: ends on 07-15, 07-22, 07-29.
    soon = client.get("/portfolio/?renewal=30")
    assert rows(soon) == [accounts[i].name for i in range(3)]
    search = client.get("/portfolio/?q=00011")
    assert rows(search) == [accounts[11].name]


def test_na_health_is_grey_never_zero(client, edna, alice):
    from tests.factories import AccountFactory

    AccountFactory(name="Unscored", owner=alice)
    client.force_login(edna)
    response = client.get("/portfolio/?band=na")
    assert rows(response) == ["Unscored"]
    assert '<span class="band band-na" title="No health: every measure lacked data">N/A</span>' in (
        response.content.decode()
    )


def test_sorting_puts_missing_values_last(client, edna, alice):
    from tests.factories import AccountFactory

    book(n=3, owner=alice)
    AccountFactory(name="AAA Unscored", owner=alice)
    client.force_login(edna)
    ascending = rows(client.get("/portfolio/?sort=health"))
    descending = rows(client.get("/portfolio/?sort=-health"))
    assert ascending == ["BK Customer 00000", "BK Customer 00001", "BK Customer 00002", "AAA Unscored"]
    assert descending == ["BK Customer 00002", "BK Customer 00001", "BK Customer 00000", "AAA Unscored"]


def test_open_tasks_and_stage_columns(client, edna, alice):
    accounts = book(n=2, owner=alice)
    stage_of(accounts[:1], "Adoption")
    open_task(accounts[0], alice, due=TODAY)
    open_task(accounts[0], alice, due=TODAY)
    client.force_login(edna)
    response = client.get("/portfolio/?sort=-open_tasks")
    first = response.context["table"].page.object_list[0].record
    assert (first.name, first.open_tasks, first.stage_name) == (accounts[0].name, 2, "Adoption")


def test_htmx_gets_only_the_results_fragment(client, edna, alice):
    book(n=3, owner=alice)
    client.force_login(edna)
    response = client.get("/portfolio/?band=red", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="results"')
    assert "<html" not in page
    restore = client.get("/portfolio/?band=red", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_pages_of_fifty(client, edna, alice):
    book(n=120, owner=alice)
    client.force_login(edna)
    third = client.get("/portfolio/?page=3")
    assert len(rows(third)) == 20
    assert "Page 3 of 3" in third.content.decode()
    assert len(rows(client.get("/portfolio/?per_page=30"))) == 30
    for bad in ("-1", "0", "100000", "many"):
        response = client.get(f"/portfolio/?per_page={bad}")
        assert response.status_code == 200, bad
        assert len(rows(response)) == 50, bad
    assert client.get("/renewals/?per_page=-1").status_code == 200


def test_saved_views_belong_to_their_user(client, alice, bob):
    client.force_login(alice)
    response = client.post(
        "/saved-views/", {"page": "portfolio", "name": "Red renewals", "querystring": "band=red&renewal=90"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/portfolio/?band=red&renewal=90"
    view = SavedView.objects.get(user=alice)
    assert client.get("/portfolio/?owner=").context["saved_views"][0] == view
    client.force_login(bob)
    assert list(client.get("/portfolio/?owner=").context["saved_views"]) == []
    assert client.post(f"/saved-views/{view.pk}/delete/", {"page": "portfolio"}).status_code == 404
    client.force_login(alice)
    assert client.post(f"/saved-views/{view.pk}/delete/", {"page": "portfolio"}).status_code == 302
    assert not SavedView.objects.exists()


def test_csv_export_has_exactly_the_filtered_rows_and_is_formula_safe(client, edna, alice):
    accounts = book(n=60, owner=alice)
    accounts[3].name = '=HYPERLINK("http://evil")'
    accounts[3].save()
    client.force_login(edna)
    response = client.get("/portfolio/export.csv?band=red&sort=name")
    assert response["Content-Disposition"] == f'attachment; filename="portfolio-{TODAY:%Y-%m-%d}.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = table[0], table[1:]
    assert header[:4] == ["Account", "Health", "ACV", "ACV currency"]  # the key columns first
    assert len(body) == 20  # every red account, not only the first page
    names = [row[0] for row in body]
    assert '\'=HYPERLINK("http://evil")' in names
    assert names[1:] == sorted(names[1:])
    acv = body[header.index("ACV") - 0][header.index("ACV")]
    assert Decimal(acv) > 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Acme", "Acme"),
        (-3.5, -3.5),
        (None, ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


# Session, user, roles (landing), latest snapshot date, whether the night's rows are built (tests/web/test_read_model.py
# reads them; here the snapshots are read live), figures (aggregate, scores, accounts with ACV N/A), paginator count,
# page rows, filter choices (CSM, team, AE, stage), saved views, nav roles, the night's churn model.
PORTFOLIO_QUERIES = 17


@pytest.mark.parametrize("accounts", [10, 200])
def test_portfolio_queries_do_not_grow_with_accounts(client, alice, accounts, django_assert_num_queries):
    book(n=accounts, owner=alice)
    client.force_login(alice)
    with django_assert_num_queries(PORTFOLIO_QUERIES):
        response = client.get(f"/portfolio/?owner={alice.pk}&sort=-health")
    assert len(rows(response)) == min(accounts, 50)


@pytest.mark.parametrize("accounts", [10, 200])
def test_export_queries_do_not_grow_with_accounts(client, alice, accounts, django_assert_num_queries):
    book(n=accounts, owner=alice)
    client.force_login(alice)
    # Session, user, latest snapshot date, whether the night's rows are built, the CSM filter's choice, the rows.
    with django_assert_num_queries(6):
        response = client.get(f"/portfolio/export.csv?owner={alice.pk}")
    assert len(response.content.decode().splitlines()) == accounts + 1
