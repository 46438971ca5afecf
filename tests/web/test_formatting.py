"""Money, numbers and dates per locale and currency (csm_platform/web/formatting.py): KRW has no minor unit, the
short form reads 12.3억 in Korean and 12.3M in English, Korean dates are 2024. 6. 30.; and the same on the account
page and the portfolio, in English and Korean, with USD and with KRW as the reporting currency."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from csm_platform.web import formatting as fmt
from health.pipeline import recompute
from tests.factories import AccountFactory, ContractFactory, ExchangeRateFactory
from tests.web.conftest import AS_OF

DAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("value", "currency", "whole", "full"),
    [
        (Decimal("1234567.40"), "KRW", "₩1,234,567", "₩1,234,567"),
        (Decimal("-1000"), "KRW", "−₩1,000", "−₩1,000"),
        (Decimal("24000"), "USD", "USD 24,000", "USD 24,000.00"),
        (Decimal("20000.5"), "EUR", "EUR 20,000", "EUR 20,000.50"),
        (Decimal("999.99"), "GBP", "GBP 1,000", "GBP 999.99"),
        (None, "KRW", "N/A", "N/A"),
    ],
)
@translation.override("en")
def test_money_in_whole_units_and_in_full_to_the_currencys_minor_unit(value, currency, whole, full):
    assert fmt.money(value, currency) == whole
    assert fmt.money_full(value, currency) == full


def test_krw_never_shows_a_minor_unit():
    assert fmt.money_full(Decimal("1234567"), "KRW") == "₩1,234,567"
    assert ".00" not in fmt.money_full(Decimal("1234567.99"), "KRW")


@pytest.mark.parametrize(
    ("value", "english", "korean"),
    [
        (1_230_000_000, "1,230.0M", "12.3억"),
        (45_000_000, "45.0M", "4,500만"),
        (12_300_000, "12.3M", "1,230만"),
        (850_000, "850K", "85만"),
        (-120_000_000, "−120.0M", "−1.2억"),
        (900, "900", "900"),
    ],
)
def test_the_short_form_per_locale(value, english, korean):
    with translation.override("en"):
        assert fmt.compact_number(value) == english
        assert fmt.money_short(value, "USD") == f"USD {english}".replace("USD −", "−USD ")
    with translation.override("ko"):
        assert fmt.compact_number(value) == korean
        assert fmt.money_short(value, "KRW") == f"₩{korean}".replace("₩−", "−₩")


def test_dates_and_numbers_per_locale():
    with translation.override("en"):
        assert fmt.date(DAY) == "12/07/2026"
        assert fmt.number(1234567.891, 2) == "1,234,567.89"
    with translation.override("ko"):
        assert fmt.date(DAY) == "2026. 12. 7."
        assert fmt.number(1234567.891, 2) == "1,234,567.89"
        assert fmt.percent(0.125, 1) == "12.5%"


@pytest.fixture
def korean_customer(db, alice, settings):
    """A KRW workspace: one account with a KRW contract and one with a USD contract (converted at 1,350 won)."""
    settings.REPORTING_CURRENCY = "KRW"
    seoul = AccountFactory(name="서울소프트", owner=alice)
    ContractFactory(account=seoul, currency="KRW", recurring_tcv=Decimal("123456789"))
    boston = AccountFactory(name="Boston Labs", owner=alice)
    ContractFactory(account=boston, currency="USD", recurring_tcv=Decimal("24000.50"))
    ExchangeRateFactory(currency="USD", date=dt.date(2024, 1, 1), rate=Decimal("1350"))
    recompute(as_of=AS_OF)
    return seoul, boston


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(("language", "day"), [("en", "06/30/2024"), ("ko", "2024. 6. 30.")])
def test_a_krw_workspace_on_the_account_page_and_the_portfolio(client, alice, korean_customer, language, day):
    seoul, boston = korean_customer
    alice.language = language
    alice.save(update_fields=["language"])
    client.force_login(alice)

    page = client.get(f"/accounts/{seoul.pk}/").content.decode()
    assert 'id="acv">₩123,456,789<' in page
    assert day in page  # the evaluation date, in the locale's short format
    assert "₩123,456,789.00" not in page

    page = client.get(f"/accounts/{boston.pk}/").content.decode()
    assert 'id="acv">₩32,400,675<' in page  # 24,000.50 × 1,350, whole won
    assert "USD 24,000.50" in page  # the contract's own currency, in full

    portfolio = client.get("/portfolio/?owner=").content.decode()
    assert "₩123,456,789" in portfolio and "₩32,400,675" in portfolio
    assert ".00" not in portfolio.split("<table", 1)[1]


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(("language", "day"), [("en", "06/30/2024"), ("ko", "2024. 6. 30.")])
def test_a_usd_workspace_on_the_account_page_and_the_portfolio(client, alice, language, day):
    account = AccountFactory(name="Acme", owner=alice)
    ContractFactory(account=account, currency="USD", recurring_tcv=Decimal("24000"))
    recompute(as_of=AS_OF)
    alice.language = language
    alice.save(update_fields=["language"])
    client.force_login(alice)

    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="acv">USD 24,000<' in page
    assert day in page
    portfolio = client.get("/portfolio/?owner=").content.decode()
    assert "USD 24,000" in portfolio
    assert day in portfolio
