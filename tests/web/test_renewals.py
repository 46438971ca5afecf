"""Renewals: windows and quarters, expected renewal value, totals per forecast category, setting the forecast
(AE, manager, admin only) with its history, CSV export, pinned queries."""

import csv
import io
from decimal import Decimal

import pytest

from csm_platform.web.models import RenewalForecast, RenewalForecastChange
from tests.factories import UserFactory
from tests.web.conftest import TODAY, book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def contracts(response) -> list[str]:
    return [row.record.contract.external_id for row in response.context["table"].page.object_list]


def test_an_ae_lands_on_the_renewals_of_their_accounts(client, andy, alice):
    client.force_login(andy)
    assert client.get("/renewals/")["Location"] == f"/renewals/?account_executive={andy.pk}&window=90"
    client.force_login(alice)
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
    # Session, user, latest date, AE choice (validation), rows, roles (forecast scope), saved views, nav roles,
    # filter choices (AE, CSM) rendered, the night's churn model.
    with django_assert_num_queries(11):
        response = client.get(f"/renewals/?account_executive={andy.pk}&window=180")
    assert response.status_code == 200
