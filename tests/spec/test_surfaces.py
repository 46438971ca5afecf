"""What the platform shows, against the reference on the latest night: the REST API, the CSV exports and the
numbers on the portfolio, account, renewals and leadership pages (a logged-in user, time frozen the next morning).
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from django.conf import settings

from accounts.models import Contract
from health.models import AccountSnapshot
from health.revenue import customer_lifetime_value, expected_renewal_value

from . import reference
from .book import LATEST

pytestmark = pytest.mark.usefixtures("frozen")


def money(value: Decimal | None) -> str:
    """The pages' money: reporting currency and whole units (the display's own rounding of the cents)."""
    return f"{settings.REPORTING_CURRENCY} {value:,.0f}"


def percent(value: Fraction, decimals: int = 1) -> str:
    return f"{float(value) * 100:,.{decimals}f}%"


def row_of(page: str, text: str) -> str:
    """The table row (``<tr>…</tr>``) of a page that contains ``text``."""
    rows = [row for row in re.findall(r"<tr.*?</tr>", page, flags=re.S) if text in row]
    assert len(rows) == 1, f"{len(rows)} rows contain {text!r}"
    return rows[0]


@pytest.fixture
def viewer(client, book):
    client.force_login(book.owner)
    return client


@pytest.fixture
def expected(book, facts):
    """Per external id: the reference health and ACV on the latest night, and the health a month before."""
    rows = {}
    for external_id, account_id in book.ids.items():
        ref = reference.health(facts, account_id, LATEST)
        before = reference.health(facts, account_id, dt.date(2024, 5, 31))
        acv = reference.cents(reference.account_acv(facts, account_id, LATEST))
        rows[external_id] = {"health": ref, "acv": acv, "change_30": ref.score - before.score, "id": account_id}
    return rows


def test_api_portfolio(viewer, expected):
    """Health, band, ACV, 30-day change, MAU and seats, and CLV = ACV × m × (1 − p) / (r + p) with the stored p."""
    response = viewer.get("/api/portfolio/", {"page_size": 100})
    assert response.status_code == 200
    results = {row["external_id"]: row for row in response.json()["results"]}
    assert set(results) == set(expected)
    for external_id, ref in expected.items():
        row, health = results[external_id], ref["health"]
        usage = health.usage
        assert (row["health"], row["band"], Decimal(row["acv"]), row["health_change_30"]) == (
            health.score,
            health.band,
            ref["acv"],
            ref["change_30"],
        ), external_id
        assert (row["mau"], row["seats"]) == (usage["mau"], usage["seats"]), external_id
        p = AccountSnapshot.objects.get(account_id=ref["id"], as_of=LATEST).churn_probability
        m, r = reference.exact(settings.CLV_GROSS_MARGIN), reference.exact(settings.CLV_DISCOUNT_RATE)
        clv = reference.cents(reference.clv(Fraction(ref["acv"]), Fraction(p), m=m, r=r))
        assert Decimal(row["clv"]) == clv, external_id


def test_api_contract_acv(viewer, facts):
    """A contract's ACV in its own currency: recurring value ÷ term_years, one-time fees excluded."""
    response = viewer.get("/api/contracts/", {"page_size": 100})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == len(facts.contracts)
    for row in rows:
        contract = next(c for c in facts.contracts if c["id"] == row["id"])
        assert Decimal(row["acv"]) == reference.cents(reference.contract_acv(contract)), row["external_id"]


def test_portfolio_export(viewer, expected):
    response = viewer.get("/portfolio/export.csv")
    assert response.status_code == 200
    rows = {row["CRM id"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert set(rows) == set(expected)
    for external_id, ref in expected.items():
        row, health = rows[external_id], ref["health"]
        assert (Decimal(row["ACV"]), float(row["Health"]), row["Health band"]) == (
            ref["acv"],
            health.score,
            health.band,
        ), external_id
        assert float(row["Health change, 30 days"]) == ref["change_30"], external_id


def test_portfolio_page(viewer, expected):
    response = viewer.get("/portfolio/", {"per_page": 100})
    assert response.status_code == 200
    page = response.content.decode()
    for external_id, ref in expected.items():
        row, health = row_of(page, f"Spec {external_id}<"), ref["health"]
        assert f'band-{health.band}" title="Health band: {health.band.capitalize()}">{health.score}<' in row, (
            external_id
        )
        assert money(ref["acv"]) in row, external_id


@pytest.mark.parametrize("external_id", ["EDGE40", "USD-SHORT", "EUR-3YR"])
def test_account_page(viewer, expected, external_id):
    ref = expected[external_id]
    response = viewer.get(f"/accounts/{ref['id']}/")
    assert response.status_code == 200
    page = response.content.decode()
    health, usage = ref["health"], ref["health"].usage
    assert f'band-{health.band}" title="Health band: {health.band.capitalize()}">{health.score}<' in page
    assert money(ref["acv"]) in page
    if usage["seats"]:
        assert f"{usage['mau']} of {usage['seats']} licensed seats active" in page
    if health.last_touch is None and health.x["engagement"] is not None:
        assert f"{health.x['engagement']} days since the first contract started, never touched" in page


def renewal_expectations(book, facts, currencies: set[str]) -> dict[str, tuple[Decimal, Decimal]]:
    """Per contract ending this quarter or later (not cancelled): ACV in the reporting currency at the page's
    evaluation date's rates, and the expected renewal value ACV × (1 − p) with the latest snapshot's p."""
    p = dict(AccountSnapshot.objects.filter(as_of=LATEST).values_list("account_id", "churn_probability"))
    expected = {}
    for contract in Contract.objects.filter(end_date__gte="2024-07-01").exclude(status="cancelled").values():
        if contract["currency"] in currencies:
            acv = reference.contract_acv(contract) * reference.rate_on(facts, contract["currency"], LATEST)
            probability = Fraction(p[contract["account_id"]])
            expected[contract["external_id"]] = (reference.cents(acv), reference.cents(acv * (1 - probability)))
    return expected


@pytest.mark.parametrize("currency", ["USD", "JPY", "EUR"])
def test_renewals_export_and_page(viewer, book, facts, currency):
    expected = renewal_expectations(book, facts, {currency})
    assert expected
    response = viewer.get("/renewals/export.csv")
    rows = {row["Contract"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    shown = {k: (Decimal(rows[k]["ACV"]), Decimal(rows[k]["Expected renewal"])) for k in expected}
    assert shown == expected
    page = viewer.get("/renewals/", {"per_page": 100}).content.decode()
    for external_id, (acv, value) in expected.items():
        row = row_of(page, f">{external_id}<")
        assert money(acv) in row and money(value) in row, external_id


def test_leadership_page(client, edna, book, facts):
    revenue = reference.revenue(facts, LATEST)
    retention = reference.retention(facts, LATEST)
    client.force_login(edna)
    response = client.get("/leadership/")
    assert response.status_code == 200
    page = response.content.decode()
    figures = dict(re.findall(r'<dt class="label">(.*?)</dt><dd class="value"[^>]*>(.*?)</dd>', page))
    assert figures["ARR"] == money(revenue.arr)
    assert figures["Customers"] == str(revenue.customers)
    assert figures["$1M customers"] == str(revenue.million_customers)
    assert figures["NRR (TTM)"] == percent(retention.nrr)
    assert figures["GRR (TTM)"] == percent(retention.grr)
    assert figures["Logo churn (TTM)"] == percent(retention.logo_churn)


def test_clv_and_expected_value_from_stored_probability(book, facts):
    """CLV = ACV × m × (1 − p) / (r + p) and ACV × (1 − p), with the snapshot's p, to the cent."""
    m, r = reference.exact(settings.CLV_GROSS_MARGIN), reference.exact(settings.CLV_DISCOUNT_RATE)
    snapshots = AccountSnapshot.objects.filter(as_of=LATEST, churn_probability__isnull=False)
    assert snapshots.exists()
    for snapshot in snapshots:
        acv = reference.account_acv(facts, snapshot.account_id, LATEST)
        p = Fraction(snapshot.churn_probability)
        clv = customer_lifetime_value(acv=snapshot.acv, churn_probability=snapshot.churn_probability)
        assert clv == reference.cents(reference.clv(acv, p, m=m, r=r)), snapshot.account_id
        value = expected_renewal_value(acv=snapshot.acv, churn_probability=snapshot.churn_probability)
        assert value == reference.cents(acv * (1 - p)), snapshot.account_id
