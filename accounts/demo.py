"""The demo data set behind ``manage.py load_demo``: users, accounts, contracts, contacts, activities and usage.

Everything comes from one seed and the evaluation date ``as_of``: the same pair gives the same rows. Usage is
generated and written set-based, a chunk of accounts at a time (numpy arrays, then ``COPY`` on PostgreSQL or a
batched ``executemany`` on SQLite), so benchmark sizes (10,000 accounts × 90 days ≈ 19M events, about 20 per
account-day) never sit in memory; the usage rollups are rebuilt from the raw events at the end.
Demo rows are recognisable for ``demo_reset``: accounts by their ``DEMO-`` id, users by their demo e-mail domain.
"""

import datetime as dt
import io
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from psycopg2 import sql

from .models import Account, Activity, Contact, Contract, Currency, ExchangeRate, Source, Team, UsageEvent, User
from .roles import Role
from .usage.services import usage_rollups_rebuild

DEMO_PASSWORD = "demo"  # noqa: S105 (the documented password of the demo users)
DEMO_EMAIL_DOMAIN = "demo.example.com"
DEMO_SOURCE = "Demo product"
EXTERNAL_ID_PREFIX = "DEMO-"
HISTORY_MONTHS = 36
BATCH_SIZE = 5000
CHUNK_EVENTS = 400_000  # expected events generated and written at a time
CHUNK_ACCOUNTS = 1000  # accounts whose contacts and activities are built at a time


class DemoDataExists(Exception):
    """The database already has accounts: the demo loads into an empty database or replaces its own data."""


class DemoUserConflict(Exception):
    """A user has a demo username but was not made by the demo loader."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    role: Role
    team: str = ""


DEMO_USERS = (
    DemoUser("admin", "Dana Whitfield", Role.ADMIN),
    DemoUser("exec", "Evelyn Cho", Role.EXECUTIVE),
    DemoUser("manager", "Marcus Reed", Role.MANAGER, "Team North"),
    DemoUser("manager2", "Sofia Lindqvist", Role.MANAGER, "Team South"),
    DemoUser("csm", "Casey Nguyen", Role.CSM, "Team North"),
    DemoUser("csm2", "Jordan Patel", Role.CSM, "Team North"),
    DemoUser("csm3", "Riley Okafor", Role.CSM, "Team North"),
    DemoUser("csm4", "Sam Fischer", Role.CSM, "Team North"),
    DemoUser("csm5", "Taylor Brooks", Role.CSM, "Team South"),
    DemoUser("csm6", "Morgan Silva", Role.CSM, "Team South"),
    DemoUser("csm7", "Jamie Novak", Role.CSM, "Team South"),
    DemoUser("csm8", "Priya Raman", Role.CSM, "Team South"),
    DemoUser("ae", "Alex Turner", Role.ACCOUNT_EXECUTIVE),
    DemoUser("ae2", "Chris Moreau", Role.ACCOUNT_EXECUTIVE),
    DemoUser("ae3", "Lena Hoffmann", Role.ACCOUNT_EXECUTIVE),
)
DEMO_TEAMS = ("Team North", "Team South")


@dataclass(frozen=True)
class DemoSummary:
    users: tuple[DemoUser, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class _Profile:
    """How a segment buys, renews and is looked after."""

    acv: tuple[int, int]  # log-uniform range of the first ACV
    seat_price: tuple[int, int]  # annual price of a seat
    terms: tuple[tuple[int, ...], tuple[float, ...]]  # term months, their chances
    expansion: float  # chance of a co-termed expansion during a term
    auto_renew: float
    unowned: float  # share of accounts without a CSM
    touch_days: int  # mean days between CSM touches
    qbr_days: int  # days between business reviews (0: none)
    kinds: tuple[float, float, float, float]  # chances of call, meeting, email, note


PROFILES = {
    Account.Segment.HIGH_TOUCH: _Profile(
        acv=(150_000, 1_500_000), seat_price=(1200, 2400), terms=((12, 24, 36), (0.5, 0.3, 0.2)), expansion=0.35,
        auto_renew=0.15, unowned=0, touch_days=8, qbr_days=91, kinds=(0.3, 0.3, 0.3, 0.1),
    ),
    Account.Segment.MID_TOUCH: _Profile(
        acv=(30_000, 150_000), seat_price=(900, 1800), terms=((6, 12, 24, 36), (0.1, 0.7, 0.15, 0.05)), expansion=0.25,
        auto_renew=0.4, unowned=0, touch_days=21, qbr_days=182, kinds=(0.35, 0.15, 0.4, 0.1),
    ),
    Account.Segment.TECH_TOUCH: _Profile(
        acv=(5_000, 30_000), seat_price=(600, 1200), terms=((6, 12), (0.3, 0.7)), expansion=0.08,
        auto_renew=0.85, unowned=0.4, touch_days=60, qbr_days=0, kinds=(0.2, 0.05, 0.65, 0.1),
    ),
}  # fmt: skip
SEGMENT_SHARES = {Account.Segment.HIGH_TOUCH: 0.15, Account.Segment.MID_TOUCH: 0.35, Account.Segment.TECH_TOUCH: 0.5}
STATUS_SHARES = {Account.Status.ACTIVE: 0.85, Account.Status.CHURNED: 0.12, Account.Status.PROSPECT: 0.03}
# Usage patterns: share of active accounts, and the range of MAU / seats they run at.
PATTERNS = {
    "growing": (0.25, (0.8, 1.35)),
    "steady": (0.35, (0.45, 0.95)),
    "declining": (0.15, (0.15, 0.5)),
    "dormant": (0.10, (0.1, 0.4)),
    "seasonal": (0.15, (0.4, 0.9)),
}
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.4, 0.3, 0.2, 0.1)
REGION_UTC_OFFSET = {"NA": -5, "EMEA": 1, "APAC": 8, "LATAM": -3}
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education", "Media",
    "Logistics", "Energy", "Public Sector", "Telecommunications", "Professional Services",
)  # fmt: skip
NAME_WORDS = (
    (
        "Northwind", "Bluepeak", "Silverline", "Redwood", "Brightwater", "Ironclad", "Evergreen", "Summit",
        "Horizon", "Keystone", "Lumen", "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Quantum", "Riverstone",
        "Sapphire", "Tidewater", "Vertex", "Willow", "Zenith", "Cobalt", "Granite", "Harbor", "Juniper", "Kestrel",
        "Lakeside", "Maple", "Nova", "Orchid", "Polaris", "Radiant", "Sterling", "Terra", "Vanguard", "Westfield",
        "Alder", "Beacon", "Cedar", "Crescent", "Falcon", "Golden", "Highland", "Ivory", "Jasper",
    ),
    (
        "Analytics", "Logistics", "Health", "Robotics", "Foods", "Energy", "Capital", "Media", "Learning",
        "Networks", "Retail", "Motors", "Pharma", "Insurance", "Freight", "Dynamics", "Biotech", "Payments",
        "Travel", "Security", "Telecom", "Apparel", "Farms", "Construction", "Software", "Marine", "Aerospace",
        "Chemicals", "Hospitality", "Gaming", "Utilities", "Textiles", "Semiconductors", "Staffing", "Mobility",
    ),
    (
        "Group", "Labs", "Partners", "Holdings", "Solutions", "Industries", "Technologies", "Corp", "Inc", "Co",
        "Ltd", "GmbH", "AG", "SA", "BV", "Pty",
    ),
)  # fmt: skip
FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya",
    "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
    "Amir", "Bianca", "Chen", "Daria", "Emil", "Fatima", "Gabriel", "Hana", "Ivan", "Julia", "Kofi",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Costa", "Dubois", "Eriksen", "Fernandes", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski",
    "Lopez", "Muller", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Wagner",
    "Xu", "Yilmaz", "Zimmer", "Novak", "Haddad", "Moreau", "Silva", "Brennan",
)  # fmt: skip
# Contact roles: titles, and the flags (champion, sponsor, decision maker, billing, end user) they carry.
CONTACT_ROLES = {
    "champion": (
        ("Head of Operations", "Director of Analytics", "Product Operations Lead"),
        (True, False, False, False, True),
    ),
    "sponsor": (("VP Operations", "Chief Operating Officer", "CTO", "VP Finance"), (False, True, True, False, False)),
    "decision": (("Director of IT", "Head of Procurement", "IT Manager"), (False, False, True, False, False)),
    "billing": (("Finance Manager", "Accounts Payable Specialist"), (False, False, False, True, False)),
    "end_user": (
        ("Data Analyst", "Operations Analyst", "Project Manager", "Team Lead", "Business Analyst"),
        (False, False, False, False, True),
    ),
}
ACTIVITY_SUBJECTS = {
    Activity.Kind.CALL: ("Check-in call", "Adoption review", "Renewal planning call", "Escalation follow-up"),
    Activity.Kind.MEETING: ("Success plan review", "Onsite workshop", "Executive alignment", "Training session"),
    Activity.Kind.EMAIL: ("Shared adoption report", "Webinar invitation", "Renewal quote sent", "Release highlights"),
    Activity.Kind.NOTE: ("Champion changing roles", "Budget review next quarter", "Asked about SSO", "Usage dip"),
}
# Product features with their relative popularity.
FEATURES = (
    ("Report Viewed", 30.0), ("Dashboard Viewed", 22.0), ("Search Performed", 14.0), ("Export Downloaded", 8.0),
    ("Comment Added", 7.0), ("Dashboard Created", 5.0), ("Workflow Run", 5.0), ("Alert Configured", 3.0),
    ("Data Imported", 2.5), ("User Invited", 1.5), ("Settings Updated", 1.2), ("Integration Connected", 0.8),
)  # fmt: skip
PLATFORMS = ("web", "ios", "android")
PLATFORM_SHARES = (0.8, 0.12, 0.08)
EVENTS_PER_USER_DAY = 0.55  # mean events per product user per day at pattern level 1 (lognormal around it)


@dataclass
class _Plan:
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


@transaction.atomic
def demo_load(
    *,
    seed: int,
    accounts: int,
    days: int,
    as_of: dt.date,
    reset: bool = False,
    events_per_user_day: float = EVENTS_PER_USER_DAY,
) -> DemoSummary:
    """Load the demo data set in one transaction. With ``reset`` the previous demo data is deleted first;
    without it, existing accounts raise ``DemoDataExists``."""
    if reset:
        demo_reset()
    elif Account.objects.exists():
        raise DemoDataExists("The database already has accounts.")
    rng_accounts, rng_people, rng_usage = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    users = _users_create()
    plans = _accounts_create(
        rng=rng_accounts, count=accounts, as_of=as_of, users=users, events_per_user_day=events_per_user_day
    )
    counts = {
        "teams": len(DEMO_TEAMS),
        "users": len(users),
        "accounts": len(plans),
        "contracts": _contracts_create(plans=plans),
        "exchange rates": _exchange_rates_create(as_of=as_of),
        "contacts": 0,
        "activities": 0,
        "usage events": 0,
    }
    source = Source.objects.create(name=DEMO_SOURCE)
    for chunk in _chunks(plans=plans, days=days):
        counts["contacts"] += _contacts_create(rng=rng_people, plans=chunk, as_of=as_of)
        counts["activities"] += _activities_create(rng=rng_people, plans=chunk, as_of=as_of)
        counts["usage events"] += _usage_events_create(
            rng=rng_usage, plans=chunk, days=days, as_of=as_of, source=source
        )
    counts["usage rollup rows"] = sum(usage_rollups_rebuild().rows.values())
    return DemoSummary(users=DEMO_USERS, counts=counts)


@transaction.atomic
def demo_reset() -> None:
    """Delete what the demo loader made: its accounts with their rows, its source, users and teams."""
    demo_accounts = Account.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)
    UsageEvent.objects.filter(source__name=DEMO_SOURCE).delete()
    Activity.objects.filter(account__in=demo_accounts).delete()
    Contact.objects.filter(account__in=demo_accounts).delete()
    Contract.objects.filter(account__in=demo_accounts).delete()
    demo_accounts.delete()
    Source.objects.filter(name=DEMO_SOURCE).delete()
    _demo_users().delete()
    Team.objects.filter(name__in=DEMO_TEAMS, members__isnull=True).delete()


def _demo_users():
    usernames = [u.username for u in DEMO_USERS]
    return User.objects.filter(username__in=usernames, email__endswith=f"@{DEMO_EMAIL_DOMAIN}")


def _users_create() -> dict[str, User]:
    """The demo cast with the one password hash (hashed once), its groups and two teams."""
    taken = sorted(
        User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list("username", flat=True)
    )
    if taken:
        raise DemoUserConflict(
            f"Users {', '.join(taken)} already exist and were not made by the demo loader; rename them first."
        )
    groups = Group.objects.in_bulk([u.role.value for u in DEMO_USERS], field_name="name")
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS}
    password = make_password(DEMO_PASSWORD)
    users = User.objects.bulk_create(
        User(
            username=u.username,
            first_name=u.name.split()[0],
            last_name=u.name.split()[1],
            email=f"{u.username}@{DEMO_EMAIL_DOMAIN}",
            password=password,
            is_staff=u.role == Role.ADMIN,
            is_superuser=u.role == Role.ADMIN,
            team=teams.get(u.team),
        )
        for u in DEMO_USERS
    )
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[u.role.value].pk)
        for user, u in zip(users, DEMO_USERS, strict=True)
    )
    for user, u in zip(users, DEMO_USERS, strict=True):
        if u.role == Role.MANAGER:
            Team.objects.filter(pk=teams[u.team].pk).update(manager=user)
    return {user.username: user for user in users}


def _quota(rng: np.random.Generator, count: int, shares: dict) -> list:
    """``count`` labels in exactly the given shares (largest remainder), shuffled."""
    exact = np.array(list(shares.values())) * count
    sizes = np.floor(exact).astype(int)
    sizes[np.argsort(sizes - exact, kind="stable")[: count - sizes.sum()]] += 1
    labels = np.repeat(np.arange(len(shares)), sizes)
    keys = list(shares)
    return [keys[i] for i in rng.permutation(labels)]


def _accounts_create(
    *, rng: np.random.Generator, count: int, as_of: dt.date, users: dict[str, User], events_per_user_day: float
) -> list[_Plan]:
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
    plans: list[_Plan] = []
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
        plan = _Plan(number=i + 1, account=account, currency=currency, pattern=patterns[i])
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


def _contracts_plan(*, rng: np.random.Generator, plan: _Plan, as_of: dt.date, whale: bool) -> list[Contract]:
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


def _usage_profile(*, rng: np.random.Generator, plan: _Plan, events_per_user_day: float) -> None:
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


def _contracts_create(*, plans: list[_Plan]) -> int:
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


def _exchange_rates_create(*, as_of: dt.date) -> int:
    """Monthly EUR rates over the history (USD is the reporting currency); rates already there are kept."""
    first = _add_months(as_of.replace(day=1), -HISTORY_MONTHS - 1)
    months = range(first.year * 12 + first.month - 1, as_of.year * 12 + as_of.month)
    rates = [
        ExchangeRate(currency=Currency.EUR, date=dt.date(m // 12, m % 12 + 1, 1), rate=_eur_rate(m)) for m in months
    ]
    ExchangeRate.objects.bulk_create(rates, ignore_conflicts=True)
    return len(rates)


def _chunks(*, plans: list[_Plan], days: int) -> Iterator[list[_Plan]]:
    """Consecutive groups of plans holding about ``CHUNK_EVENTS`` expected events (or ``CHUNK_ACCOUNTS``)."""
    chunk, expected = [], 0.0
    for plan in plans:
        chunk.append(plan)
        expected += plan.users * plan.rate * days if plan.account.status == Account.Status.ACTIVE else 0
        if expected >= CHUNK_EVENTS or len(chunk) >= CHUNK_ACCOUNTS:
            yield chunk
            chunk, expected = [], 0.0
    if chunk:
        yield chunk


def _user_id(number: int, index: int) -> str:
    return f"u-{number:05d}-{index}"


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def _contacts_create(*, rng: np.random.Generator, plans: list[_Plan], as_of: dt.date) -> int:
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
                user_id, product_user = _user_id(plan.number, product_user), product_user + 1
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


def _activities_create(*, rng: np.random.Generator, plans: list[_Plan], as_of: dt.date) -> int:
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


def _usage_levels(*, plans: list[_Plan], ago: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Each account's daily level by its pattern (1 = its usual volume), accounts × days."""
    slope = np.array([p.slope for p in plans])[:, None]
    cutoff = np.array([p.cutoff for p in plans])[:, None]
    pattern = np.array([p.pattern for p in plans])[:, None]
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int)
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    phase = (np.array([p.number for p in plans]) % 91)[:, None]
    levels = [
        np.maximum(0.15, 1.3 * np.exp(-slope * ago)),  # growing
        np.ones((len(plans), len(ago))),  # steady
        np.minimum(1.6, 0.3 * np.exp(slope * ago)),  # declining
        np.where(ago > cutoff, 0.6, 0.0),  # dormant
        1 + 0.45 * np.sin(2 * np.pi * (day_of_year + phase) / 91.3) + 0.35 * (day_of_month >= 25),  # seasonal
    ]
    return np.choose(pattern, [np.broadcast_to(level, (len(plans), len(ago))) for level in levels])


def _usage_frame(*, rng: np.random.Generator, plans: list[_Plan], days: int, as_of: dt.date) -> pd.DataFrame:
    """The chunk's events, vectorised: Poisson daily counts per account, users skewed to a few heavy ones, features
    from each account's own mix, times in the region's working day; sorted by account and time."""
    ago = np.arange(days - 1, -1, -1)
    dates = np.datetime64(as_of, "D") - ago
    level = _usage_levels(plans=plans, ago=ago, dates=dates)
    first_day = np.array([np.datetime64(p.contracts[0].start_date, "D") for p in plans])
    age = (dates[None, :] - first_day[:, None]).astype(int)
    weekday = np.where((dates.astype(int) + 3) % 7 >= 5, 0.25, 1.0)
    base = np.array([p.users * p.rate for p in plans])[:, None]
    ramp = np.clip((age + 1) / 30, 0, 1)  # onboarding: nothing before the first contract, then a month's ramp
    counts = rng.poisson(base * level * weekday * ramp * rng.gamma(6, 1 / 6, size=level.shape))
    account, day = np.divmod(np.repeat(np.arange(counts.size), counts.ravel()), days)
    size = len(account)

    users = np.array([p.users for p in plans])
    skew = np.array([p.skew for p in plans])
    scale = np.sqrt(np.clip(level / np.maximum(level.max(axis=1, keepdims=True), 1e-9), 0.2, 1))
    user = (users[account] * scale[account, day] * rng.random(size) ** skew[account]).astype(np.int64)
    popularity = np.array([weight for _, weight in FEATURES]) * rng.gamma(2, 0.5, size=(len(plans), len(FEATURES)))
    rank = np.argsort(np.argsort(-popularity, axis=1), axis=1)
    popularity[rank >= np.array([p.breadth for p in plans])[:, None]] = 0
    cumulative = np.cumsum(popularity, axis=1) / popularity.sum(axis=1, keepdims=True)
    cumulative += np.arange(len(plans))[:, None]
    feature = np.searchsorted(cumulative.ravel(), account + rng.random(size), side="right") - account * len(FEATURES)
    feature = np.clip(feature, 0, len(FEATURES) - 1)

    offset = np.array([REGION_UTC_OFFSET[p.account.region] for p in plans]) * 3600
    seconds = np.mod(rng.normal(13.5 * 3600, 3 * 3600, size) - offset[account], 86400).astype(np.int64)
    day_start = dates.astype("datetime64[us]").astype(np.int64)
    occurred = day_start[day] + seconds * 1_000_000 + rng.integers(0, 1_000_000, size)
    delay = 150_000 + rng.exponential(2_000_000, size) + (rng.random(size) < 0.01) * rng.uniform(0, 6 * 3600e6, size)
    platform = rng.choice(len(PLATFORMS), p=PLATFORM_SHARES, size=size)

    order = np.lexsort((occurred, account))
    account, user, feature, occurred, platform = (a[order] for a in (account, user, feature, occurred, platform))
    received = occurred + delay.astype(np.int64)
    sequence = np.arange(size) - np.repeat(np.cumsum(counts.sum(axis=1)) - counts.sum(axis=1), counts.sum(axis=1))
    numbers = np.array([p.number for p in plans])
    codes, user_index = np.unique(account * (users.max() + 1) + user, return_inverse=True)
    user_names = np.array(
        [_user_id(numbers[c // (users.max() + 1)], c % (users.max() + 1)) for c in codes], dtype=object
    )
    return pd.DataFrame(
        {
            "account_id": np.array([p.account.pk for p in plans])[account],
            "user_id": user_names[user_index],
            "event": np.array([name for name, _ in FEATURES], dtype=object)[feature],
            "occurred_at": occurred,
            "received_at": received,
            "platform": platform,
            "message_id": [
                f"demo-{n:05d}-{s}" for n, s in zip(numbers[account].tolist(), sequence.tolist(), strict=True)
            ],
        }
    )


def _usage_events_create(
    *, rng: np.random.Generator, plans: list[_Plan], days: int, as_of: dt.date, source: Source
) -> int:
    """Generate and write the usage of the chunk's active accounts; returns the number of events."""
    active = [p for p in plans if p.account.status == Account.Status.ACTIVE]
    if not active:
        return 0
    frame = _usage_frame(rng=rng, plans=active, days=days, as_of=as_of)
    EVENT_WRITERS[connection.vendor](frame=frame, source=source)
    return len(frame)


def _event_columns(*, frame: pd.DataFrame, source: Source, timestamps) -> dict[str, object]:
    """Every ``UsageEvent`` column but the id, with its values (an array, or one value for all rows): the demo's,
    or the field's default; ``timestamps`` turns epoch microseconds into the database's text."""
    properties = np.array([json.dumps({"platform": p}) for p in PLATFORMS], dtype=object)
    values = {
        "source": source.pk,
        "account": frame["account_id"].to_numpy(),
        "user_id": frame["user_id"].to_numpy(),
        "event": frame["event"].to_numpy(),
        "occurred_at": timestamps(frame["occurred_at"].to_numpy()),
        "received_at": timestamps(frame["received_at"].to_numpy()),
        "properties": properties[frame["platform"].to_numpy()],
        "message_id": frame["message_id"].to_numpy(),
    }
    fields = [f for f in UsageEvent._meta.concrete_fields if not f.primary_key]
    return {f.column: values[f.name] if f.name in values else f.get_default() for f in fields}


def _copy_text(value: object) -> str:
    """A constant column value in ``COPY``'s text format (demo values never hold tabs, newlines or backslashes)."""
    if value is None:
        return "\\N"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _events_copy(*, frame: pd.DataFrame, source: Source) -> None:
    """PostgreSQL: one ``COPY`` (text format) from an in-memory buffer."""
    columns = _event_columns(
        frame=frame,
        source=source,
        timestamps=lambda us: np.datetime_as_string(us.astype("datetime64[us]"), timezone="UTC"),
    )
    values = [
        v.tolist() if isinstance(v, np.ndarray) else itertools.repeat(_copy_text(v), len(frame))
        for v in columns.values()
    ]
    buffer = io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in zip(*values, strict=True)))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(UsageEvent._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(statement, buffer)


def _sqlite_timestamps(micros: np.ndarray) -> np.ndarray:
    """Django's SQLite text for UTC datetimes, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (no fraction on whole seconds)."""
    text = np.datetime_as_string(micros.astype("datetime64[us]")).tolist()
    whole = (micros % 1_000_000 == 0).tolist()
    return np.array([f"{t[:10]} {t[11:19] if w else t[11:]}" for t, w in zip(text, whole, strict=True)], dtype=object)


def _events_insert_sqlite(*, frame: pd.DataFrame, source: Source) -> None:
    """SQLite: one parameterised INSERT run by ``executemany`` per batch of rows. (``bulk_create`` spends ~250 µs
    per event in Django's per-field preparation: five minutes for the default demo.)"""
    columns = _event_columns(frame=frame, source=source, timestamps=_sqlite_timestamps)
    values = [v.tolist() if isinstance(v, np.ndarray) else itertools.repeat(v, len(frame)) for v in columns.values()]
    quote = connection.ops.quote_name
    statement = (
        f"INSERT INTO {quote(UsageEvent._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608 (names)
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    rows = zip(*values, strict=True)
    with connection.cursor() as cursor:
        while batch := list(itertools.islice(rows, BATCH_SIZE)):
            cursor.executemany(statement, batch)


EVENT_WRITERS = {"postgresql": _events_copy, "sqlite": _events_insert_sqlite}
