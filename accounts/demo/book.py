"""The book of business: the accounts with their usage profiles, their contracts (renewal chains, expansions,
churn), the exchange rates, and the contacts and activities written a chunk of accounts at a time, in the words,
currencies and names of a ``locales.DemoLocale``.

Churn has causes a CSM can see. Each account has a latent propensity to renew, ``μ = PATTERN_PROPENSITY[pattern] +
N(0, 0.6²)`` (its usage pattern today), and each of its terms a draw ``z = μ + N(0, 0.7²)``. Before each renewal
decision (a base contract ending before ``as_of``; features are read on ``F``, the Monday on or before 90 days
before the end) the account lives out ``z`` in what it generates over the 90 days up to ``F``:

    u  = clip(0.55 + 0.25 z + 0.12 ε₁, 0.05, 1.4)     product users ÷ licensed seats (license utilization)
    g  = clip(0.12 z + 0.10 ε₂, −0.6, 0.4)            monthly log-growth of usage (usage trend ≈ e^g)
    k  = clip(round(6 + 2.2 z + 1.2 ε₃), 2, 12)       features in use (feature breadth b = k / 12)
    q  = 1 without a CSM, else Bernoulli(σ(−1.2 − 1.2 z))   gone quiet: no CSM touch in the 60-150 days before F
    s  = (1 − q) × active sponsor × Bernoulli(σ(0.3 + 1.2 z))   the sponsor touched in the 90 days before F

(ε ~ N(0, 1); usage events, CSM touches and touches with the sponsor are generated to match), and the outcome is
drawn from that trajectory with noise:

    logit P(churn) = −2.6 − 2.5 (u − 0.55) − 3 g − 2 (b − 0.5) + q − s + 1.5 first + 1.2 tech − 1.2 high + N(0, 0.5²)

``first``: the account's first renewal; ``tech``, ``high``: tech-touch, high-touch. The other apps' demo steps
(``accounts.demo.steps``) read the same ``z``: a survey answer given in the year before a decision scores by it
(detractors among the accounts about to churn), a later one by the account's propensity today. A churned
account's chain stops at that contract. The first high-touch account (the demo's $1M customer) always renews.
History reaches back ``HISTORY_MONTHS`` so that the most recent fifth of the renewal decisions (the churn model's
backtest) holds enough churned ones.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from ..models import Account, Activity, Contact, Contract, Currency, ExchangeRate, User
from ..roles import Role
from .cast import DEMO_USERS
from .constants import (
    BATCH_SIZE,
    CONTACT_ROLES,
    DECISION_LEAD_DAYS,
    EXTERNAL_ID_PREFIX,
    FEATURES,
    HISTORY_MONTHS,
    PATTERN_PROPENSITY,
    PATTERNS,
    PROFILES,
    REGIONS,
    SEGMENT_SHARES,
    STATUS_SHARES,
)
from .locales import EN, DemoLocale


@dataclass(frozen=True)
class Decision:
    """A past renewal decision and the trajectory before it (see the module docstring)."""

    end: dt.date
    features_on: dt.date  # F
    propensity: float  # z
    users: int  # product users in the 90 days up to F: seats × u
    growth: float  # g
    breadth: int  # k
    quiet: bool  # q
    sponsor: bool  # s
    churned: bool


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
    propensity: float = 0.0  # latent propensity to renew today
    sponsor: bool = False  # has an executive sponsor
    sponsor_active: bool = False
    decisions: list[Decision] = field(default_factory=list)
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
    *,
    rng: np.random.Generator,
    count: int,
    as_of: dt.date,
    users: dict[str, User],
    events_per_user_day: float,
    locale: DemoLocale = EN,
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
    words = [len(w) for w in locale.name_words]
    names = rng.permutation(math.prod(words))
    plans: list[Plan] = []
    parents: list[Account] = []  # high-touch accounts that may have subsidiaries
    segment_seen = dict.fromkeys(SEGMENT_SHARES, 0)
    for i in range(count):
        segment, status, profile = segments[i], statuses[i], PROFILES[segments[i]]
        region = REGIONS[rng.choice(len(REGIONS), p=locale.region_shares)]
        picked = [locale.name_words[n][w] for n, w in enumerate(np.unravel_index(names[i % len(names)], words))]
        name = locale.name_joiner.join(word for word, _ascii in picked if word)
        domain = "-".join(ascii_word for _word, ascii_word in picked if ascii_word) + ".example.com"
        parent = None
        if parents and status != Account.Status.PROSPECT and i != whale and rng.random() < 0.07:
            parent = _pick(rng, parents)
            name, domain = f"{parent.name} {locale.region_names[region]}", f"{region.lower()}.{parent.domain}"
        owned = status != Account.Status.PROSPECT and rng.random() >= profile.unowned
        segment_seen[segment] += 1
        account = Account(
            external_id=f"{EXTERNAL_ID_PREFIX}{i + 1:05d}",
            name=name,
            domain=domain,
            owner=csms[segment_seen[segment] % len(csms)] if owned else None,
            account_executive=aes[i % len(aes)],
            segment=segment,
            industry=_pick(rng, locale.industries),
            region=region,
            status=status,
            parent=parent,
        )
        if segment == Account.Segment.HIGH_TOUCH and parent is None:
            parents.append(account)
        foreign = region in locale.foreign_regions and rng.random() < locale.foreign_share
        currency = locale.foreign_currency if foreign else locale.home_currency
        plan = Plan(number=i + 1, account=account, currency=currency, pattern=patterns[i])
        plan.sponsor = bool(rng.random() < 0.8)
        plan.sponsor_active = plan.sponsor and bool(rng.random() >= 0.12)
        if status != Account.Status.PROSPECT:
            plan.contracts = _contracts_plan(rng=rng, plan=plan, as_of=as_of, whale=i == whale, locale=locale)
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


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _decide(
    *, rng: np.random.Generator, plan: Plan, mean: float, end: dt.date, seats: int, first: bool, whale: bool
) -> Decision:
    """The trajectory before the renewal decision at ``end`` and its outcome (the module docstring's formulas)."""
    z = mean + rng.normal(0, 0.7)
    utilization = float(np.clip(0.55 + 0.25 * z + 0.12 * rng.normal(), 0.05, 1.4))
    growth = float(np.clip(0.12 * z + 0.1 * rng.normal(), -0.6, 0.4))
    breadth = int(np.clip(round(6 + 2.2 * z + 1.2 * rng.normal()), 2, len(FEATURES)))
    quiet = plan.account.owner is None or bool(rng.random() < _sigmoid(-1.2 - 1.2 * z))
    sponsor = not quiet and plan.sponsor_active and bool(rng.random() < _sigmoid(0.3 + 1.2 * z))
    logit = (
        -2.6
        - 2.5 * (utilization - 0.55)
        - 3 * growth
        - 2 * (breadth / len(FEATURES) - 0.5)
        + quiet
        - sponsor
        + 1.5 * first
        + 1.2 * (plan.account.segment == Account.Segment.TECH_TOUCH)
        - 1.2 * (plan.account.segment == Account.Segment.HIGH_TOUCH)
        + rng.normal(0, 0.5)
    )
    lead = end - dt.timedelta(days=DECISION_LEAD_DAYS)
    return Decision(
        end=end,
        features_on=lead - dt.timedelta(days=lead.weekday()),
        propensity=z,
        users=max(1, round(seats * utilization)),
        growth=growth,
        breadth=breadth,
        quiet=quiet,
        sponsor=sponsor,
        churned=not whale and bool(rng.random() < _sigmoid(logit)),
    )


def _contracts_plan(
    *, rng: np.random.Generator, plan: Plan, as_of: dt.date, whale: bool, locale: DemoLocale
) -> list[Contract]:
    """Three years of history: a ``new`` contract, then renewals (some contractions) with co-termed expansions,
    each renewal decided from the trajectory before it (``_decide``); a churned account's chain stops there."""
    profile, account = PROFILES[plan.account.segment], plan.account
    mean = PATTERN_PROPENSITY[list(PATTERNS)[plan.pattern]] + rng.normal(0, 0.6)
    plan.propensity = PATTERN_PROPENSITY[list(PATTERNS)[plan.pattern]] + rng.normal(0, 0.3)
    history_start = _add_months(as_of.replace(day=min(as_of.day, 28)), -HISTORY_MONTHS)
    latest_start = as_of - dt.timedelta(days=45)
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
        months = int(rng.choice(terms, p=chances))
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
            recurring_tcv=locale.amount(monthly * months, plan.currency),
            one_time_fees=locale.amount(fees, plan.currency),
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
                recurring_tcv=locale.amount(extra * (months - offset), plan.currency),
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
        decision_day = end - dt.timedelta(days=DECISION_LEAD_DAYS)
        live_seats = sum(
            c.seats
            for c in contracts
            if c.start_date <= decision_day <= c.end_date and c.status != Contract.Status.CANCELLED
        )
        decision = _decide(
            rng=rng, plan=plan, mean=mean, end=end, seats=live_seats, first=not plan.decisions, whale=whale
        )
        plan.decisions.append(decision)
        if decision.churned:
            account.status, account.churned_on = Account.Status.CHURNED, end + dt.timedelta(days=1)
            break
        previous, start = base, end + dt.timedelta(days=1)
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


def exchange_rates_create(*, as_of: dt.date, locale: DemoLocale = EN) -> int:
    """Monthly rates of the locale's foreign currency (EUR into USD, USD into KRW) over the history; rates already
    there are kept."""
    first = _add_months(as_of.replace(day=1), -HISTORY_MONTHS - 1)
    months = range(first.year * 12 + first.month - 1, as_of.year * 12 + as_of.month)
    currency = locale.foreign_currency
    rates = [
        ExchangeRate(currency=currency, date=dt.date(m // 12, m % 12 + 1, 1), rate=locale.rate(currency, m))
        for m in months
    ]
    ExchangeRate.objects.bulk_create(rates, ignore_conflicts=True)
    return len(rates)


def product_user_id(number: int, index: int) -> str:
    return f"u-{number:05d}-{index}"


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def contacts_create(*, rng: np.random.Generator, plans: list[Plan], as_of: dt.date, locale: DemoLocale = EN) -> int:
    """3-10 people per account: mostly a champion (a heavy product user) and an executive sponsor."""
    for plan in plans:
        count = int(rng.integers(3, 11))
        roles = ["champion" if rng.random() < 0.85 else "end_user", "sponsor" if plan.sponsor else "decision"]
        roles += ["decision", "billing"] + ["end_user"] * (count - 4)
        last_seen = plan.account.churned_on or as_of
        product_user = 0
        for role in roles[:count]:
            titles, flags = locale.titles[role], CONTACT_ROLES[role][1]
            first, last = _pick(rng, locale.first_names), _pick(rng, locale.last_names)
            user_id = ""
            if role in ("champion", "end_user") and product_user < plan.users:
                user_id, product_user = product_user_id(plan.number, product_user), product_user + 1
            # A sponsor's engagement is dated by the touches logged with them (``activities_create``).
            days_ago = rng.exponential(12) if role == "champion" else rng.uniform(0, 300)
            engaged = role == "champion" or (role != "sponsor" and rng.random() < 0.8)
            plan.contacts.append(
                Contact(
                    account=plan.account,
                    user_id=user_id,
                    name=locale.person(first, last),
                    email=f"{first[1]}.{last[1]}@{plan.account.domain}".lower(),
                    title=_pick(rng, titles),
                    is_champion=flags[0],
                    is_executive_sponsor=flags[1],
                    is_decision_maker=flags[2],
                    is_billing=flags[3],
                    is_end_user=flags[4],
                    active=plan.sponsor_active if role == "sponsor" else bool(rng.random() >= 0.04),
                    last_engaged_at=_at(last_seen, -int(days_ago * 86400)) if engaged else None,
                )
            )
    created = Contact.objects.bulk_create([c for p in plans for c in p.contacts], batch_size=BATCH_SIZE)
    return len(created)


def activities_create(*, rng: np.random.Generator, plans: list[Plan], as_of: dt.date, locale: DemoLocale = EN) -> int:
    """The owner's calls, meetings, e-mails and notes at the segment's rhythm, plus business reviews, shaped by each
    renewal decision's trajectory (``Decision``): gone quiet for 60-150 days before its feature date, or touched in
    the 20 days before it; the executive sponsor met in the 90 days before it when engaged. Today, an account goes
    quiet and its sponsor is met every few weeks by its current propensity. Generic touches never name the sponsor,
    whose ``last_engaged_at`` is their latest touch."""
    kinds = list(locale.subjects)
    activities, sponsors = [], []
    for plan in plans:
        owner, profile = plan.account.owner, PROFILES[plan.account.segment]
        if owner is None or not plan.contracts:
            continue
        sponsor = next((c for c in plan.contacts if c.is_executive_sponsor), None)
        others = [c for c in plan.contacts if c is not sponsor]
        start = plan.contracts[0].start_date
        end = plan.account.churned_on or as_of
        active = plan.account.status == Account.Status.ACTIVE
        if active and rng.random() < _sigmoid(-1.2 - 1.2 * plan.propensity):
            end -= dt.timedelta(days=int(rng.integers(60, 150)))
        span = (end - start).days
        if span <= 0:
            continue
        offsets = np.sort(rng.integers(0, span + 1, rng.poisson(span / profile.touch_days)))
        touches = [
            (start + dt.timedelta(days=int(o)), kinds[k], None)
            for o, k in zip(offsets, rng.choice(4, p=profile.kinds, size=len(offsets)), strict=True)
        ]
        if profile.qbr_days:
            touches += [
                (start + dt.timedelta(days=o), Activity.Kind.QBR, None)
                for o in range(profile.qbr_days // 2, span, profile.qbr_days)
            ]
        for decision in plan.decisions:
            day = decision.features_on
            if decision.quiet:
                silence = day - dt.timedelta(days=int(rng.integers(60, 150)))
                touches = [touch for touch in touches if not silence < _weekday(touch[0]) <= day]
            else:
                touches.append((day - dt.timedelta(days=int(rng.integers(0, 20))), Activity.Kind.CALL, None))
            if decision.sponsor:
                touches.append((day - dt.timedelta(days=int(rng.integers(3, 80))), Activity.Kind.MEETING, sponsor))
        last_end = plan.decisions[-1].end if plan.decisions else start
        if active and plan.sponsor_active and rng.random() < _sigmoid(0.3 + 1.2 * plan.propensity):
            touches += [
                (as_of - dt.timedelta(days=int(ago)), Activity.Kind.MEETING, sponsor)
                for ago in range(int(rng.integers(0, 45)), (as_of - last_end).days, 45)
            ]
        for day, kind, contact in touches:
            day = _weekday(day)
            subject = (
                locale.qbr_subject.format(day=day) if kind == Activity.Kind.QBR else _pick(rng, locale.subjects[kind])
            )
            if contact is None and others and rng.random() < 0.7:
                contact = _pick(rng, others)
            occurred_at = _at(day, int(rng.integers(8 * 4, 18 * 4)) * 900)
            activities.append(
                Activity(
                    account=plan.account,
                    kind=kind,
                    author=owner,
                    occurred_at=occurred_at,
                    subject=subject,
                    contact=contact,
                )
            )
            if contact is not None and contact is sponsor and occurred_at <= _at(as_of, 86399):
                sponsor.last_engaged_at = max(sponsor.last_engaged_at or occurred_at, occurred_at)
        if sponsor is not None and sponsor.last_engaged_at is not None:
            sponsors.append(sponsor)
    Activity.objects.bulk_create(activities, batch_size=BATCH_SIZE)
    Contact.objects.bulk_update(sponsors, ["last_engaged_at"], batch_size=BATCH_SIZE)
    return len(activities)


def _weekday(day: dt.date) -> dt.date:
    """Weekend touches move to the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))
