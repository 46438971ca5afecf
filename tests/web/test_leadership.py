"""Leadership dashboard: figures from the revenue snapshots, monthly ARR movements, bands over time, the row per
CSM (NRR/GRR of their book, median health, overdue tasks), $1M customers; pinned queries."""

import datetime as dt
from decimal import Decimal

import pytest

from health.models import AccountSnapshot, RevenueSnapshot
from tests.web.conftest import AS_OF, TODAY, book, open_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


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
    client.force_login(edna)
    response = client.get("/leadership/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("USD 1,000,000", "105.0%", "92.0%", "8.0%", "Σ ACV now ÷ Σ ACV a year ago"):
        assert text in page
    charts = response.context["charts"]
    assert all(charts[name] for name in ("arr", "movements", "bridge", "retention", "bands"))


def test_monthly_movements_come_from_snapshot_acv(client, edna, alice):
    accounts = book(n=4, owner=alice)
    may = AS_OF - dt.timedelta(days=30)
    # May → June: account 0 churns (12k), account 1 expands 24k → 30k, account 2 contracts 36k → 30k; a new one.
    AccountSnapshot.objects.filter(account=accounts[0], as_of=AS_OF).update(acv=0)
    AccountSnapshot.objects.filter(account=accounts[1], as_of=AS_OF).update(acv=Decimal("30000"))
    AccountSnapshot.objects.filter(account=accounts[2], as_of=AS_OF).update(acv=Decimal("30000"))
    AccountSnapshot.objects.filter(account=accounts[3], as_of=may).update(acv=0)
    client.force_login(edna)
    movements = client.get("/leadership/").context["page"].movements
    june = movements.iloc[-1]
    assert june["month"] == AS_OF
    assert (june["new"], june["expansion"], june["contraction"], june["churn"]) == (
        Decimal("48000.00"),
        Decimal("6000.00"),
        Decimal("6000.00"),
        Decimal("12000.00"),
    )
    assert june["net"] == Decimal("36000.00")
    bands = client.get("/leadership/").context["page"].bands
    assert list(bands["as_of"]) == [may, AS_OF]


def test_a_row_per_csm(client, edna, alice, bob):
    accounts = book(n=3, owner=alice)
    book(n=2, owner=bob, prefix="BOB")
    open_task(accounts[0], alice, due=TODAY - dt.timedelta(days=3))
    open_task(accounts[0], alice, due=TODAY + dt.timedelta(days=3))
    client.force_login(edna)
    rows = {row.user.username: row for row in client.get("/leadership/").context["page"].csms}
    assert (rows["alice"].accounts, rows["alice"].arr, rows["alice"].median_health) == (3, Decimal("72000.00"), 55.0)
    assert (rows["alice"].overdue_tasks, rows["bob"].overdue_tasks) == (1, 0)
    # Their contracts started within the last year: nobody had ACV a year ago, the cohort is empty, N/A not 0.
    assert rows["alice"].retention.nrr is None


def test_million_dollar_customers(client, edna, alice):
    (big, small) = book(n=2, owner=alice)
    AccountSnapshot.objects.filter(account=big, as_of=AS_OF).update(acv=Decimal("1250000"))
    client.force_login(edna)
    response = client.get("/leadership/")
    assert [s.account for s in response.context["page"].millions] == [big]
    assert "USD 1,250,000" in response.content.decode()


def test_empty_states_before_the_first_night(client, edna):
    client.force_login(edna)
    page = client.get("/leadership/").content.decode()
    assert "No revenue snapshot yet" in page
    assert "No account has a CSM yet." in page


@pytest.mark.parametrize("accounts", [10, 200])
def test_leadership_queries_do_not_grow_with_accounts(
    client, edna, alice, revenue, accounts, django_assert_num_queries
):
    book(n=accounts, owner=alice)
    client.force_login(edna)
    # Session, user, roles, latest date, month ends, revenue (latest, by month), movements (one per month pair: 1),
    # bands, millions, CSM rows (owners, ARR, scores, contracts a year ago and now, overdue, users), time to value
    # (accounts, first contracts, settings, adoption stage, value reached).
    with django_assert_num_queries(22):
        response = client.get("/leadership/")
    assert response.status_code == 200
