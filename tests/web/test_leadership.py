"""Leadership dashboard: figures the night stores (``leadership_night_write``, run here as the night would after the
data is in place), monthly ARR movements, bands over time, the row per CSM (NRR/GRR of their book, median health,
overdue tasks today), $1M customers; pinned queries."""

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest

from csm_platform.web.charts import trend_range
from csm_platform.web.selectors.leadership import (
    band_distribution,
    clv_by_segment,
    csm_figures,
    revenue_books,
    snapshot_month_ends,
)
from csm_platform.web.services import leadership_night_write
from health.models import AccountSnapshot, RevenueSnapshot
from journeys.selectors.journey import time_to_value
from tests.factories import AccountFactory, ContractFactory
from tests.web.conftest import AS_OF, TODAY, book, open_task, stage_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def night() -> None:
    """The night of AS_OF's step for the dashboard."""
    leadership_night_write(as_of=AS_OF)


@pytest.fixture
def revenue(db):
    rows = []
    for months_back, arr in ((2, "900000.00"), (1, "950000.00"), (0, "1000000.00")):
        day = AS_OF - dt.timedelta(days=30 * months_back)
        rows.append(
            RevenueSnapshot(
                as_of=day,
                arr=Decimal(arr),
                customers=10,
                million_customers=1,
                nrr=1.05,
                grr=0.92,
                logo_churn=0.08,
                waterfall={
                    "start": "800000.00",
                    "new": "150000.00",
                    "expansion": "100000.00",
                    "contraction": "20000.00",
                    "churn": "30000.00",
                    "end": arr,
                },
            )
        )
    return RevenueSnapshot.objects.bulk_create(rows)


def test_figures_and_charts(client, edna, alice, revenue):
    book(n=6, owner=alice)
    night()
    client.force_login(edna)
    response = client.get("/leadership/")
    assert response.status_code == 200
    page = response.content.decode()
    # ARR from the contracts on the evaluation date: 12k × (1 + 2 + 3 + 4 + 5 + 1) = 192k; nobody had ACV a year ago.
    assert response.context["page"].revenue.arr == Decimal("192000.00")
    assert response.context["page"].revenue.retention.nrr is None
    for text in ("USD 192,000", "Σ ACV now ÷ Σ ACV a year ago"):
        assert text in page
    charts = response.context["charts"]
    assert all(charts[name] for name in ("arr", "movements", "bridge", "retention", "bands"))


def test_monthly_movements_add_up_to_the_bridge_after_a_back_dated_contract(client, edna, alice):
    """The movements and the bridge read the same contracts: a contract entered today that started in March (after
    the night of March had been snapshotted) moves both alike."""
    accounts = book(n=4, owner=alice)
    churned = ContractFactory(
        account=accounts[0], start_date=dt.date(2023, 6, 1), end_date=dt.date(2024, 5, 31), recurring_tcv=12000
    )
    ContractFactory(  # back-dated: started 2024-03-01, long after the nights of March were written
        account=accounts[1], start_date=dt.date(2024, 3, 1), end_date=dt.date(2025, 2, 28), recurring_tcv=6000
    )
    night()
    client.force_login(edna)
    page = client.get("/leadership/").context["page"]
    bridge, movements = page.revenue.bridge, page.movements
    assert list(movements["month"])[-1] == AS_OF and len(movements) == 12
    assert sum(movements["net"], Decimal(0)) == bridge.end - bridge.start
    # The back-dated contract (account 1 already had a contract): March expands by its 6,000.
    march = movements[movements["month"] == dt.date(2024, 3, 31)].iloc[0]
    assert (march["new"], march["expansion"]) == (Decimal("0.00"), Decimal("6000.00"))
    may = movements[movements["month"] == dt.date(2024, 5, 31)].iloc[0]
    assert may["contraction"] == Decimal("0.00")  # ends on 05-31 inclusive: still live that night
    june = movements.iloc[-1]
    assert june["contraction"] == Decimal("12000.00") and churned.account_id == accounts[0].pk
    # A year ago only account 0's old contract was live; the others started since: 24k + 36k + 48k + 6k new.
    assert (bridge.start, bridge.new, bridge.expansion, bridge.contraction, bridge.churn, bridge.end) == (
        Decimal("12000.00"),
        Decimal("114000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("126000.00"),
    )
    assert page.revenue.arr == bridge.end


def test_a_row_per_csm(client, edna, alice, bob):
    accounts = book(n=3, owner=alice)
    book(n=2, owner=bob, prefix="BOB")
    open_task(accounts[0], alice, due=TODAY - dt.timedelta(days=3))
    open_task(accounts[0], alice, due=TODAY + dt.timedelta(days=3))
    night()
    client.force_login(edna)
    rows = {row.user.username: row for row in client.get("/leadership/").context["page"].csms}
    assert (rows["alice"].accounts, rows["alice"].arr, rows["alice"].median_health) == (3, Decimal("72000.00"), 55.0)
    assert (rows["alice"].overdue_tasks, rows["bob"].overdue_tasks) == (1, 0)
    # Their contracts started within the last year: nobody had ACV a year ago, the cohort is empty, N/A not 0.
    assert rows["alice"].retention.nrr is None


def test_the_by_csm_table_has_an_unassigned_row_and_a_total_that_is_the_headline(client, edna, alice, bob):
    book(n=3, owner=alice)
    book(n=2, owner=bob, prefix="BOB")
    book(n=2, owner=None, prefix="NOBODY")
    night()
    client.force_login(edna)
    response = client.get("/leadership/")
    page = response.context["page"]
    rows = {row.user.username if row.user else None: row for row in page.csms}
    assert list(rows)[-1] is None and (rows[None].accounts, rows[None].arr) == (2, Decimal("36000.00"))
    assert page.csm_total.accounts == 7
    assert page.csm_total.arr == page.revenue.arr == sum((row.arr for row in page.csms), Decimal(0))
    html = response.content.decode()
    assert "Unassigned" in html and 'id="csm-total"' in html


def test_monthly_charts_have_one_labelled_bar_per_month_on_a_trend_axis(client, edna, alice):
    book(n=6, owner=alice)
    night()
    client.force_login(edna)
    charts = client.get("/leadership/").context["charts"]
    figure = json.loads(html.unescape(re.search(r'data-figure="([^"]*)"', charts["arr"])[1]))
    (bars,) = figure["data"]
    assert bars["x"] == sorted(set(bars["x"])) and len(bars["x"]) == 12  # one label per month, no month twice
    assert all(re.fullmatch(r"\d{4}-\d{2}", label) for label in bars["x"])
    assert bars["text"][-1] == "192K"  # value labels on the bars
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert trend_range([36e6, 42e6, 39e6]) == [34.2e6, 43.8e6]  # a 36M → 42M trend fills the axis
    assert trend_range([0.0, 192e3]) == [0.0, 249.6e3]
    bridge = charts["bridge"]
    assert "Start 2023-06-30" in bridge and "End 2024-06-30" in bridge and "&quot;text&quot;" in bridge


def test_million_dollar_customers(client, edna, alice):
    (big, small) = book(n=2, owner=alice)
    big.contracts.update(recurring_tcv=Decimal("1250000"))
    night()
    client.force_login(edna)
    response = client.get("/leadership/")
    assert [row.account for row in response.context["page"].millions] == [big]
    assert response.context["page"].revenue.million_customers == 1
    assert "USD 1,250,000" in response.content.decode()


def test_empty_states_before_the_first_night(client, edna):
    client.force_login(edna)
    page = client.get("/leadership/").content.decode()
    assert "No revenue snapshot yet" in page
    assert "No account yet." in page


@pytest.mark.parametrize("accounts", [10, 200])
def test_leadership_queries_do_not_grow_with_accounts(
    client, edna, alice, revenue, accounts, django_assert_num_queries
):
    book(n=accounts, owner=alice)
    night()
    client.force_login(edna)
    # Session, user, roles, latest date, the stored night, retention history, overdue tasks, the CSMs: the night
    # computes the ACV books and time to value (43 queries when the page computed them).
    with django_assert_num_queries(8):
        response = client.get("/leadership/")
    assert response.status_code == 200


def test_a_zero_value_contract_a_year_ago_is_not_in_the_retention_cohort(client, edna, alice):
    """Cohort = accounts with ACV > 0 a year before: a live 0-value contract (a pilot) then, and nothing now, is no
    churned logo; the one account with ACV then kept it: NRR and GRR 100%, logo churn 0 — for the book and for
    alice's row."""
    kept, pilot = AccountFactory(owner=alice), AccountFactory(owner=alice)
    ContractFactory(account=kept, start_date=dt.date(2023, 1, 1), end_date=dt.date(2025, 12, 31), recurring_tcv=36000)
    ContractFactory(account=pilot, start_date=dt.date(2023, 6, 1), end_date=dt.date(2023, 12, 31), recurring_tcv=0)
    AccountSnapshot.objects.create(account=kept, as_of=AS_OF, acv=Decimal("12000.00"))
    night()
    client.force_login(edna)
    page = client.get("/leadership/").context["page"]
    for retention in (page.revenue.retention, page.csms[0].retention):
        assert (retention.cohort, retention.nrr, retention.grr, retention.logo_churn) == (1, 1.0, 1.0, 0.0)


def test_a_time_to_value_median_of_one_account_is_marked_too_few(client, edna, alice):
    (account,) = book(n=1, owner=alice)
    stage_of([account], "Adoption")
    night()
    client.force_login(edna)
    response = client.get("/leadership/")
    (row,) = response.context["page"].time_to_value
    assert row.summary.n == 1 and row.summary.too_few
    assert "(n = 1, too few to compare)" in response.content.decode()


def test_the_stored_night_is_what_the_page_computed_per_request(client, edna, alice, bob):
    """The page reads the night's figures: the same numbers as computing them from the contracts and snapshots
    per request (what the page did before the night stored them)."""
    accounts = book(n=5, owner=alice)
    book(n=3, owner=bob, prefix="BOB", segment="high_touch")
    book(n=2, owner=None, prefix="NOBODY")
    ContractFactory(
        account=accounts[0], start_date=dt.date(2023, 6, 1), end_date=dt.date(2024, 5, 31), recurring_tcv=12000
    )
    stage_of(accounts[:2], "Adoption")
    night()
    client.force_login(edna)
    page = client.get("/leadership/").context["page"]
    books = revenue_books(as_of=AS_OF)
    assert page.revenue == books.revenue
    assert page.by_month.equals(books.by_month) and page.movements.equals(books.movements)
    assert page.bands.to_dict("records") == band_distribution(days=snapshot_month_ends(as_of=AS_OF)).to_dict("records")
    stored = {
        r.user.pk if r.user else None: (r.accounts, r.arr, r.excluded, r.retention, r.median_health, r.scored)
        for r in page.csms
    }
    assert list(stored)[-1] is None and len(stored) == 3
    assert stored == {
        row.owner_id: (row.accounts, row.arr, row.excluded, row.retention, row.median_health, row.scored)
        for row in csm_figures(as_of=AS_OF, books=books)
    }
    assert page.clv == clv_by_segment(as_of=AS_OF)
    assert page.time_to_value == time_to_value(as_of=AS_OF)
