"""Stripe customers as accounts and subscription periods as contracts (docs/integration-guide.md, "Stripe").

Every account and contract is written through ``accounts.services``. An event is processed in one transaction that
also records it (``StripeEvent``, unique by event id): a redelivered event changes nothing. The customer's row is
locked meanwhile, so two events of one customer never interleave.

A subscription's current billing period becomes one contract, external id ``stripe:<subscription id>:<start>``:

- recurring value: Σ quantity × unit amount of its items, per billing interval, prorated when the period is not a
  whole interval (a first period up to a billing anchor); metered items add nothing (their usage is billed after);
- term: the current period (``current_period_start``/``_end``: on the subscription before API version
  2025-03-31.basil, on its items since), the end date inclusive (the day before the period's end, in UTC);
- seats: Σ item quantities; currency: as billed, upper-cased, one of ``Currency`` or the event is refused;
- a trial, or a first invoice not paid yet (``incomplete``), makes no contract;
- ``cancel_at_period_end`` (or ``cancel_at``): the contract does not auto-renew and ends with its period;
- a cancelled subscription: its contract ends the day before ``ended_at`` (keeping the 28-day minimum term), or is
  cancelled when the subscription ended before the period began;
- the next period (a renewal) is a new contract, kind renewal, renewing the previous period's contract.

A billing period shorter than the 28-day minimum contract term (daily or weekly prices) is skipped, with the
reason on the event: annualising a week would be nonsense, and Stripe already holds the weekly billing.

Any order: each period keeps the time of the state applied to it (the event's ``created``; for one second,
created < updated < deleted) and an older state never overwrites it. A late event of an earlier period still
writes that period's contract and links the renewal chain.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ...models import Account, Contract, Currency, StripeCustomer, StripeEvent, StripeSubscriptionPeriod
from ...selectors import MIN_TERM_DAYS
from ...services import account_create, contract_create, contract_update

# Of the platform's currencies, those Stripe bills in whole units (no cents).
ZERO_DECIMAL_CURRENCIES = {"JPY"}
CUSTOMER_EVENTS = {"customer.created", "customer.updated"}
SUBSCRIPTION_EVENTS_PREFIX = "customer.subscription."
# Breaks a tie between two states of the same second (Stripe's ``created`` counts seconds).
STATE_RANKS = {"customer.subscription.created": 0, "customer.subscription.deleted": 2}
UNPAID_STATUSES = {"incomplete", "incomplete_expired"}

Outcome = StripeEvent.Outcome


class StripeDataError(Exception):
    """A Stripe object the platform cannot turn into a contract; the message says why, in words."""


@dataclass(frozen=True)
class Result:
    outcome: str  # a StripeEvent.Outcome
    reason: str = ""


def stripe_event_process(*, event: dict) -> tuple[StripeEvent, bool]:
    """Process one verified Stripe event exactly once. Returns its record and False when it had been processed
    before (the stored record, nothing changed). A refused event is recorded with its reason and writes nothing."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], created=_time(event["created"]), outcome=Outcome.APPLIED
                )
        except IntegrityError:
            return StripeEvent.objects.get(event_id=event["id"]), False
        result = _refused_or(_event_apply, event)
        record.outcome, record.reason = result.outcome, result.reason
        record.save(update_fields=["outcome", "reason"])
    return record, True


def stripe_subscriptions_backfill(*, subscriptions: list[dict]) -> list[tuple[str, Result]]:
    """Apply Stripe subscription objects (as the API lists them) like their events, each in its own transaction;
    returns (subscription id, result) in order. A subscription's state time is the latest of its own timestamps,
    so a backfill never overwrites a newer state already received by the webhook."""
    results = []
    for subscription in subscriptions:
        state_at = _time(max(value for value in _timestamps(subscription) if value is not None))
        rank = STATE_RANKS["customer.subscription.deleted"] if subscription.get("status") == "canceled" else 1
        with transaction.atomic():
            result = _refused_or(_subscription_apply, subscription, state_at=state_at, state_rank=rank)
        results.append((subscription.get("id", ""), result))
    return results


def stripe_customers_reviewed(*, customer_ids: list[int]) -> int:
    """Clear the review flag of these customers' rows (an admin checked their accounts); returns how many."""
    return StripeCustomer.objects.filter(pk__in=customer_ids, needs_review=True).update(needs_review=False)


def _refused_or(apply: Callable[..., Result], *args, **kwargs) -> Result:
    """``apply(*args, **kwargs)`` in a savepoint: what it wrote is undone when it refuses the object."""
    try:
        with transaction.atomic():
            return apply(*args, **kwargs)
    except StripeDataError as error:
        return Result(Outcome.REFUSED, str(error))
    except KeyError as error:
        return Result(Outcome.REFUSED, f"The Stripe object has no {error.args[0]!r}.")


def _event_apply(event: dict) -> Result:
    kind, obj = event["type"], event["data"]["object"]
    if kind in CUSTOMER_EVENTS:
        link = _customer_link(customer_id=obj["id"], customer=obj)
        return Result(Outcome.APPLIED, link.review_reason if link.needs_review else "")
    if kind.startswith(SUBSCRIPTION_EVENTS_PREFIX):
        return _subscription_apply(obj, state_at=_time(event["created"]), state_rank=STATE_RANKS.get(kind, 1))
    if kind == "invoice.paid":
        return Result(Outcome.SKIPPED, "An invoice carries no subscription state: the subscription's events do.")
    return Result(Outcome.SKIPPED, f"{kind} events change nothing here.")


def _customer_link(*, customer_id: str, customer: dict | None) -> StripeCustomer:
    """The customer's row, locked for this transaction; created on first sight: the account whose CRM id the
    customer's metadata names, else a prospect created for it and flagged for review."""
    link = StripeCustomer.objects.select_for_update().filter(customer_id=customer_id).first()
    if link is not None:
        return link
    key = settings.STRIPE_ACCOUNT_METADATA_KEY
    crm_id = str(((customer or {}).get("metadata") or {}).get(key) or "").strip()
    account = Account.objects.filter(external_id=crm_id).first() if crm_id else None
    reason = ""
    if account is None:
        if crm_id:
            reason = f"Created from Stripe: no account had the CRM id {crm_id!r} of the customer's {key!r}."
        else:
            reason = f"Created from Stripe: the customer's metadata has no {key!r} naming an account's CRM id."
        external_id = crm_id or f"stripe:{customer_id}"
        account = Account.objects.filter(external_id=external_id).first() or account_create(
            data={
                "external_id": external_id,
                "name": _customer_name(customer_id, customer or {}),
                "status": Account.Status.PROSPECT,
            }
        )
    link, _ = StripeCustomer.objects.get_or_create(
        customer_id=customer_id,
        defaults={"account": account, "needs_review": bool(reason), "review_reason": reason},
    )
    return link


def _customer_name(customer_id: str, customer: dict) -> str:
    name = customer.get("name") or customer.get("email") or customer.get("description") or customer_id
    return str(name)[: Account._meta.get_field("name").max_length]


def _subscription_apply(subscription: dict, *, state_at: dt.datetime, state_rank: int) -> Result:
    customer = subscription["customer"]
    if isinstance(customer, dict):  # expanded (``expand[]=data.customer`` in a backfill's export)
        link = _customer_link(customer_id=customer["id"], customer=customer)
    else:
        link = _customer_link(customer_id=customer, customer=None)
    status = subscription["status"]
    if status in UNPAID_STATUSES:
        return Result(Outcome.SKIPPED, "The subscription's first invoice is not paid: no contract yet.")
    if status == "trialing":
        return Result(Outcome.SKIPPED, "A trial is not counted: the contract starts with the first paid period.")
    period_start, period_end = _current_period(subscription)
    start_date, end_date = period_start.date(), period_end.date() - dt.timedelta(days=1)
    days = (end_date - start_date).days + 1
    if days < MIN_TERM_DAYS:
        return Result(
            Outcome.SKIPPED,
            f"Its billing period covers {days} days, shorter than the {MIN_TERM_DAYS}-day minimum contract term: "
            "subscriptions billed daily or weekly are not imported as contracts.",
        )
    subscription_id = subscription["id"]
    period = (
        StripeSubscriptionPeriod.objects.select_related("contract")
        .filter(subscription_id=subscription_id, period_start=start_date)
        .first()
    )
    if period is not None and (state_at, state_rank) < (period.state_at, period.state_rank):
        applied = f"{period.state_at:%Y-%m-%d %H:%M:%S}"
        return Result(Outcome.SKIPPED, f"Older than the state already applied to this period ({applied} UTC).")
    fields = _contract_fields(subscription, period_start=period_start, period_end=period_end)
    if status == "canceled":
        ended_at = subscription.get("ended_at") or subscription.get("canceled_at")
        ended = _time(ended_at).date() if ended_at else period_end.date()
        if ended <= start_date and period is None:
            return Result(Outcome.SKIPPED, "The subscription ended before its period began: no contract.")
        fields["auto_renew"] = False
        if ended <= start_date:
            fields["status"] = Contract.Status.CANCELLED
        else:
            last_day = min(end_date, ended - dt.timedelta(days=1))
            fields["end_date"] = max(last_day, start_date + dt.timedelta(days=MIN_TERM_DAYS - 1))
            fields["status"] = Contract.Status.ENDED
    try:
        if period is None:
            _period_create(link, subscription_id, start_date, fields, state_at=state_at, state_rank=state_rank)
        else:
            changed = {name: value for name, value in fields.items() if getattr(period.contract, name) != value}
            if changed:
                contract_update(contract=period.contract, data=changed)
            period.state_at, period.state_rank = state_at, state_rank
            period.save(update_fields=["state_at", "state_rank"])
    except ValidationError as error:
        raise StripeDataError(" ".join(error.messages)) from None
    return Result(Outcome.APPLIED)


def _period_create(
    link: StripeCustomer, subscription_id: str, start_date: dt.date, fields: dict, *, state_at, state_rank
) -> None:
    """The period's contract: a renewal of the previous period's contract, if any; a later period's contract that
    renews nothing yet (it arrived first) now renews this one."""
    periods = StripeSubscriptionPeriod.objects.filter(subscription_id=subscription_id).select_related("contract")
    previous = periods.filter(period_start__lt=start_date).order_by("-period_start").first()
    contract = contract_create(
        data={
            "account_id": link.account_id,
            "external_id": f"stripe:{subscription_id}:{start_date.isoformat()}",
            "kind": Contract.Kind.RENEWAL if previous else Contract.Kind.NEW,
            "renews": previous.contract if previous else None,
            **fields,
        }
    )
    StripeSubscriptionPeriod.objects.create(
        subscription_id=subscription_id,
        period_start=start_date,
        contract=contract,
        state_at=state_at,
        state_rank=state_rank,
    )
    following = periods.filter(period_start__gt=start_date).order_by("period_start").first()
    if following is not None and following.contract.renews_id is None:
        contract_update(contract=following.contract, data={"kind": Contract.Kind.RENEWAL, "renews": contract})


def _contract_fields(subscription: dict, *, period_start: dt.datetime, period_end: dt.datetime) -> dict:
    currency = str(subscription.get("currency") or "").upper()
    if currency not in Currency.values:
        raise StripeDataError(
            f"The subscription is billed in {currency or 'no currency'}; contracts are kept in "
            f"{', '.join(Currency.values)} only."
        )
    items = subscription["items"]["data"]
    intervals = {_interval(item) for item in items}
    if len(intervals) != 1:
        raise StripeDataError("The subscription's items have different billing intervals (or none).")
    (unit, count), total, seats = intervals.pop(), Decimal(0), None
    for item in items:
        quantity = item.get("quantity")
        if quantity is None:  # a metered price: billed on usage, after the period
            continue
        total += _unit_amount(item) * quantity
        seats = (seats or 0) + quantity
    interval_end = period_start + relativedelta(**{f"{unit}s": count})
    if interval_end != period_end:  # a part of an interval (up to a billing anchor): prorated by its days
        total = total * Decimal((period_end - period_start).days) / Decimal((interval_end - period_start).days)
    minor_units = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal(100)
    return {
        "start_date": period_start.date(),
        "end_date": period_end.date() - dt.timedelta(days=1),
        "currency": currency,
        "recurring_tcv": (total / minor_units).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        "seats": seats,
        "auto_renew": not (subscription.get("cancel_at_period_end") or subscription.get("cancel_at")),
        "status": Contract.Status.ACTIVE,
    }


def _interval(item: dict) -> tuple[str, int] | None:
    recurring = (item.get("price") or {}).get("recurring")
    if recurring:
        return recurring["interval"], recurring.get("interval_count") or 1
    plan = item.get("plan") or {}  # the Plans API, older than Prices
    return (plan["interval"], plan.get("interval_count") or 1) if plan.get("interval") else None


def _unit_amount(item: dict) -> Decimal:
    """The unit amount in the currency's minor unit (cents), exact: ``unit_amount_decimal`` may hold fractions."""
    price = item.get("price") or {}
    plan = item.get("plan") or {}
    for value in (price.get("unit_amount_decimal"), price.get("unit_amount"), plan.get("amount_decimal")):
        if value is not None:
            return Decimal(str(value))
    raise StripeDataError(
        f"Price {price.get('id') or plan.get('id') or '?'} has no unit amount (tiered pricing is not supported)."
    )


def _current_period(subscription: dict) -> tuple[dt.datetime, dt.datetime]:
    """Before API version 2025-03-31.basil the subscription holds its current period; since, each item does."""
    start, end = subscription.get("current_period_start"), subscription.get("current_period_end")
    if start is None or end is None:
        items = subscription["items"]["data"]
        starts = [item["current_period_start"] for item in items if item.get("current_period_start") is not None]
        ends = [item["current_period_end"] for item in items if item.get("current_period_end") is not None]
        if not starts or not ends:
            raise StripeDataError("The subscription has no current period (on itself or on its items).")
        start, end = min(starts), max(ends)
    return _time(start), _time(end)


def _timestamps(subscription: dict) -> list[int | None]:
    items = (subscription.get("items") or {}).get("data") or []
    return [
        subscription.get("created"),
        subscription.get("current_period_start"),
        subscription.get("canceled_at"),
        subscription.get("ended_at"),
        *(item.get("current_period_start") for item in items),
    ]


def _time(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
