"""The renewals' stored rows (``ContractRow``): built by the night and by the intra-day refresh with the function the
page reads live with, the page read from them (filtered, sorted, paged and totalled in SQL) shows exactly what it
shows read live — rows, order, totals, attainment, CSV export — in a number of queries that does not grow with the
accounts, and a contract listed whose row is not current (changed, new, another probability) is read live."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Contract
from accounts.services import contract_create
from csm_platform.web.models import ContractRow, QuarterTarget, RenewalForecast
from csm_platform.web.services import account_rows_refresh, contract_rows_refresh
from csm_platform.web.tables import QuerysetRecords
from health import pipeline
from health.models import AccountSnapshot
from tests.factories import AccountFactory, ContractFactory, ExchangeRateFactory
from tests.web.conftest import AS_OF, book

pytestmark = [pytest.mark.django_db]

LATER = dt.datetime(2024, 8, 15, 9, 0, tzinfo=dt.UTC)  # some of 2024-Q3's contracts have ended, others not yet


@pytest.fixture
def later():
    with time_machine.travel(LATER, tick=False):
        yield LATER


@pytest.fixture
def renewals_book(later, alice, bob, andy):
    """30 accounts of alice (contracts ending 2024-07-15 + 7i days: the first five churned by now, one renewed by a
    successor), two of bob: a EUR contract over an odd term at a rate with four decimals and a GBP one without any
    rate (N/A), one account without a snapshot (no probability), forecasts on a few contracts and a Q3 target."""
    accounts = book(n=30, owner=alice, ae=andy)
    ContractFactory(
        account=accounts[1],
        external_id="BK-SUCCESSOR",
        kind="renewal",
        start_date=dt.date(2024, 7, 30),
        end_date=dt.date(2025, 7, 29),
        recurring_tcv=Decimal("30000.00"),
    )
    euro = AccountFactory(name="Euro GmbH", owner=bob, account_executive=andy)
    ContractFactory(
        account=euro,
        external_id="EUR-1",
        currency="EUR",
        recurring_tcv=Decimal("12345.67"),
        start_date=dt.date(2023, 9, 1),
        end_date=dt.date(2024, 9, 20),
    )
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 6, 1), rate=Decimal("1.0837"))
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 8, 1), rate=Decimal("1.5"))  # after the night: unused
    pound = AccountFactory(name="Pound Ltd", owner=bob, account_executive=andy)
    ContractFactory(account=pound, external_id="GBP-1", currency="GBP", end_date=dt.date(2024, 9, 30))
    AccountSnapshot.objects.bulk_create(
        [
            AccountSnapshot(
                account=euro, as_of=AS_OF, health=61, band="yellow", churn_probability=0.137, risk_band="low"
            ),
            AccountSnapshot(account=pound, as_of=AS_OF, health=20, band="red", churn_probability=0.5, risk_band="high"),
        ]
    )
    unscored = AccountFactory(name="Unscored Inc", owner=None, account_executive=andy)
    ContractFactory(
        account=unscored, external_id="UNSCORED-1", start_date=dt.date(2023, 9, 1), end_date=dt.date(2024, 8, 31)
    )
    for external_id, category, amount in (
        ("BK-CT-00007", "commit", Decimal("20000.00")),
        ("BK-CT-00008", "at_risk", None),
        ("EUR-1", "probable", Decimal("9000.00")),
        ("BK-CT-00002", "lost", Decimal("0.00")),  # churned since: no longer an open renewal's forecast
    ):
        RenewalForecast.objects.create(
            contract=Contract.objects.get(external_id=external_id), category=category, amount=amount, set_at=LATER
        )
    QuarterTarget.objects.create(quarter="2024-Q3", target=Decimal("250000.00"))
    return accounts


URLS = [
    "/renewals/?window=",
    "/renewals/?quarter=2024-Q3",
    "/renewals/?quarter=2024-Q3&sort=-acv",
    "/renewals/?window=&sort=acv&per_page=7&page=2",
    "/renewals/?window=&sort=-expected&per_page=10&page=3",
    "/renewals/?window=&sort=health",
    "/renewals/?window=&sort=-churn_risk",
    "/renewals/?window=&sort=category",
    "/renewals/?window=&sort=owner",
    "/renewals/?window=&sort=-state",
    "/renewals/?window=&sort=acv_na",
    "/renewals/?window=&state=open&band=red&band=yellow",
    "/renewals/?window=&at_risk=on&category=none",
    "/renewals/?window=&category=commit",
    "/renewals/?window=30&q=customer",
]


def shown(client, url) -> tuple[bool, tuple]:
    """(read from the stored rows, what the page shows: its rows, totals and attainment)."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    rows = [row.record for row in context["table"].page.object_list]
    totals = context["totals"]
    return isinstance(context["table"].data, QuerysetRecords), (
        rows,
        totals.states,
        totals.categories,
        context["attainment"],
    )


def test_the_page_from_rows_shows_what_it_shows_read_live(client, edna, renewals_book):
    account_rows_refresh()
    assert contract_rows_refresh() == Contract.objects.filter(end_date__gte=dt.date(2024, 4, 1)).count()
    client.force_login(edna)
    from_rows = {url: shown(client, url) for url in URLS}
    exports = {url: client.get(url.replace("/renewals/", "/renewals/export.csv")).content for url in URLS}
    ContractRow.objects.all().delete()
    live = {url: shown(client, url) for url in URLS}

    assert all(stored for stored, _page in from_rows.values())
    assert not any(stored for stored, _page in live.values())
    for url in URLS:
        assert from_rows[url][1] == live[url][1], url
        assert exports[url] == client.get(url.replace("/renewals/", "/renewals/export.csv")).content, url
    rows, states, categories, attainment = from_rows["/renewals/?quarter=2024-Q3"][1]
    by_contract = {row.contract.external_id: row for row in rows}
    # 12,345.67 EUR over 386 days: 12,345.67 × 365 / 386 × 1.0837 (the night's rate) = 12,651.13; × (1 − 0.137).
    assert (by_contract["EUR-1"].acv, by_contract["EUR-1"].expected) == (Decimal("12651.13"), Decimal("10917.93"))
    assert by_contract["GBP-1"].acv is None and "no GBP exchange rate" in by_contract["GBP-1"].acv_na_reason
    assert by_contract["UNSCORED-1"].acv == Decimal("12000.00") and by_contract["UNSCORED-1"].expected is None
    assert {state.key: state.contracts for state in states} == {"open": 10, "renewed": 1, "churned": 4}
    assert states[0].excluded.accounts == 1
    assert {c.key: c.contracts for c in categories} == {"commit": 1, "probable": 1, "at_risk": 1, "lost": 0, "none": 7}
    assert attainment.renewed == Decimal("24000.00")


def test_a_contract_listed_without_a_current_row_is_read_live(client, edna, renewals_book):
    account_rows_refresh()
    contract_rows_refresh()
    client.force_login(edna)
    url = "/renewals/?quarter=2024-Q3&sort=-acv"
    assert shown(client, url)[0]

    Contract.objects.filter(external_id="BK-CT-00009").update(recurring_tcv=Decimal("99000.00"))
    stale, page = shown(client, url)
    assert not stale and page[0][0].contract.external_id == "BK-CT-00009"
    assert page[0][0].acv == Decimal("99000.00")
    # Rows current for every contract a page lists: another quarter's page reads them.
    assert shown(client, "/renewals/?quarter=2024-Q4")[0]

    contract_rows_refresh(account_ids=[renewals_book[9].pk])
    assert shown(client, url) == (True, page)

    AccountSnapshot.objects.filter(account=renewals_book[10], as_of=AS_OF).update(churn_probability=0.9)
    assert not shown(client, url)[0]  # the expected value was computed with another probability
    contract_rows_refresh(account_ids=[renewals_book[10].pk])
    assert shown(client, url)[0]


def test_the_intra_day_refresh_builds_the_rows_of_a_new_contract(client, edna, renewals_book):
    account_rows_refresh()
    contract_rows_refresh()
    client.force_login(edna)
    contract_create(
        data={
            "account": renewals_book[3],
            "external_id": "CT-NEW",
            "start_date": dt.date(2024, 4, 1),
            "end_date": dt.date(2024, 9, 15),
            "recurring_tcv": Decimal("6000"),
        }
    )
    url = "/renewals/?quarter=2024-Q3"
    stale, page = shown(client, url)
    assert not stale and "CT-NEW" in [row.contract.external_id for row in page[0]]
    assert [account for account, _ in pipeline.current_figures_refresh()] == [renewals_book[3].pk]
    assert shown(client, url) == (True, page)


@pytest.mark.parametrize("accounts", [10, 200])
def test_the_page_from_rows_does_not_grow_with_accounts(client, alice, andy, accounts, django_assert_num_queries):
    with time_machine.travel(LATER, tick=False):
        book(n=accounts, owner=alice, ae=andy)
        contract_rows_refresh()
        client.force_login(andy)
        # Session, user, latest date, AE choice (validation), roles (forecast scope), totals (one aggregate), the
        # page's rows, saved views, nav roles, filter choices (AE, CSM, team) rendered, the night's churn model.
        with django_assert_num_queries(13):
            response = client.get(f"/renewals/?account_executive={andy.pk}&window=180&sort=-acv")
        assert isinstance(response.context["table"].data, QuerysetRecords)
        assert len(response.context["table"].page.object_list) == min(response.context["totals"].contracts, 50)
        # The quarter view adds the quarter's target.
        with django_assert_num_queries(14):
            response = client.get(f"/renewals/?account_executive={andy.pk}&quarter=2024-Q3&sort=-expected")
        assert response.context["table"].page.object_list
