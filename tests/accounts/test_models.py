"""The database itself rejects invalid rows (IntegrityError), not only Python validation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Account, Contract
from tests.factories import AccountFactory, ContactFactory, ContractFactory, ExchangeRateFactory, UsageEventFactory

pytestmark = pytest.mark.django_db


def _rejected(factory, **fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**fields)


def test_contract_end_before_start_or_on_the_last_possible_date_is_rejected():
    _rejected(ContractFactory, start_date=dt.date(2024, 5, 1), end_date=dt.date(2024, 4, 30))
    _rejected(ContractFactory, start_date=dt.date(2024, 5, 1), end_date=dt.date.max)


@pytest.mark.parametrize("field", ["recurring_tcv", "one_time_fees"])
def test_negative_money_is_rejected(field):
    _rejected(ContractFactory, **{field: Decimal("-0.01")})


def test_duplicate_external_ids_are_rejected():
    AccountFactory(external_id="CRM-1")
    _rejected(AccountFactory, external_id="CRM-1")
    ContractFactory(external_id="C-1")
    _rejected(ContractFactory, external_id="C-1")


def test_contract_needs_an_existing_account():
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(
            account_id=987654,
            external_id="C-x",
            start_date=dt.date(2024, 1, 1),
            end_date=dt.date(2024, 12, 31),
            recurring_tcv=Decimal(1),
        )
        connection.check_constraints()  # foreign keys are deferred to commit on PostgreSQL


def test_churned_on_requires_churned_status():
    _rejected(AccountFactory, status=Account.Status.ACTIVE, churned_on=dt.date(2024, 1, 1))
    assert AccountFactory(status=Account.Status.CHURNED, churned_on=dt.date(2024, 1, 1)).pk


def test_a_resent_event_is_stored_once_per_source():
    event = UsageEventFactory(message_id="m-1")
    _rejected(UsageEventFactory, source=event.source, account=event.account, message_id="m-1")


def test_one_exchange_rate_per_currency_and_day_and_positive():
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 1, 1))
    _rejected(ExchangeRateFactory, currency="EUR", date=dt.date(2024, 1, 1))
    _rejected(ExchangeRateFactory, currency="GBP", date=dt.date(2024, 1, 1), rate=Decimal(0))


def test_product_user_id_maps_to_one_contact():
    ContactFactory(user_id="u-1")
    _rejected(ContactFactory, user_id="u-1")
    ContactFactory(user_id="")
    assert ContactFactory(user_id="").pk  # contacts without a product user id are many


def test_str_is_readable():
    contract = ContractFactory(external_id="C-42", start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    assert str(contract) == "C-42 (2024-01-01..2024-12-31)"
    assert str(contract.account) == contract.account.name
