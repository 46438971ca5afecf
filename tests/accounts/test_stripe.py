"""Stripe subscriptions as contracts: the signed webhook, exactly once and in any order, and the backfill.

The objects follow Stripe's API reference (Customer, Price, SubscriptionItem, Subscription, Invoice, Event); the
subscription's current period is on the subscription (API versions before 2025-03-31.basil) or on its items
(since). Payloads are signed as Stripe signs them: ``t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")``.
"""

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.contrib.admin import AdminSite
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import CommandError, call_command

from accounts.integrations.stripe.admin import StripeCustomerAdmin
from accounts.integrations.stripe.services import stripe_event_process
from accounts.models import Account, Contract, StripeCustomer, StripeEvent, StripeSubscriptionPeriod
from tests.factories import AccountFactory

SECRET = "whsec_test_0123456789abcdef"  # noqa: S105
URL = "/integrations/stripe/webhook/"
JAN_1, FEB_1, MAR_1 = 1735689600, 1738368000, 1740787200  # 2025-01-01, 2025-02-01, 2025-03-01 00:00 UTC
TEN_DAYS = 10 * 86400


@pytest.fixture(autouse=True)
def _stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_ACCOUNT_METADATA_KEY = "crm_id"


def customer(customer_id="cus_NffrFeUfNV2Hib", crm_id=None, name="Acme Corp"):
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": JAN_1 - 3600,
        "currency": "usd",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": "billing@acme.example",
        "invoice_prefix": "0759376C",
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": {"crm_id": crm_id} if crm_id else {},
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def price(price_id="price_1MowQULkdIwHu7ixraBm864M", unit_amount=2500, currency="usd", interval="month", count=1):
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": JAN_1 - 86400,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": "prod_NWjs8kKbJWmuuc",
        "recurring": {
            "aggregate_usage": None,
            "interval": interval,
            "interval_count": count,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def subscription(
    *,
    sub_id="sub_1MowQVLkdIwHu7ixeRlqHVzs",
    customer_id="cus_NffrFeUfNV2Hib",
    start=JAN_1,
    end=FEB_1,
    quantity=10,
    unit_amount=2500,
    currency="usd",
    interval="month",
    status="active",
    cancel_at_period_end=False,
    canceled_at=None,
    ended_at=None,
    periods_on_items=False,
):
    """A Subscription with one SubscriptionItem. ``periods_on_items``: the shape of API 2025-03-31.basil and later
    (current_period_* on the items, not on the subscription)."""
    item = {
        "id": "si_NcLYdDxLHxlFo7",
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": start,
        "discounts": [],
        "metadata": {},
        "price": price(unit_amount=unit_amount, currency=currency, interval=interval),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }
    sub = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "cancel_at": end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "collection_method": "charge_automatically",
        "created": JAN_1,
        "currency": currency,
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "ended_at": ended_at,
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": "in_1MowQWLkdIwHu7ixuzkSPfKd",
        "livemode": False,
        "metadata": {},
        "pause_collection": None,
        "schedule": None,
        "start_date": JAN_1,
        "status": status,
        "test_clock": None,
        "trial_end": None,
        "trial_start": None,
    }
    if periods_on_items:
        item.update(current_period_start=start, current_period_end=end)
    else:
        sub.update(current_period_start=start, current_period_end=end)
    return sub


def invoice(sub_id="sub_1MowQVLkdIwHu7ixeRlqHVzs", customer_id="cus_NffrFeUfNV2Hib"):
    return {
        "id": "in_1MowQWLkdIwHu7ixuzkSPfKd",
        "object": "invoice",
        "amount_due": 25000,
        "amount_paid": 25000,
        "amount_remaining": 0,
        "billing_reason": "subscription_create",
        "currency": "usd",
        "customer": customer_id,
        "paid": True,
        "period_end": JAN_1,
        "period_start": JAN_1,
        "status": "paid",
        "subscription": sub_id,
        "total": 25000,
    }


def event(event_type, obj, created, event_id=None):
    return {
        "id": event_id or f"evt_{event_type.replace('.', '_')}_{created}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_mtZ3iF1Q2mDGeG", "idempotency_key": "4a4e4c1c-2d7a-4ee4-8a3e-8a6c6d0a9a2b"},
        "type": event_type,
    }


def signature(body: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def deliver(client, payload: dict, **sign):
    body = json.dumps(payload)
    return client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature(body, **sign))


def only_contract() -> Contract:
    (contract,) = Contract.objects.all()
    return contract


@pytest.mark.django_db
def test_events_twice_and_out_of_order_give_one_contract_with_the_latest_state(client):
    account = AccountFactory(external_id="SF-001")
    created = event("customer.subscription.created", subscription(quantity=10), JAN_1 + 5)
    updated = event("customer.subscription.updated", subscription(quantity=25), JAN_1 + 3600)
    scheduled = event(
        "customer.subscription.updated", subscription(quantity=25, cancel_at_period_end=True), JAN_1 + 7200
    )
    for payload in (
        event("customer.created", customer(crm_id="SF-001"), JAN_1),
        scheduled,
        created,
        updated,
        scheduled,
        created,
        event("invoice.paid", invoice(), JAN_1 + 6),
    ):
        assert deliver(client, payload).status_code == 200

    contract = only_contract()
    assert contract.account == account
    assert (contract.start_date, contract.end_date) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert (contract.seats, contract.recurring_tcv, contract.currency) == (25, Decimal("625.00"), "USD")
    assert contract.auto_renew is False  # cancelled at the period's end: it ends on 31 January
    assert contract.status == Contract.Status.ACTIVE
    assert contract.kind == Contract.Kind.NEW
    assert StripeEvent.objects.count() == 5  # one per event id
    outcomes = dict(StripeEvent.objects.values_list("event_id", "outcome"))
    assert outcomes[created["id"]] == outcomes[updated["id"]] == StripeEvent.Outcome.SKIPPED
    assert not StripeCustomer.objects.get().needs_review


@pytest.mark.django_db
def test_a_redelivered_event_is_processed_once(client):
    payload = event("customer.subscription.created", subscription(), JAN_1 + 5)
    first, second = deliver(client, payload).json(), deliver(client, payload).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert Contract.objects.count() == 1 == StripeEvent.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "whsec_forged"},  # noqa: S106
        {"timestamp": int(time.time()) - 301},  # older than Stripe's five minutes of tolerance
    ],
    ids=["forged", "old"],
)
def test_a_forged_or_old_signature_is_a_400_and_writes_nothing(client, sign):
    response = deliver(client, event("customer.subscription.created", subscription(), JAN_1), **sign)
    assert response.status_code == 400
    assert not Contract.objects.exists()
    assert not Account.objects.exists()
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_no_signature_or_no_secret_is_a_400(client, settings):
    body = json.dumps(event("customer.created", customer(), JAN_1))
    assert client.post(URL, body, content_type="application/json").status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(client, event("customer.created", customer(), JAN_1)).status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_a_customer_without_the_crm_id_becomes_a_prospect_flagged_for_review(client):
    deliver(client, event("customer.created", customer(name="Globex"), JAN_1))
    link = StripeCustomer.objects.select_related("account").get()
    assert link.needs_review
    assert "crm_id" in link.review_reason
    assert (link.account.name, link.account.status) == ("Globex", Account.Status.PROSPECT)
    assert link.account.external_id == "stripe:cus_NffrFeUfNV2Hib"


@pytest.mark.django_db
def test_a_crm_id_matching_no_account_becomes_that_accounts_id_flagged_for_review(client):
    deliver(client, event("customer.created", customer(crm_id="HS-42"), JAN_1))
    link = StripeCustomer.objects.select_related("account").get()
    assert link.needs_review
    assert link.account.external_id == "HS-42"


@pytest.mark.django_db
def test_a_renewal_is_a_new_contract_renewing_the_previous_one_even_when_it_arrives_first(client):
    AccountFactory(external_id="SF-001")
    deliver(client, event("customer.created", customer(crm_id="SF-001"), JAN_1))
    renewal = event("customer.subscription.updated", subscription(start=FEB_1, end=MAR_1), FEB_1 + 10)
    first = event("customer.subscription.created", subscription(), JAN_1 + 10)
    deliver(client, renewal)
    deliver(client, first)
    january, february = Contract.objects.order_by("start_date")
    assert (january.kind, january.renews) == (Contract.Kind.NEW, None)
    assert (february.kind, february.renews) == (Contract.Kind.RENEWAL, january)
    assert (february.start_date, february.end_date) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))


@pytest.mark.django_db
def test_the_period_on_the_items_of_newer_api_versions(client):
    deliver(client, event("customer.subscription.created", subscription(periods_on_items=True), JAN_1))
    contract = only_contract()
    assert (contract.start_date, contract.end_date) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))


@pytest.mark.django_db
def test_a_yearly_price_and_a_zero_decimal_currency(client):
    sub = subscription(end=JAN_1 + 365 * 86400, interval="year", currency="jpy", unit_amount=120000, quantity=3)
    deliver(client, event("customer.subscription.created", sub, JAN_1))
    contract = only_contract()
    assert (contract.currency, contract.recurring_tcv) == ("JPY", Decimal(360000))
    assert contract.end_date == dt.date(2025, 12, 31)


@pytest.mark.django_db
def test_a_currency_the_platform_does_not_keep_is_refused_with_its_reason(client):
    response = deliver(client, event("customer.subscription.created", subscription(currency="chf"), JAN_1))
    assert response.status_code == 200
    assert response.json()["outcome"] == "refused"
    assert "CHF" in response.json()["reason"]
    assert not Contract.objects.exists()


@pytest.mark.django_db
def test_trials_and_unpaid_subscriptions_are_not_counted(client):
    deliver(client, event("customer.subscription.created", subscription(status="trialing"), JAN_1))
    deliver(client, event("customer.subscription.created", subscription(sub_id="sub_2", status="incomplete"), JAN_1))
    assert not Contract.objects.exists()
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {StripeEvent.Outcome.SKIPPED}


@pytest.mark.django_db
def test_a_weekly_subscription_is_skipped_with_its_reason(client):
    sub = subscription(end=JAN_1 + 7 * 86400, interval="week")
    response = deliver(client, event("customer.subscription.created", sub, JAN_1))
    assert response.json()["outcome"] == "skipped"
    assert "7 days" in response.json()["reason"]
    assert not Contract.objects.exists()


@pytest.mark.django_db
def test_a_cancelled_subscription_ends_its_contract(client):
    deliver(client, event("customer.subscription.created", subscription(), JAN_1))
    cancelled = subscription(status="canceled", canceled_at=FEB_1 - TEN_DAYS, ended_at=FEB_1 - TEN_DAYS)
    deliver(client, event("customer.subscription.deleted", cancelled, FEB_1 - TEN_DAYS))
    contract = only_contract()
    assert (contract.status, contract.end_date, contract.auto_renew) == (
        Contract.Status.ENDED,
        dt.date(2025, 1, 28),  # kept to the 28-day minimum term: it ended after 21 days
        False,
    )


@pytest.mark.django_db
def test_a_subscription_cancelled_as_its_period_began_cancels_its_contract(client):
    deliver(client, event("customer.subscription.created", subscription(), JAN_1))
    deliver(client, event("customer.subscription.deleted", subscription(status="canceled", ended_at=JAN_1), JAN_1 + 9))
    assert only_contract().status == Contract.Status.CANCELLED


@pytest.mark.django_db
def test_stripe_backfill_loads_a_list(tmp_path, capsys):
    AccountFactory(external_id="SF-001")
    expanded = subscription(sub_id="sub_A")
    expanded["customer"] = customer(crm_id="SF-001")
    subscriptions = [
        expanded,
        subscription(sub_id="sub_B", customer_id="cus_B", periods_on_items=True, quantity=2),
        subscription(sub_id="sub_C", customer_id="cus_C", status="trialing"),
    ]
    path = tmp_path / "subscriptions.json"
    path.write_text(json.dumps({"object": "list", "data": subscriptions, "has_more": False}))
    call_command("stripe_backfill", str(path))
    assert "applied 2, skipped 1, refused 0" in capsys.readouterr().out
    assert Contract.objects.get(external_id="stripe:sub_A:2025-01-01").account.external_id == "SF-001"
    assert Contract.objects.get(external_id="stripe:sub_B:2025-01-01").seats == 2
    call_command("stripe_backfill", str(path))  # again: nothing changes
    assert Contract.objects.count() == 2 == StripeSubscriptionPeriod.objects.count()


@pytest.mark.django_db
def test_a_backfill_never_overwrites_a_newer_webhook_state(client, tmp_path):
    deliver(client, event("customer.subscription.updated", subscription(quantity=30), JAN_1 + 3600))
    path = tmp_path / "subscriptions.json"
    path.write_text(json.dumps([subscription(quantity=10)]))
    call_command("stripe_backfill", str(path))
    assert only_contract().seats == 30


@pytest.mark.django_db
def test_stripe_backfill_reports_what_it_refused(tmp_path):
    path = tmp_path / "subscriptions.json"
    path.write_text(json.dumps([subscription(currency="chf")]))
    with pytest.raises(CommandError, match="1 subscriptions refused"):
        call_command("stripe_backfill", str(path))


@pytest.mark.django_db
def test_the_service_takes_a_plain_event():
    record, first_time = stripe_event_process(event=event("customer.deleted", customer(), JAN_1))
    assert first_time
    assert record.outcome == StripeEvent.Outcome.SKIPPED


@pytest.mark.django_db
def test_the_admin_action_marks_customers_reviewed(client, ada, rf):
    deliver(client, event("customer.created", customer(name="Globex"), JAN_1))
    model_admin = StripeCustomerAdmin(StripeCustomer, AdminSite())
    assert "needs_review" in model_admin.list_filter
    request = rf.post("/")
    request.user = ada
    request.session = {}
    request._messages = FallbackStorage(request)
    model_admin.mark_reviewed(request, StripeCustomer.objects.all())
    assert not StripeCustomer.objects.get().needs_review
