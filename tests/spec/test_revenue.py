"""Every night's RevenueSnapshot against the reference: ARR, customers, $1M customers, trailing-twelve-month
NRR, GRR and logo churn in constant currency, and the ARR waterfall with its currency-effect line."""

import datetime as dt
from decimal import Decimal

import pytest

from health.models import RevenueSnapshot

from . import reference
from .book import NIGHTS


@pytest.mark.parametrize("night", NIGHTS, ids=str)
def test_arr_and_customers(book, facts, night):
    snapshot = RevenueSnapshot.objects.get(as_of=night)
    expected = reference.revenue(facts, night)
    assert (snapshot.arr, snapshot.customers, snapshot.million_customers) == (
        expected.arr,
        expected.customers,
        expected.million_customers,
    )


def test_million_customers_edge(book, facts):
    """1,000,000.00 counts, 999,999.99 does not."""
    acv = reference.acv_map(facts, dt.date(2024, 6, 30))
    assert acv[book.ids["USD-MILLION"]] == 1_000_000
    assert acv[book.ids["USD-ALMOST"]] < 1_000_000
    assert RevenueSnapshot.objects.get(as_of=dt.date(2024, 6, 30)).million_customers == 1


@pytest.mark.parametrize("night", NIGHTS, ids=str)
def test_retention_in_constant_currency(book, facts, night):
    snapshot = RevenueSnapshot.objects.get(as_of=night)
    expected = reference.retention(facts, night)
    assert expected.cohort > 0
    assert snapshot.nrr == pytest.approx(float(expected.nrr), abs=1e-12)
    assert snapshot.grr == pytest.approx(float(expected.grr), abs=1e-12)
    assert snapshot.logo_churn == pytest.approx(float(expected.logo_churn), abs=1e-12)


@pytest.mark.parametrize("night", NIGHTS, ids=str)
def test_waterfall_terms_and_identity(book, facts, night):
    stored = {k: Decimal(v) for k, v in RevenueSnapshot.objects.get(as_of=night).waterfall.items() if k != "excluded"}
    expected = reference.retention(facts, night).waterfall
    assert stored == expected
    assert (
        stored["start"]
        + stored["currency_effect"]
        + stored["new"]
        + stored["expansion"]
        - stored["contraction"]
        - stored["churn"]
        == stored["end"]
        == RevenueSnapshot.objects.get(as_of=night).arr
    )


def test_book_exercises_every_waterfall_term(facts):
    """Guards the book: new (incl. a returning customer), expansion, contraction, churn and a currency move in June;
    on the leap-day night no rate moved during the trailing twelve months (constant currency = as reported)."""
    june = reference.retention(facts, dt.date(2024, 6, 30)).waterfall
    assert all(june[term] > 0 for term in ("new", "expansion", "contraction", "churn", "currency_effect"))
    leap = reference.retention(facts, dt.date(2024, 2, 29)).waterfall
    assert leap["currency_effect"] == 0 and leap["churn"] > 0


def test_year_before_rule():
    """The trailing twelve months start on the same day a year earlier; 29 February starts on the 28th."""
    assert reference.year_before(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)
    assert reference.year_before(dt.date(2024, 6, 30)) == dt.date(2023, 6, 30)
