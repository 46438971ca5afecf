"""Retention, waterfall and CLV on hand-computed examples (DOMAIN.md, "Retention" and "Renewals and value")."""

import datetime as dt
from decimal import Decimal

import pytest

from health.revenue import (
    arr_waterfall,
    customer_lifetime_value,
    expected_renewal_value,
    retention,
    retention_from_acv,
    waterfall_from_acv,
    year_before,
)
from tests.factories import AccountFactory, ContractFactory

D = dt.date
M = Decimal

START, END = D(2024, 1, 1), D(2024, 12, 31)
# a: expands 100 → 150, b: contracts 200 → 120, c: churns 300 → 0, d: new 0 → 80, e: flat 50 → 50
ACV_START = {1: M(100), 2: M(200), 3: M(300), 5: M(50)}
ACV_END = {1: M(150), 2: M(120), 4: M(80), 5: M(50)}


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
    assert w.start + w.new + w.expansion - w.contraction - w.churn == w.end


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
    assert w.start + w.new + w.expansion - w.contraction - w.churn == w.end
    assert retention(start=D(2024, 1, 1), end=D(2024, 8, 1)).nrr == pytest.approx(8000.02 / 6000)


def test_clv_and_expected_renewal_value():
    # 100,000 × 0.8 × (1 − 0.2) / (0.1 + 0.2) = 213,333.33
    assert customer_lifetime_value(acv=M(100000), churn_probability=0.2) == M("213333.33")
    assert customer_lifetime_value(acv=M(100000), churn_probability=0.0, gross_margin=0.5) == M("500000.00")
    assert expected_renewal_value(acv=M(100000), churn_probability=0.35) == M("65000.00")


def test_year_before_handles_leap_day():
    assert year_before(D(2024, 2, 29)) == D(2023, 2, 28)
    assert year_before(D(2025, 3, 1)) == D(2024, 3, 1)
