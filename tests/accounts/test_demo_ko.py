"""``manage.py load_demo --locale ko``: Korean companies and people, KRW reporting with contracts in KRW and USD,
the demo users in Korean and Asia/Seoul, deterministic from the seed. A small book, so the file runs in seconds."""

import re
from decimal import Decimal

import pytest
from django.core.management import CommandError

from accounts.demo.locales import KO
from accounts.models import Account, Activity, Contact, Contract, ExchangeRate, Team, User
from accounts.selectors import account_acv_book
from tests.accounts.test_demo import AS_OF, fingerprint, load

pytestmark = pytest.mark.django_db

HANGUL_NAME = re.compile(r"^[가-힣]{2,4}$")  # 김지현: family name first, no space


@pytest.fixture
def krw(settings):
    settings.REPORTING_CURRENCY = "KRW"


def test_the_korean_book_has_korean_names_krw_and_usd_contracts_and_realistic_rates(krw):
    out = load("--locale=ko", "--accounts=40", "--days=7")

    accounts = Account.objects.all()
    assert accounts.count() == 40
    assert all(
        re.search("[가-힣]", name) and not re.search("[A-Za-z]", name)
        for name in accounts.values_list("name", flat=True)
    )
    assert all(
        domain.isascii() and domain.endswith(".example.com") for domain in accounts.values_list("domain", flat=True)
    )
    assert set(accounts.values_list("industry", flat=True)) <= set(KO.industries)
    assert accounts.filter(region="APAC").count() > accounts.count() / 2

    contacts = Contact.objects.all()
    assert all(HANGUL_NAME.match(name) for name in contacts.values_list("name", flat=True))
    assert all(email.isascii() for email in contacts.values_list("email", flat=True))
    assert set(contacts.values_list("title", flat=True)) <= {title for titles in KO.titles.values() for title in titles}
    subjects = set(Activity.objects.values_list("subject", flat=True))
    assert [subject for subject in subjects if not re.search("[가-힣]", subject)] == []  # the apps' steps' too

    contracts = Contract.objects.all()
    assert set(contracts.values_list("currency", flat=True)) == {"KRW", "USD"}
    assert contracts.filter(currency="KRW").count() > contracts.filter(currency="USD").count()
    for tcv, fees in contracts.filter(currency="KRW").values_list("recurring_tcv", "one_time_fees"):
        assert tcv % 10_000 == 0 and fees % 10_000 == 0  # whole 10,000 won

    rates = ExchangeRate.objects.all()
    assert set(rates.values_list("currency", flat=True)) == {"USD"}  # KRW per USD
    assert Decimal(1300) <= min(rates.values_list("rate", flat=True))
    assert max(rates.values_list("rate", flat=True)) <= Decimal(1450)
    acv = account_acv_book(as_of=AS_OF).acv
    assert max(acv.values()) >= 1_000_000_000  # the demo's largest customer: over 10억 원 a year
    assert "김지현" in out and "고객성공 1팀" in out


def test_the_korean_demo_users_read_korean_in_seoul(krw):
    load("--locale=ko", "--accounts=5", "--days=3")

    users = User.objects.all()
    assert users.count() == 15
    assert set(users.values_list("language", "time_zone")) == {("ko", "Asia/Seoul")}
    csm = User.objects.get(username="csm")
    assert str(csm) == csm.get_full_name() == "김지현"
    assert csm.team.name == "고객성공 1팀"
    assert Team.objects.get(name="고객성공 2팀").manager.username == "manager2"


def test_the_same_seed_gives_the_same_korean_book(krw):
    load("--locale=ko", "--accounts=8", "--days=3", "--seed=7")
    first = fingerprint()
    load("--locale=ko", "--accounts=8", "--days=3", "--seed=7", "--reset")
    assert fingerprint() == first


def test_the_korean_demo_needs_krw_as_the_reporting_currency(settings):
    settings.REPORTING_CURRENCY = "USD"
    with pytest.raises(CommandError, match="REPORTING_CURRENCY=KRW"):
        load("--locale=ko", "--accounts=5", "--days=3")
    assert not Account.objects.exists() and not User.objects.exists()


def test_the_default_demo_stays_english_in_usd(settings):
    settings.REPORTING_CURRENCY = "USD"
    load("--accounts=5", "--days=3")

    assert User.objects.get(username="csm").get_full_name() == "Casey Nguyen"
    assert set(User.objects.values_list("language", flat=True)) == {""}
    assert set(ExchangeRate.objects.values_list("currency", flat=True)) == {"EUR"}
