"""Renewals: windows and quarters, expected renewal value, totals per forecast category, setting the forecast
(AE, manager, admin only) with its history, CSV export, pinned queries."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine

from csm_platform.web.models import RenewalForecast, RenewalForecastChange
from health.models import AccountSnapshot
from tests.factories import AccountFactory, ContractFactory, UserFactory
from tests.web.conftest import AS_OF, TODAY, book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def contracts(response) -> list[str]:
    return [row.record.contract.external_id for row in response.context["table"].page.object_list]


def test_each_role_lands_on_its_own_renewals(client, andy, alice, mallory, edna):
    client.force_login(andy)
    assert client.get("/renewals/")["Location"] == f"/renewals/?account_executive={andy.pk}&window=90"
    client.force_login(alice)
    assert client.get("/renewals/")["Location"] == f"/renewals/?owner={alice.pk}&window=90"
    client.force_login(mallory)
    assert client.get("/renewals/")["Location"] == f"/renewals/?team={mallory.team_id}&window=90"
    client.force_login(edna)
    assert client.get("/renewals/")["Location"] == "/renewals/?window=90"


def test_window_quarter_and_ae_filters(client, andy, alice):
    other_ae = UserFactory(username="otto", roles=["Account executive"])
    book(n=20, owner=alice, ae=andy, prefix="ANDY")
    book(n=5, owner=alice, ae=other_ae, prefix="OTTO")
    client.force_login(andy)
    # Ends on 2024-07-15 + 7i days: within 90 days of 2024-07-01 for i ≤ 10.
    mine = client.get(f"/renewals/?account_executive={andy.pk}&window=90")
    assert contracts(mine) == [f"ANDY-CT-{i:05d}" for i in range(11)]
    within_30 = client.get("/renewals/?window=30")
    assert contracts(within_30) == [f"{p}-CT-{i:05d}" for i in range(3) for p in ("ANDY", "OTTO")]
    # 2024-Q4: 2024-10-01 .. 2024-12-31: i = 12 .. 24.
    q4 = client.get(f"/renewals/?account_executive={andy.pk}&quarter=2024-Q4")
    assert contracts(q4) == [f"ANDY-CT-{i:05d}" for i in range(12, 20)]


def test_expected_value_and_totals_per_category(client, andy, alice):
    accounts = book(n=3, owner=alice, ae=andy)
    client.force_login(andy)
    first = accounts[0].contracts.get()
    client.post(f"/renewals/{first.pk}/forecast/", {"category": "at_risk", "note": "Sponsor left"})
    response = client.get("/renewals/?window=90")
    rows = {row.record.contract.pk: row.record for row in response.context["table"].page.object_list}
    # ACV 12,000 × (1 − 0.62) = 4,560; 24,000 × 0.7 = 16,800; 36,000 × 0.92 = 33,120.
    assert [rows[a.contracts.get().pk].expected for a in accounts] == [
        Decimal("4560.00"),
        Decimal("16800.00"),
        Decimal("33120.00"),
    ]
    totals = {total.key: total for total in response.context["totals"].categories}
    assert (totals["at_risk"].contracts, totals["at_risk"].acv, totals["at_risk"].expected) == (
        1,
        Decimal("12000.00"),
        Decimal("4560.00"),
    )
    assert (totals["none"].contracts, totals["none"].acv) == (2, Decimal("60000.00"))
    assert response.context["totals"].open.expected == Decimal("54480.00")
    page = response.content.decode()
    assert "USD 54,480" in page
    assert "Σ ACV × (1 − p)" in page


def test_the_ae_sets_the_forecast_and_its_history_is_kept(client, andy, alice):
    (account,) = book(n=1, owner=alice, ae=andy)
    contract = account.contracts.get()
    client.force_login(andy)
    url = f"/renewals/{contract.pk}/forecast/"
    back = "/renewals/?window=30"
    response = client.post(url, {"category": "probable", "note": "", "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    client.post(url, {"category": "commit", "note": "Signed PO", "next": "https://evil.example.com/"})
    forecast = RenewalForecast.objects.get(contract=contract)
    assert (forecast.category, forecast.note, forecast.set_by) == ("commit", "Signed PO", andy)
    history = list(RenewalForecastChange.objects.filter(contract=contract).order_by("set_at", "id"))
    assert [(h.previous_category, h.category) for h in history] == [("", "probable"), ("probable", "commit")]
    page = client.get(url).content.decode()
    assert "Probable → Commit" in page
    assert "Signed PO" in page


@pytest.mark.parametrize(
    ("user", "status"), [("andy", 302), ("mallory", 302), ("ada", 302), ("alice", 403), ("bob", 403), ("edna", 403)]
)
def test_who_may_set_a_forecast(request, client, alice, andy, mallory, ada, bob, edna, user, status):
    (account,) = book(n=1, owner=alice, ae=andy)
    contract = account.contracts.get()
    client.force_login(request.getfixturevalue(user))
    response = client.post(f"/renewals/{contract.pk}/forecast/", {"category": "lost"})
    assert response.status_code == status
    assert RenewalForecast.objects.filter(contract=contract).exists() == (status == 302)
    page = client.get(f"/renewals/{contract.pk}/forecast/")
    assert page.status_code == 200
    assert (page.context["form"] is not None) == (status == 302)


def test_another_aes_account_is_read_only_for_an_ae(client, alice, andy):
    other_ae = UserFactory(username="otto", roles=["Account executive"])
    (account,) = book(n=1, owner=alice, ae=other_ae)
    client.force_login(andy)
    response = client.post(f"/renewals/{account.contracts.get().pk}/forecast/", {"category": "lost"})
    assert response.status_code == 403
    row = client.get("/renewals/?window=30").context["table"].page.object_list[0].record
    assert row.can_forecast is False


def test_csv_export(client, andy, alice):
    book(n=60, owner=alice, ae=andy)
    client.force_login(andy)
    response = client.get("/renewals/export.csv?window=180&sort=-acv")
    assert response["Content-Disposition"] == f'attachment; filename="renewals-{TODAY:%Y-%m-%d}.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = table[0], table[1:]
    # Ends within 180 days of 2024-07-01 (until 2024-12-28): i = 0..23, also 50..59 (wrapping after 350 days).
    assert len(body) == 34
    acv = [Decimal(row[header.index("ACV")]) for row in body]
    assert acv == sorted(acv, reverse=True)
    assert "Expected renewal" in header and "Forecast" in header


@pytest.mark.parametrize("accounts", [10, 200])
def test_renewals_queries_do_not_grow_with_accounts(client, andy, alice, accounts, django_assert_num_queries):
    book(n=accounts, owner=alice, ae=andy)
    client.force_login(andy)
    # Session, user, latest date, AE choice (validation), roles (forecast scope), totals from the stored rows (one
    # aggregate, which finds them not built here), every row read live, saved views, nav roles, filter choices (AE,
    # CSM, team) rendered, the night's churn model. The page from the rows: tests/web/test_renewal_rows.py.
    with django_assert_num_queries(13):
        response = client.get(f"/renewals/?account_executive={andy.pk}&window=180")
    assert response.status_code == 200


@pytest.fixture
def decisions(alice, andy):
    """2024-Q3: a contract renewed by its successor with a co-termed expansion (both renewed), one that ends on
    07-15 without a successor (churned once that day has passed), and an open one; each account scored on AS_OF."""
    renewed, churned, still_open = (
        AccountFactory(name=name, owner=alice, account_executive=andy) for name in ("Renewed", "Churned", "Open")
    )
    main = ContractFactory(
        account=renewed, start_date=dt.date(2023, 7, 31), end_date=dt.date(2024, 7, 30), recurring_tcv=12000
    )
    ContractFactory(
        account=renewed,
        kind="expansion",
        start_date=dt.date(2024, 1, 31),
        end_date=dt.date(2024, 7, 30),
        recurring_tcv=3000,
    )
    ContractFactory(
        account=renewed,
        kind="renewal",
        renews=main,
        start_date=dt.date(2024, 7, 31),
        end_date=dt.date(2025, 7, 30),
        recurring_tcv=18000,
    )
    ContractFactory(
        account=churned, start_date=dt.date(2023, 7, 16), end_date=dt.date(2024, 7, 15), recurring_tcv=24000
    )
    ContractFactory(
        account=still_open, start_date=dt.date(2023, 10, 1), end_date=dt.date(2024, 9, 30), recurring_tcv=36000
    )
    AccountSnapshot.objects.bulk_create(
        AccountSnapshot(account=a, as_of=AS_OF, acv=Decimal(0), churn_probability=0.25, risk_band="medium")
        for a in (renewed, churned, still_open)
    )
    return renewed, churned, still_open


def test_renewal_states_and_their_totals(client, andy, decisions):
    renewed, churned, still_open = decisions
    with time_machine.travel(dt.datetime(2024, 8, 15, 9, tzinfo=dt.UTC), tick=False):
        client.force_login(andy)
        response = client.get("/renewals/?quarter=2024-Q3")
        only_renewed = client.get("/renewals/?quarter=2024-Q3&state=renewed")
    by_state = [row.record for row in response.context["table"].rows]
    assert {(r.account.name, r.contract.end_date, r.state) for r in by_state} == {
        ("Renewed", dt.date(2024, 7, 30), "renewed"),
        ("Churned", dt.date(2024, 7, 15), "churned"),
        ("Open", dt.date(2024, 9, 30), "open"),
    }
    # The main contract and its co-termed expansion end together: one decision, one outcome for both.
    assert sorted(r.state for r in by_state if r.account == renewed) == ["renewed", "renewed"]
    assert sorted(r.state for r in by_state) == ["churned", "open", "renewed", "renewed"]
    assert all(r.expected is None for r in by_state if r.state != "open")
    totals = {total.key: total for total in response.context["totals"].states}
    # Up for renewal: the open contract only (36,000), expected 36,000 × 0.75; renewed 12,000 + the six-month
    # expansion's 6,000 a year, undiscounted.
    assert (totals["open"].contracts, totals["open"].acv, totals["open"].expected) == (
        1,
        Decimal("36000.00"),
        Decimal("27000.00"),
    )
    assert (totals["renewed"].contracts, totals["renewed"].acv, totals["renewed"].expected) == (
        2,
        Decimal("18000.00"),
        None,
    )
    assert (totals["churned"].contracts, totals["churned"].acv) == (1, Decimal("24000.00"))
    assert sum(total.contracts for total in response.context["totals"].categories) == 1
    assert {row.record.state for row in only_renewed.context["table"].rows} == {"renewed"}


def test_a_forecast_has_an_amount_and_a_next_step_and_only_open_renewals_take_one(client, andy, decisions):
    renewed, _churned, still_open = decisions
    open_contract = still_open.contracts.get()
    client.force_login(andy)
    form = client.get(f"/renewals/{open_contract.pk}/forecast/").context["form"]
    assert form.initial["amount"] == Decimal("27000.00")  # the expected value, ACV × (1 − p)
    page = client.get(f"/renewals/{open_contract.pk}/forecast/").content.decode()
    assert 'id="forecast-acv">USD 36,000' in page and "25%" in page
    response = client.post(
        f"/renewals/{open_contract.pk}/forecast/",
        {"category": "probable", "amount": "30000", "next_step": "Send the order form", "note": ""},
    )
    assert response.status_code == 302
    forecast = RenewalForecast.objects.get(contract=open_contract)
    assert (forecast.amount, forecast.next_step) == (Decimal("30000.00"), "Send the order form")
    api = {row["account"]: row for row in client.get("/api/renewals/?quarter=2024-Q3").json()["results"]}
    assert (api["Open"]["category"], api["Open"]["amount"], api["Open"]["next_step"]) == (
        "probable",
        "30000.00",
        "Send the order form",
    )
    assert (api["Open"]["state"], api["Open"]["expected"]) == ("open", "27000.00")
    decided = renewed.contracts.get(end_date=dt.date(2024, 7, 30), kind="new")
    refused = client.post(f"/renewals/{decided.pk}/forecast/", {"category": "commit"})
    assert refused.status_code == 400
    assert not RenewalForecast.objects.filter(contract=decided).exists()
    assert client.get(f"/renewals/{decided.pk}/forecast/").context["form"] is None
