"""``/api/portfolio/`` uses the portfolio page's FilterSet and scoping; its query count does not grow."""

import pytest

from csm_platform.web.api.views import PortfolioViewSet
from csm_platform.web.filters import PortfolioFilterSet
from tests.web.conftest import book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_the_api_filters_with_the_pages_filterset():
    assert PortfolioViewSet.filterset_class is PortfolioFilterSet


def test_portfolio_api_rows_and_filters(client, alice, bob):
    book(n=6, owner=alice, prefix="ALICE")
    book(n=3, owner=bob, prefix="BOB")
    client.force_login(bob)
    response = client.get(f"/api/portfolio/?owner={alice.pk}&band=red&ordering=-acv")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first["name"] == "ALICE Customer 00003"
    assert first["acv"] == "48000.00"
    assert (first["health"], first["band"], first["risk_band"], first["health_change_30"]) == (25.0, "red", "high", 5.0)
    assert (first["mau"], first["seats"], first["open_tasks"], first["next_renewal"]) == (7.0, 20.0, 0, "2024-08-05")


def test_anonymous_is_refused(client):
    assert client.get("/api/portfolio/").status_code in (401, 403)


@pytest.mark.parametrize("accounts", [10, 200])
def test_api_queries_do_not_grow_with_accounts(client, alice, accounts, django_assert_num_queries):
    book(n=accounts, owner=alice)
    client.force_login(alice)
    # Session, user, latest snapshot date, whether the night's rows are built (not here: the snapshots are read
    # live), count, rows.
    with django_assert_num_queries(6):
        response = client.get("/api/portfolio/?ordering=-health")
    assert len(response.json()["results"]) == min(accounts, 50)
