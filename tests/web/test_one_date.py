"""One date per page, one function per number (docs/concepts/point-in-time.md): an
account's ACV, health, band, risk and CLV are the same on the portfolio row, the account page, the renewals row,
the API and the CSV export, for the latest night and for a night picked with ``?as_of=``; an account whose ACV is
N/A shows why on every surface and never breaks a page; every total says what it leaves out."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from accounts.models import Contract
from csm_platform.web.selectors.portfolio import account_clv
from health.models import AccountSnapshot, RecomputeRun
from health.pipeline import recompute
from health.revenue import customer_lifetime_value
from tests.factories import AccountFactory, ContractFactory, ExchangeRateFactory
from tests.web.conftest import AS_OF, TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

PAST = AS_OF - dt.timedelta(days=30)


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def euro_account(alice, andy):
    """A EUR contract whose rate moves: 1.10 until the past night, 1.20 for the latest, 1.50 today (after the latest
    night): converting at a wrong date gives another ACV. Scored on both nights."""
    account = AccountFactory(name="Euro GmbH", owner=alice, account_executive=andy)
    ContractFactory(
        account=account,
        currency="EUR",
        recurring_tcv=Decimal("10000"),
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    for day, rate in ((dt.date(2024, 1, 1), "1.10"), (AS_OF - dt.timedelta(days=5), "1.20"), (TODAY, "1.50")):
        ExchangeRateFactory(currency="EUR", date=day, rate=Decimal(rate))
    for night in (PAST, AS_OF):
        recompute(as_of=night)
    return account


@pytest.mark.parametrize(("picked", "night", "acv"), [(None, AS_OF, "12000.00"), (PAST, PAST, "11000.00")])
def test_one_accounts_figures_are_identical_on_every_surface(client, edna, euro_account, picked, night, acv):
    snapshot = AccountSnapshot.objects.get(account=euro_account, as_of=night)
    assert snapshot.acv == Decimal(acv)  # the night's own rate: 10,000 × 1.10 or × 1.20, never today's 1.50
    clv = customer_lifetime_value(acv=snapshot.acv, churn_probability=snapshot.churn_probability)
    expected = (snapshot.acv, snapshot.health, snapshot.band, snapshot.risk_band, clv)
    query = f"as_of={picked:%Y-%m-%d}&" if picked else ""
    client.force_login(edna)

    portfolio = client.get(f"/portfolio/?{query}owner=")
    row = portfolio.context["table"].page.object_list[0].record
    assert portfolio.context["as_of"] == night
    assert (row.acv, row.health, row.band, row.risk_band, account_clv(row)) == expected

    page = client.get(f"/accounts/{euro_account.pk}/?{query}").context["page"]
    assert page.as_of == night
    assert (page.account.acv, page.account.health, page.account.band, page.account.risk_band, page.clv) == expected
    (contract_row,) = page.contracts
    assert contract_row.acv_reporting == snapshot.acv  # the contract table converts at the night's rate too

    renewals = client.get(f"/renewals/?{query}q=Euro")
    renewal = renewals.context["table"].page.object_list[0].record
    assert (renewal.acv, renewal.health, renewal.band, renewal.risk_band) == expected[:4]

    (api_row,) = client.get(f"/api/portfolio/?{query}").json()["results"]
    assert (
        Decimal(api_row["acv"]),
        api_row["health"],
        api_row["band"],
        api_row["risk_band"],
        Decimal(api_row["clv"]),
    ) == expected
    assert api_row["as_of"] == night.isoformat()
    (api_renewal,) = client.get(f"/api/renewals/?{query}").json()["results"]
    assert (Decimal(api_renewal["acv"]), api_renewal["health"], api_renewal["band"]) == expected[:3]

    (exported,) = csv_rows(client.get(f"/portfolio/export.csv?{query}"))
    assert (
        Decimal(exported["ACV"]),
        int(exported["Health"]),
        exported["Health band"],
        exported["Risk band"],
        Decimal(exported["CLV"]),
    ) == expected
    assert exported["As of (night)"] == night.isoformat()
    (renewal_export,) = csv_rows(client.get(f"/renewals/export.csv?{query}"))
    assert Decimal(renewal_export["ACV"]) == snapshot.acv


@pytest.fixture
def pound_account(alice, andy):
    """A GBP contract without any GBP rate beside a USD account: the night must succeed for the USD one."""
    gbp = AccountFactory(name="Pound Ltd", owner=alice, account_executive=andy)
    ContractFactory(account=gbp, currency="GBP", recurring_tcv=Decimal("50000"), end_date=dt.date(2024, 12, 31))
    usd = AccountFactory(name="Dollar Inc", owner=alice, account_executive=andy)
    ContractFactory(account=usd, recurring_tcv=Decimal("24000"), end_date=dt.date(2024, 12, 31))
    run = recompute(as_of=AS_OF)
    assert run.status == RecomputeRun.Status.SUCCEEDED
    return gbp, usd


REASON = "no GBP exchange rate on or before 2024-06-30"


def test_a_missing_rate_is_na_with_its_reason_on_every_page_and_no_page_fails(client, ada, pound_account):
    gbp, usd = pound_account
    snapshots = {s.account_id: s for s in AccountSnapshot.objects.filter(as_of=AS_OF)}
    assert snapshots[gbp.pk].acv is None and snapshots[gbp.pk].problems[0]["kind"] == "missing_exchange_rate"
    assert snapshots[usd.pk].acv == Decimal("24000.00")
    client.force_login(ada)
    contract = Contract.objects.get(account=gbp)
    urls = [
        "/portfolio/?owner=",
        f"/accounts/{gbp.pk}/",
        "/renewals/?window=",
        "/leadership/",
        "/status/",
        f"/renewals/{contract.pk}/forecast/",
        "/api/portfolio/",
        "/api/renewals/",
        "/portfolio/export.csv",
        "/renewals/export.csv",
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()

    assert f"ARR excludes 1 account: {REASON}" in pages["/portfolio/?owner="]
    assert pages["/portfolio/?owner="].count('N/A</span> <span class="na-reason">' + REASON) == 1
    assert client.get("/portfolio/?owner=").context["figures"].arr == Decimal("24000.00")
    account_page = pages[f"/accounts/{gbp.pk}/"]
    assert f'<dd class="value" id="acv"><span class="band band-na" title="{REASON}">N/A</span>' in account_page
    assert "USD 0" not in account_page
    assert f"The total excludes 1 account: {REASON}" in pages["/renewals/?window="]
    assert f"ARR excludes 1 account: {REASON}" in pages["/leadership/"]
    assert "ACV is N/A: no GBP exchange rate on or before 2024-06-30." in pages["/status/"]
    assert f"/admin/accounts/account/{gbp.pk}/change/" in pages["/status/"]
    assert REASON in pages[f"/renewals/{contract.pk}/forecast/"]
    api = {row["name"]: row for row in client.get("/api/portfolio/").json()["results"]}
    assert (api["Pound Ltd"]["acv"], api["Pound Ltd"]["acv_na_reason"], api["Pound Ltd"]["clv"]) == (None, REASON, None)
    exported = {row["Account"]: row for row in csv_rows(client.get("/portfolio/export.csv"))}
    assert (exported["Pound Ltd"]["ACV"], exported["Pound Ltd"]["ACV N/A because"]) == ("", REASON)
    assert exported["Dollar Inc"]["ACV"] == "24000.00"
    renewals = {row["Account"]: row for row in csv_rows(client.get("/renewals/export.csv"))}
    assert (renewals["Pound Ltd"]["ACV"], renewals["Pound Ltd"]["ACV N/A because"]) == ("", REASON)


def test_a_picked_date_before_the_first_night_shows_no_figures(client, edna, euro_account):
    client.force_login(edna)
    response = client.get("/portfolio/?as_of=2020-01-01&owner=")
    assert response.status_code == 200
    assert response.context["as_of"] is None
    assert response.context["table"].page.object_list[0].record.acv is None
    assert client.get("/portfolio/?as_of=not-a-date&owner=").context["as_of"] == AS_OF
