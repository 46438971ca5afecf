"""Retention, waterfall and CLV on hand-computed examples (docs/concepts/retention.md)."""

import datetime as dt
from decimal import Decimal

import pytest

from health.revenue import (
    Period,
    arr_waterfall,
    customer_lifetime_value,
    expected_renewal_value,
    retention,
    retention_from_period,
    waterfall_from_period,
    year_before,
)
from tests.factories import AccountFactory, ContractFactory, ExchangeRateFactory

D = dt.date
M = Decimal

START, END = D(2024, 1, 1), D(2024, 12, 31)
# a: expands 100 → 150, b: contracts 200 → 120, c: churns 300 → 0, d: new 0 → 80, e: flat 50 → 50
ACV_START = {1: M(100), 2: M(200), 3: M(300), 5: M(50)}
ACV_END = {1: M(150), 2: M(120), 4: M(80), 5: M(50)}


def retention_from_acv(*, acv_start, acv_end, start, end):
    """One currency: the start as reported is the start at the end day's rates."""
    return retention_from_period(Period(start, end, acv_start, acv_end, acv_start, []))


def waterfall_from_acv(*, acv_start, acv_end):
    return waterfall_from_period(Period(START, END, acv_start, acv_end, acv_start, []))


def test_nrr_counts_expansion_and_excludes_new_accounts():
    result = retention_from_acv(acv_start=ACV_START, acv_end=ACV_END, start=START, end=END)
    assert result.cohort == 4
    assert result.nrr == pytest.approx(320 / 650)  # (150 + 120 + 0 + 50) / (100 + 200 + 300 + 50); d's 80 is out
    assert result.grr == pytest.approx(270 / 650)  # (100 + 120 + 0 + 50) / 650


def test_grr_never_exceeds_100_percent_even_when_everyone_expands():
    result = retention_from_acv(acv_start={1: M(100)}, acv_end={1: M(500)}, start=START, end=END)
    assert result.nrr == pytest.approx(5.0)
    assert result.grr == pytest.approx(1.0)


def test_logo_churn_is_annualized_by_compounding_not_multiplying():
    quarter_end = D(2024, 3, 31)  # 90 days
    result = retention_from_acv(acv_start=ACV_START, acv_end=ACV_END, start=START, end=quarter_end)
    assert result.logo_churn == pytest.approx(1 / 4)
    assert result.logo_churn_annualized == pytest.approx(1 - (3 / 4) ** (365 / 90))  # ≈ 0.688, not 4 × 0.25


def test_empty_cohort_is_na_not_zero():
    result = retention_from_acv(acv_start={}, acv_end={4: M(80)}, start=START, end=END)
    assert (result.nrr, result.grr, result.logo_churn) == (None, None, None)


def test_waterfall_terms_and_identity_hold_exactly():
    w = waterfall_from_acv(acv_start=ACV_START, acv_end=ACV_END)
    assert (w.start, w.new, w.expansion, w.contraction, w.churn, w.end) == (M(650), M(80), M(50), M(80), M(300), M(400))
    assert w.currency_effect == 0
    assert w.start + w.new + w.expansion - w.contraction - w.churn == w.end


def test_a_zero_acv_live_contract_is_not_in_the_retention_cohort():
    result = retention_from_acv(acv_start={1: M(100), 2: M(0)}, acv_end={1: M(100), 2: M(0)}, start=START, end=END)
    assert (result.cohort, result.churned_logos, result.logo_churn) == (1, 0, 0.0)


@pytest.mark.django_db
def test_a_currency_move_is_not_contraction_and_has_its_own_waterfall_line(settings):
    settings.REPORTING_CURRENCY = "USD"
    for _ in range(3):  # unchanged EUR contracts over the year
        ContractFactory(currency="EUR", recurring_tcv=M("20000"), start_date=D(2023, 1, 1), end_date=D(2025, 12, 31))
    ExchangeRateFactory(currency="EUR", date=D(2023, 1, 1), rate=M("1.20"))
    ExchangeRateFactory(currency="EUR", date=D(2024, 6, 1), rate=M("1.05"))

    w = arr_waterfall(start=D(2024, 1, 1), end=D(2024, 12, 1))
    r = retention(start=D(2024, 1, 1), end=D(2024, 12, 1))

    assert (w.contraction, w.expansion, w.churn, w.new) == (0, 0, 0, 0)
    assert w.start == M("24000.00")  # as reported on the start day: 3 × 6666.67 × 1.20 … per account, then summed
    assert w.end == M("21000.00")
    assert w.currency_effect == M("-3000.00")
    assert w.start + w.currency_effect + w.new + w.expansion - w.contraction - w.churn == w.end
    assert (r.nrr, r.grr) == (1.0, 1.0)


@pytest.mark.django_db
def test_an_account_without_a_rate_on_either_date_is_left_out_of_retention_and_listed():
    kept, gbp = AccountFactory(), AccountFactory()
    ContractFactory(account=kept, recurring_tcv=M("1000"), start_date=D(2024, 1, 1), end_date=D(2024, 12, 31))
    ContractFactory(
        account=gbp, currency="GBP", recurring_tcv=M("9000"), start_date=D(2024, 1, 1), end_date=D(2024, 12, 31)
    )
    ExchangeRateFactory(currency="GBP", date=D(2024, 6, 1), rate=M("1.30"))  # none on the start day

    r = retention(start=D(2024, 1, 1), end=D(2024, 12, 1))

    assert (r.cohort, r.cohort_start_arr, r.nrr) == (1, M("1000.00"), 1.0)
    assert [item["account_id"] for item in r.excluded] == [gbp.pk]
    assert "no GBP exchange rate on or before 2024-01-01" in r.excluded[0]["reason"]


@pytest.mark.django_db
def test_waterfall_from_contracts_with_returning_customer_counted_as_new():
    expanding, returning = AccountFactory(), AccountFactory()
    ContractFactory(account=expanding, recurring_tcv=M("12000.00"), start_date=D(2023, 1, 1), end_date=D(2024, 12, 31))
    ContractFactory(
        account=expanding,
        recurring_tcv=M("1000.01"),
        kind="expansion",
        start_date=D(2024, 7, 1),
        end_date=D(2024, 12, 31),
    )  # 6 months → ACV 2000.02
    ContractFactory(account=returning, recurring_tcv=M("7777.77"), start_date=D(2022, 1, 1), end_date=D(2022, 12, 31))
    ContractFactory(account=returning, recurring_tcv=M("3333.33"), start_date=D(2024, 6, 1), end_date=D(2025, 5, 31))

    w = arr_waterfall(start=D(2024, 1, 1), end=D(2024, 8, 1))
    assert (w.start, w.new, w.expansion, w.contraction, w.churn, w.end) == (
        M("6000.00"),
        M("3333.33"),
        M("2000.02"),
        M(0),
        M(0),
        M("11333.35"),
    )
    assert w.start + w.currency_effect + w.new + w.expansion - w.contraction - w.churn == w.end
    assert retention(start=D(2024, 1, 1), end=D(2024, 8, 1)).nrr == pytest.approx(8000.02 / 6000)


def test_clv_and_expected_renewal_value():
    # 100,000 × 0.8 × (1 − 0.2) / (0.1 + 0.2) = 213,333.33
    assert customer_lifetime_value(acv=M(100000), churn_probability=0.2) == M("213333.33")
    assert customer_lifetime_value(acv=M(100000), churn_probability=0.0, gross_margin=0.5) == M("500000.00")
    assert expected_renewal_value(acv=M(100000), churn_probability=0.35) == M("65000.00")
    assert customer_lifetime_value(acv=None, churn_probability=0.2) is None  # ACV N/A: CLV N/A, never 0
    assert expected_renewal_value(acv=M(100000), churn_probability=None) is None


def test_year_before_handles_leap_day():
    assert year_before(D(2024, 2, 29)) == D(2023, 2, 28)
    assert year_before(D(2025, 3, 1)) == D(2024, 3, 1)
