"""Contract value (docs/concepts/contract-value.md): every expected figure below is computed by hand in the test."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Contract
from accounts.selectors import (
    RateBook,
    account_acv,
    account_acv_book,
    acv_converted,
    contract_acv,
    contract_term,
    million_dollar_customers,
)
from tests.factories import AccountFactory, ContractFactory, ExchangeRateFactory

D = dt.date


@pytest.mark.parametrize(
    ("start", "end", "years"),
    [
        (D(2024, 1, 1), D(2024, 12, 31), Decimal(1)),  # leap year: still exactly one year
        (D(2023, 1, 1), D(2023, 12, 31), Decimal(1)),
        (D(2023, 3, 15), D(2026, 3, 14), Decimal(3)),  # multi-year, whole months
        (D(2024, 7, 1), D(2024, 12, 31), Decimal("0.5")),  # six months
        (D(2024, 2, 29), D(2025, 2, 28), Decimal(366) / 365),  # Mar 1 is not the 29th: days / 365
        (D(2024, 1, 10), D(2024, 2, 23), Decimal(45) / 365),  # odd term: days / 365
    ],
)
def test_term_years(start, end, years):
    assert contract_term(start_date=start, end_date=end).years == years


@pytest.mark.parametrize(
    ("tcv", "start", "end", "acv"),
    [
        (Decimal("36000"), D(2023, 1, 1), D(2025, 12, 31), Decimal("12000.00")),  # 3 years → 36000 / 3
        (Decimal("6000"), D(2024, 1, 1), D(2024, 6, 30), Decimal("12000.00")),  # 6 months → 6000 × 2
        (Decimal("12000"), D(2024, 1, 1), D(2024, 12, 31), Decimal("12000.00")),  # leap year, 366 days
        (Decimal("1000"), D(2024, 1, 10), D(2024, 2, 23), Decimal("8111.11")),  # 1000 × 365 / 45 = 8111.111…
    ],
)
def test_contract_acv(tcv, start, end, acv):
    assert contract_acv(recurring_tcv=tcv, start_date=start, end_date=end) == acv


@pytest.mark.django_db
def test_account_acv_sums_live_contracts_only_and_excludes_one_time_fees():
    account = AccountFactory()
    ContractFactory(
        account=account,
        recurring_tcv=Decimal("24000"),
        one_time_fees=Decimal("5000"),
        start_date=D(2024, 1, 1),
        end_date=D(2025, 12, 31),
    )  # ACV 12000, fees ignored
    ContractFactory(
        account=account,
        kind=Contract.Kind.EXPANSION,
        recurring_tcv=Decimal("3000"),
        start_date=D(2024, 7, 1),
        end_date=D(2025, 12, 31),
    )  # 18 months → 3000 / 1.5 = 2000
    ContractFactory(
        account=account,
        recurring_tcv=Decimal("99000"),
        status=Contract.Status.CANCELLED,
        start_date=D(2024, 1, 1),
        end_date=D(2024, 12, 31),
    )  # cancelled: never live
    ContractFactory(
        account=account,
        recurring_tcv=Decimal("7000"),
        status=Contract.Status.ENDED,
        start_date=D(2023, 1, 1),
        end_date=D(2023, 12, 31),
    )  # ended before d

    assert account_acv(account_id=account.pk, as_of=D(2024, 3, 1)) == Decimal("12000.00")
    assert account_acv(account_id=account.pk, as_of=D(2024, 7, 1)) == Decimal("14000.00")  # upsell from its start
    assert account_acv(account_id=account.pk, as_of=D(2025, 12, 31)) == Decimal("14000.00")  # end date inclusive
    assert account_acv(account_id=account.pk, as_of=D(2026, 1, 1)) == Decimal("0.00")
    assert account_acv(account_id=account.pk, as_of=D(2023, 6, 1)) == Decimal("7000.00")


@pytest.mark.django_db
def test_two_currencies_convert_at_the_rate_on_the_day(settings):
    settings.REPORTING_CURRENCY = "USD"
    us, eu = AccountFactory(), AccountFactory()
    ContractFactory(account=us, recurring_tcv=Decimal("10000"))
    ContractFactory(account=eu, currency="EUR", recurring_tcv=Decimal("20000"))
    ExchangeRateFactory(currency="EUR", date=D(2024, 1, 1), rate=Decimal("1.10"))
    ExchangeRateFactory(currency="EUR", date=D(2024, 6, 1), rate=Decimal("1.05"))
    ExchangeRateFactory(currency="EUR", date=D(2025, 1, 1), rate=Decimal("2.00"))  # after d: never used

    assert account_acv_book(as_of=D(2024, 3, 1)).acv == {us.pk: Decimal("10000.00"), eu.pk: Decimal("22000.00")}
    assert account_acv_book(as_of=D(2024, 3, 1)).total == Decimal("32000.00")
    assert account_acv_book(as_of=D(2024, 6, 1)).total == Decimal("31000.00")  # 10000 + 20000 × 1.05
    # Constant currency: March's contracts at June's rates.
    assert account_acv_book(as_of=D(2024, 3, 1), rates_on=D(2024, 6, 1)).acv[eu.pk] == Decimal("21000.00")


@pytest.mark.django_db
def test_missing_rate_makes_that_account_na_with_the_reason_and_the_others_still_count():
    fine, gbp = AccountFactory(), AccountFactory()
    ContractFactory(account=fine, recurring_tcv=Decimal("1000"))
    ContractFactory(account=gbp, currency="GBP", recurring_tcv=Decimal("5000"))
    ContractFactory(account=gbp, recurring_tcv=Decimal("700"))  # its USD part does not make a partial ACV
    ExchangeRateFactory(currency="GBP", date=D(2024, 3, 2), rate=Decimal("1.25"))  # the day after: not "on d"

    book = account_acv_book(as_of=D(2024, 3, 1))

    assert book.get(gbp.pk) is None  # N/A, never 0
    assert book.get(fine.pk) == Decimal("1000.00")
    assert book.total == Decimal("1000.00")
    assert book.excluded == [
        {"account_id": gbp.pk, "currencies": ["GBP"], "reason": "no GBP exchange rate on or before 2024-03-01"}
    ]
    assert account_acv(account_id=gbp.pk, as_of=D(2024, 3, 2)) == Decimal("6950.00")  # 5000 × 1.25 + 700


@pytest.mark.django_db
def test_money_is_rounded_once_per_account_not_per_contract():
    account = AccountFactory()
    for _ in range(3):  # each 1000 × 365 / 45 = 8111.111…: per-contract cents would give 24333.33
        ContractFactory(
            account=account, recurring_tcv=Decimal("1000"), start_date=D(2024, 1, 10), end_date=D(2024, 2, 23)
        )
    ContractFactory(account=account, recurring_tcv=Decimal("0.01"), start_date=D(2024, 1, 10), end_date=D(2024, 2, 23))

    # 3000.01 × 365 / 45 = 24333.414…
    assert account_acv(account_id=account.pk, as_of=D(2024, 2, 1)) == Decimal("24333.41")


@pytest.mark.django_db
def test_million_dollar_customers_counts_accounts_at_or_above_one_million():
    big, exact, small = AccountFactory(), AccountFactory(), AccountFactory()
    ContractFactory(account=big, recurring_tcv=Decimal("3000000"), start_date=D(2024, 1, 1), end_date=D(2026, 12, 31))
    ContractFactory(account=exact, recurring_tcv=Decimal("600000"), start_date=D(2024, 1, 1), end_date=D(2024, 6, 30))
    ContractFactory(account=small, recurring_tcv=Decimal("999999.99"))

    book = account_acv_book(as_of=D(2024, 3, 1))
    assert million_dollar_customers(book=book) == 2  # 1,000,000 and 1,200,000 (600k for half a year)


@pytest.mark.django_db
def test_an_accounts_acv_from_its_contracts_is_rounded_once_and_never_partial(settings):
    settings.REPORTING_CURRENCY = "USD"
    ExchangeRateFactory(currency="EUR", date=D(2024, 1, 1), rate=Decimal("1.1"))
    book = RateBook({"EUR", "GBP"})
    third = Decimal(1000) / 3  # 333.333…: three of them are 1000.00, not 999.99

    assert acv_converted(amounts=[(third, "USD")] * 3, book=book, day=D(2024, 6, 1)) == (Decimal("1000.00"), ())
    assert acv_converted(amounts=[(Decimal(100), "EUR")], book=book, day=D(2024, 6, 1)) == (Decimal("110.00"), ())
    assert acv_converted(amounts=[(Decimal(100), "USD"), (Decimal(5), "GBP")], book=book, day=D(2024, 6, 1)) == (
        None,
        ("GBP",),
    )
