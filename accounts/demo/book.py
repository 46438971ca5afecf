"""The book of business: the accounts with their usage profiles, their contracts (renewal chains, expansions,
churn), the EUR exchange rates, and the contacts and activities written a chunk of accounts at a time."""

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ..models import Account, Activity, Contact, Contract, Currency, ExchangeRate, User
from ..roles import Role
from .cast import DEMO_USERS
from .constants import (
    ACTIVITY_SUBJECTS,
    BATCH_SIZE,
    CONTACT_ROLES,
    EXTERNAL_ID_PREFIX,
    FEATURES,
    FIRST_NAMES,
    HISTORY_MONTHS,
    INDUSTRIES,
    LAST_NAMES,
    NAME_WORDS,
    PATTERNS,
    PROFILES,
    REGION_SHARES,
    REGIONS,
    SEGMENT_SHARES,
    STATUS_SHARES,
)


@dataclass
class Plan:
    """One demo account before and after it is written."""

    number: int
    account: Account
    currency: str = Currency.USD
    pattern: int = 0  # index into PATTERNS
    users: int = 0  # product users, ids u-<number>-<i>
    rate: float = 0.0  # events per user per day
    slope: float = 0.0  # daily growth or decline
    cutoff: int = 0  # dormant: days before as_of since the last use
    skew: float = 2.0  # > 1: a few heavy users
    breadth: int = 12  # features in use
    contracts: list[Contract] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


def _quota(rng: np.random.Generator, count: int, shares: dict) -> list:
    """``count`` labels in exactly the given shares (largest remainder), shuffled."""
    exact = np.array(list(shares.values())) * count
    sizes = np.floor(exact).astype(int)
    sizes[np.argsort(sizes - exact, kind="stable")[: count - sizes.sum()]] += 1
    labels = np.repeat(np.arange(len(shares)), sizes)
    keys = list(shares)
    return [keys[i] for i in rng.permutation(labels)]


def accounts_create(
    *, rng: np.random.Generator, count: int, as_of: dt.date, users: dict[str, User], events_per_user_day: float
) -> list[Plan]:
    """Plan and write the accounts (parents before their subsidiaries) with their usage profiles."""
    segments = _quota(rng, count, SEGMENT_SHARES)
    statuses = _quota(rng, count, STATUS_SHARES)
    patterns = _quota(rng, count, {i: share for i, (share, _) in enumerate(PATTERNS.values())})
    # The first high-touch account is an active $1M+ customer, whatever the size of the book.
    whale = segments.index(Account.Segment.HIGH_TOUCH) if Account.Segment.HIGH_TOUCH in segments else None
    if whale is not None:
        swap = statuses.index(Account.Status.ACTIVE)
        statuses[whale], statuses[swap] = statuses[swap], statuses[whale]
    csms = [users[u.username] for u in DEMO_USERS if u.role == Role.CSM]
    aes = [users[u.username] for u in DEMO_USERS if u.role == Role.ACCOUNT_EXECUTIVE]
    words = [len(w) for w in NAME_WORDS]
    names = rng.permutation(math.prod(words))
    plans: list[Plan] = []
    parents: list[Account] = []  # high-touch accounts that may have subsidiaries
    segment_seen = dict.fromkeys(SEGMENT_SHARES, 0)
    for i in range(count):
        segment, status, profile = segments[i], statuses[i], PROFILES[segments[i]]
        region = REGIONS[rng.choice(len(REGIONS), p=REGION_SHARES)]
        adjective, noun, suffix = np.unravel_index(names[i % len(names)], words)
        name = f"{NAME_WORDS[0][adjective]} {NAME_WORDS[1][noun]} {NAME_WORDS[2][suffix]}"
        domain = f"{NAME_WORDS[0][adjective]}-{NAME_WORDS[1][noun]}-{NAME_WORDS[2][suffix]}.example.com".lower()
        parent = None
        if parents and status != Account.Status.PROSPECT and i != whale and rng.random() < 0.07:
            parent = _pick(rng, parents)
            name, domain = f"{parent.name} {region}", f"{region.lower()}.{parent.domain}"
        owned = status != Account.Status.PROSPECT and rng.random() >= profile.unowned
        segment_seen[segment] += 1
        account = Account(
            external_id=f"{EXTERNAL_ID_PREFIX}{i + 1:05d}",
            name=name,
            domain=domain,
            owner=csms[segment_seen[segment] % len(csms)] if owned else None,
            account_executive=aes[i % len(aes)],
            segment=segment,
            industry=_pick(rng, INDUSTRIES),
            region=region,
            status=status,
            parent=parent,
        )
        if segment == Account.Segment.HIGH_TOUCH and parent is None:
            parents.append(account)
        currency = Currency.EUR if region == "EMEA" and rng.random() < 0.7 else Currency.USD
        plan = Plan(number=i + 1, account=account, currency=currency, pattern=patterns[i])
        if status != Account.Status.PROSPECT:
            plan.contracts = _contracts_plan(rng=rng, plan=plan, as_of=as_of, whale=i == whale)
            _usage_profile(rng=rng, plan=plan, events_per_user_day=events_per_user_day)
        plans.append(plan)
    Account.objects.bulk_create([p.account for p in plans if p.account.parent is None], batch_size=BATCH_SIZE)
    Account.objects.bulk_create([p.account for p in plans if p.account.parent is not None], batch_size=BATCH_SIZE)
    return plans


def _pick(rng: np.random.Generator, items):
    return items[rng.integers(len(items))]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _contracts_plan(*, rng: np.random.Generator, plan: Plan, as_of: dt.date, whale: bool) -> list[Contract]:
    """Three years of history: a ``new`` contract, then renewals (some contractions) with co-termed expansions;
    a churned account's chain stops at a contract that ended before ``as_of``."""
    profile, account = PROFILES[plan.account.segment], plan.account
    churned = account.status == Account.Status.CHURNED
    history_start = _add_months(as_of.replace(day=min(as_of.day, 28)), -HISTORY_MONTHS)
    latest_start = as_of - dt.timedelta(days=456 if churned else 45)
    start = history_start + dt.timedelta(days=int((latest_start - history_start).days * rng.beta(1, 1.8)))
    start = start.replace(day=min(start.day, 28))
    low, high = (1_100_000, 1_400_000) if whale else profile.acv
    monthly = round(math.exp(rng.uniform(math.log(low), math.log(high))) / 12)
    seat_price = rng.uniform(*profile.seat_price)
    seats = max(1, round(monthly * 12 / seat_price))
    auto_renew = bool(rng.random() < profile.auto_renew)
    contracts: list[Contract] = []
    previous = None
    while True:
        terms, chances = profile.terms
        months = int(rng.choice((6, 12) if churned else terms, p=(0.3, 0.7) if churned else chances))
        end = _add_months(start, months) - dt.timedelta(days=1)
        kind = Contract.Kind.NEW
        if previous is not None:
            factor = 1 + rng.uniform(0, 0.08)
            kind = Contract.Kind.RENEWAL
            if not whale and rng.random() < 0.15:
                factor, kind = rng.uniform(0.6, 0.9), Contract.Kind.CONTRACTION
            monthly, seats = round(monthly * factor), max(1, round(seats * factor))
        fees = 0  # onboarding on half the new contracts, 5-15% of the ACV in whole hundreds
        if kind == Contract.Kind.NEW and rng.random() < 0.5:
            fees = round(monthly * 12 * rng.uniform(0.05, 0.15) / 100) * 100
        base = Contract(
            account=account,
            start_date=start,
            end_date=end,
            currency=plan.currency,
            recurring_tcv=Decimal(monthly * months),
            one_time_fees=Decimal(fees),
            seats=seats,
            kind=kind,
            renews=previous,
            auto_renew=auto_renew,
        )
        contracts.append(base)
        if months >= 6 and rng.random() < profile.expansion:
            offset = int(rng.integers(2, months - 1))
            extra = max(1, round(monthly * rng.uniform(0.1, 0.4)))
            extra_seats = max(1, round(extra * 12 / seat_price))
            expansion = Contract(
                account=account,
                start_date=_add_months(start, offset),
                end_date=end,
                currency=plan.currency,
                recurring_tcv=Decimal(extra * (months - offset)),
                seats=extra_seats,
                kind=Contract.Kind.EXPANSION,
                auto_renew=auto_renew,
                status=Contract.Status.CANCELLED if rng.random() < 0.08 else Contract.Status.ACTIVE,
            )
            if expansion.start_date <= as_of:
                contracts.append(expansion)
                if expansion.status != Contract.Status.CANCELLED:
                    monthly, seats = monthly + extra, seats + extra_seats
        if end >= as_of:
            break
        previous, start = base, end + dt.timedelta(days=1)
    if churned:
        ended = [c for c in contracts if c.kind != Contract.Kind.EXPANSION and c.end_date < as_of]
        last = _pick(rng, ended)
        contracts = [c for c in contracts if c.start_date <= last.end_date]
        account.churned_on = last.end_date + dt.timedelta(days=1)
    for number, contract in enumerate(contracts, start=1):
        contract.external_id = f"{account.external_id}-C{number:02d}"
        if contract.status != Contract.Status.CANCELLED:
            contract.status = Contract.Status.ENDED if contract.end_date < as_of else Contract.Status.ACTIVE
    return contracts


def _usage_profile(*, rng: np.random.Generator, plan: Plan, events_per_user_day: float) -> None:
    """Product users from the licensed seats and the pattern's utilization; how much and how broadly they use it."""
    last_end = plan.contracts[-1].end_date  # the latest term and its co-termed expansions
    live = [c for c in plan.contracts if c.end_date == last_end and c.status != Contract.Status.CANCELLED]
    utilization = rng.uniform(*list(PATTERNS.values())[plan.pattern][1])
    plan.users = max(1, round(sum(c.seats for c in live) * utilization))
    plan.rate = events_per_user_day * rng.lognormal(0, 0.4)
    plan.slope = rng.uniform(0.006, 0.018)
    plan.cutoff = int(rng.integers(31, 120))
    plan.skew = rng.uniform(1.5, 3.0)
    plan.breadth = int(rng.integers(3, len(FEATURES) + 1))


def contracts_create(*, plans: list[Plan]) -> int:
    """Write contracts generation by generation, so that each renewal's ``renews`` is saved before it."""
    pending = [c for p in plans for c in p.contracts]
    written = 0
    while pending:
        ready = [c for c in pending if c.renews is None or c.renews.pk is not None]
        Contract.objects.bulk_create(ready, batch_size=BATCH_SIZE)
        pending = [c for c in pending if c.pk is None]
        written += len(ready)
    return written


def _eur_rate(month_index: int) -> Decimal:
    """USD per EUR in a month: a slow wave with a little noise, the same for a month whatever the seed."""
    noise = np.random.default_rng(month_index).uniform(-0.008, 0.008)
    rate = min(max(1.085 + 0.03 * math.sin(month_index / 5) + noise, 1.05), 1.12)
    return Decimal(round(rate * 10_000)) / 10_000


def exchange_rates_create(*, as_of: dt.date) -> int:
    """Monthly EUR rates over the history (USD is the reporting currency); rates already there are kept."""
    first = _add_months(as_of.replace(day=1), -HISTORY_MONTHS - 1)
    months = range(first.year * 12 + first.month - 1, as_of.year * 12 + as_of.month)
    rates = [
        ExchangeRate(currency=Currency.EUR, date=dt.date(m // 12, m % 12 + 1, 1), rate=_eur_rate(m)) for m in months
    ]
    ExchangeRate.objects.bulk_create(rates, ignore_conflicts=True)
    return len(rates)


def product_user_id(number: int, index: int) -> str:
    return f"u-{number:05d}-{index}"


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def contacts_create(*, rng: np.random.Generator, plans: list[Plan], as_of: dt.date) -> int:
    """3-10 people per account: mostly a champion (a heavy product user) and an executive sponsor."""
    for plan in plans:
        count = int(rng.integers(3, 11))
        roles = ["champion" if rng.random() < 0.85 else "end_user", "sponsor" if rng.random() < 0.8 else "decision"]
        roles += ["decision", "billing"] + ["end_user"] * (count - 4)
        last_seen = plan.account.churned_on or as_of
        product_user = 0
        for role in roles[:count]:
            titles, flags = CONTACT_ROLES[role]
            first, last = _pick(rng, FIRST_NAMES), _pick(rng, LAST_NAMES)
            user_id = ""
            if role in ("champion", "end_user") and product_user < plan.users:
                user_id, product_user = product_user_id(plan.number, product_user), product_user + 1
            days_ago = {
                "champion": rng.exponential(12),
                "sponsor": rng.uniform(0, 85) if rng.random() < 0.65 else rng.uniform(95, 400),
            }.get(role, rng.uniform(0, 300))
            engaged = role in ("champion", "sponsor") or rng.random() < 0.8
            plan.contacts.append(
                Contact(
                    account=plan.account,
                    user_id=user_id,
                    name=f"{first} {last}",
                    email=f"{first}.{last}@{plan.account.domain}".lower(),
                    title=_pick(rng, titles),
                    is_champion=flags[0],
                    is_executive_sponsor=flags[1],
                    is_decision_maker=flags[2],
                    is_billing=flags[3],
                    is_end_user=flags[4],
                    active=bool(rng.random() >= (0.12 if role == "sponsor" else 0.04)),
                    last_engaged_at=_at(last_seen, -int(days_ago * 86400)) if engaged else None,
                )
            )
    created = Contact.objects.bulk_create([c for p in plans for c in p.contacts], batch_size=BATCH_SIZE)
    return len(created)


def activities_create(*, rng: np.random.Generator, plans: list[Plan], as_of: dt.date) -> int:
    """The owner's calls, meetings, e-mails and notes at the segment's rhythm, plus business reviews; about one
    account in seven has gone quiet for 60+ days."""
    kinds = list(ACTIVITY_SUBJECTS)
    activities = []
    for plan in plans:
        owner, profile = plan.account.owner, PROFILES[plan.account.segment]
        if owner is None:
            continue
        start = plan.contracts[0].start_date
        end = plan.account.churned_on or as_of
        if rng.random() < 0.15:
            end -= dt.timedelta(days=int(rng.integers(60, 150)))
        span = (end - start).days
        if span <= 0:
            continue
        offsets = np.sort(rng.integers(0, span + 1, rng.poisson(span / profile.touch_days)))
        touches = [
            (int(o), kinds[k]) for o, k in zip(offsets, rng.choice(4, p=profile.kinds, size=len(offsets)), strict=True)
        ]
        if profile.qbr_days:
            touches += [(int(o), Activity.Kind.QBR) for o in range(profile.qbr_days // 2, span, profile.qbr_days)]
        for offset, kind in touches:
            day = start + dt.timedelta(days=offset)
            day -= dt.timedelta(days=max(0, day.weekday() - 4))  # weekend touches move to Friday
            subject = (
                f"Business review {day:%b %Y}" if kind == Activity.Kind.QBR else _pick(rng, ACTIVITY_SUBJECTS[kind])
            )
            contact = _pick(rng, plan.contacts) if rng.random() < 0.7 else None
            activities.append(
                Activity(
                    account=plan.account,
                    kind=kind,
                    author=owner,
                    occurred_at=_at(day, int(rng.integers(8 * 4, 18 * 4)) * 900),
                    subject=subject,
                    contact=contact,
                )
            )
    Activity.objects.bulk_create(activities, batch_size=BATCH_SIZE)
    return len(activities)
