"""A small deterministic book for the conformance suite: every edge case docs/concepts settles, written with plain model
creates (raw facts only; the rollups are then rebuilt from the raw events, as after an import).

Exchange rates (reporting currency USD): EUR 1.10 from 2022-12-01, 1.20 from 2024-04-01 and 1.30 from 2024-07-01
(today: no night reads it); GBP 1.25 from 2022-12-01, 1.30 from 2024-06-15; JPY 0.0075. Amounts are chosen so
that every contract's annual value is a whole number of cents in USD: the spec's "round once" and a per-contract
rounding agree here, and ``test_edge_cases`` isolates the cases where they do not.
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Account, Activity, Contact, Contract, ExchangeRate, Feature, Source, UsageEvent, User
from accounts.usage.services import usage_rollups_rebuild
from journeys.models import SurveyResponse

NIGHTS = (dt.date(2024, 2, 29), dt.date(2024, 5, 31), dt.date(2024, 6, 30))
LATEST = NIGHTS[-1]
NOW = dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.UTC)

RATES = {
    "EUR": [(dt.date(2022, 12, 1), "1.10"), (dt.date(2024, 4, 1), "1.20"), (dt.date(2024, 7, 1), "1.30")],
    "GBP": [(dt.date(2022, 12, 1), "1.25"), (dt.date(2024, 6, 15), "1.30")],
    "JPY": [(dt.date(2022, 12, 1), "0.0075")],
}
KEY_FEATURES = [f"key_{n}" for n in range(10)]
OTHER_FEATURES = ["login", "settings_opened"]
IGNORED_FEATURE = "heartbeat"
LATE_KEY_FEATURE = KEY_FEATURES[-1]  # first used on 2024-04-10: not in the catalog of the February night
USAGE_FROM = dt.date(2023, 12, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(day: dt.date | str, hour: int = 12) -> dt.datetime:
    day = d(day) if isinstance(day, str) else day
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@dataclass(frozen=True)
class C:
    """A contract: start, end (inclusive), currency, recurring value over the term, seats, and the rest."""

    start: str
    end: str
    tcv: str
    currency: str = "USD"
    seats: int | None = 10
    kind: str = "new"
    fees: str = "0"
    status: str = "active"
    renews_previous: bool = False


ACCOUNTS: dict[str, list[C]] = {
    # A renewal with one-time fees on the first term and a co-termed expansion of 9 months (0.75 years).
    "USD-RENEW": [
        C("2023-01-01", "2023-12-31", "120000", seats=100, fees="5000"),
        C("2024-01-01", "2024-12-31", "132000", seats=100, kind="renewal", renews_previous=True),
        C("2024-04-01", "2024-12-31", "9000", seats=10, kind="expansion"),
    ],
    # Three whole years, EUR: the rate moves during the trailing twelve months of May and June.
    "EUR-3YR": [C("2022-12-15", "2025-12-14", "360000", currency="EUR", seats=50)],
    # 377 days (end + 1 is not the start's day of month): days / 365; no seats (utilization N/A); GBP; ends 06-20.
    "GBP-DAYS": [C("2023-06-10", "2024-06-20", "37700", currency="GBP", seats=None)],
    # Month-end start: 03-31..03-30 is 12 months; the renewal 03-31..09-29 is 183 days / 365; JPY.
    "JPY-MONTHEND": [
        C("2023-03-31", "2024-03-30", "4800000", currency="JPY", seats=40),
        C("2024-03-31", "2024-09-29", "2196000", currency="JPY", seats=40, kind="renewal", renews_previous=True),
    ],
    # 2023-08-31..2024-02-29: end + 1 = 03-01, so 183 days; live on the leap day night, its last day.
    "USD-LEAPDAYS": [C("2023-08-31", "2024-02-29", "36600", seats=20)],
    # The shortest term allowed (28 days); never touched, no usage: utilization 0, engagement since the start.
    "USD-SHORT": [C("2024-06-10", "2024-07-07", "2800", seats=5)],
    # Churns (ACV 0 on the leap day night), then returns in March 2024: "new" again a year after.
    "USD-RETURN": [
        C("2022-06-01", "2023-05-31", "60000", seats=30),
        C("2024-03-01", "2025-02-28", "72000", seats=30, kind="new"),
    ],
    # Exactly 1,000,000 (a $1M customer) and one cent below it.
    "USD-MILLION": [
        C("2023-01-01", "2023-12-31", "900000", seats=200),
        C("2024-01-01", "2024-12-31", "1000000", seats=200, kind="renewal", renews_previous=True),
    ],
    "USD-ALMOST": [C("2024-01-01", "2024-12-31", "999999.99", seats=200)],
    # Health exactly on the band edges on the latest night (see ``edge_usage``).
    "EDGE40": [C("2024-01-01", "2024-12-31", "24000", seats=100)],
    "EDGE70": [C("2024-01-01", "2024-12-31", "24000", seats=100)],
    # Only a cancelled contract: never live, not a first contract start (engagement N/A).
    "CANCELLED": [C("2024-01-01", "2024-12-31", "50000", status="cancelled")],
    # Marked active without any contract (scored, no revenue).
    "NO-CONTRACT": [],
    # Usage only in the latest 30 days: usage trend N/A (no prior window), not infinite growth.
    "NO-PRIOR": [C("2024-01-01", "2024-12-31", "30000", seats=20)],
}

# Accounts with generated usage (users, share of days active, features) from USAGE_FROM to the latest night.
GENERATED_USAGE = {
    "USD-RENEW": (40, 0.5),
    "EUR-3YR": (20, 0.3),
    "GBP-DAYS": (8, 0.6),
    "JPY-MONTHEND": (30, 0.2),
    "USD-LEAPDAYS": (12, 0.4),
    "USD-RETURN": (25, 0.35),
    "USD-MILLION": (120, 0.25),
    "USD-ALMOST": (90, 0.1),
}


@dataclass
class Book:
    ids: dict[str, int]  # external id -> account id
    owner: User


def _events_for(account: Account, rng: random.Random, users: int, share: float) -> list[UsageEvent]:
    events, day = [], USAGE_FROM
    while day <= LATEST:
        for user in range(users):
            if rng.random() < share:
                features = [*KEY_FEATURES[: 4 + user % 6], *OTHER_FEATURES, IGNORED_FEATURE]
                if day >= d("2024-04-10") and user % 5 == 0:
                    features.append(LATE_KEY_FEATURE)
                for _ in range(1 + rng.randrange(3)):
                    events.append((user, day, rng.choice(features)))
        day += dt.timedelta(days=1)
    return [
        UsageEvent(
            account=account, user_id=f"{account.external_id}-u{user}", event=name, occurred_at=at(day, 8 + n % 12)
        )
        for n, (user, day, name) in enumerate(events)
    ]


def edge_usage(account: Account, *, users: int, days: list[int], features: int) -> list[UsageEvent]:
    """Usage only in the latest night's window (2024-06-01..06-30): ``users`` users, user i active on
    ``days[i]`` distinct days, using the first ``features`` key features (plus a non-key one)."""
    rows = []
    for user in range(users):
        for n in range(days[user]):
            day = dt.date(2024, 6, 1) + dt.timedelta(days=(user + 7 * n) % 30)
            name = KEY_FEATURES[(user + n) % features]
            rows.append(
                UsageEvent(account=account, user_id=f"{account.external_id}-u{user}", event=name, occurred_at=at(day))
            )
            rows.append(
                UsageEvent(
                    account=account, user_id=f"{account.external_id}-u{user}", event="login", occurred_at=at(day, 13)
                )
            )
    return rows


def build_book() -> Book:
    """Create the book (call with time frozen at NOW)."""
    owner = User.objects.create_user(username="spec-csm", password="x")  # noqa: S106
    for currency, rows in RATES.items():
        ExchangeRate.objects.bulk_create(
            ExchangeRate(currency=currency, date=day, rate=Decimal(rate)) for day, rate in rows
        )
    ids = {}
    for external_id, contracts in ACCOUNTS.items():
        account = Account.objects.create(external_id=external_id, name=f"Spec {external_id}", owner=owner)
        ids[external_id] = account.pk
        previous = None
        for n, c in enumerate(contracts):
            previous = Contract.objects.create(
                account=account,
                external_id=f"{external_id}-{n}",
                start_date=d(c.start),
                end_date=d(c.end),
                currency=c.currency,
                recurring_tcv=Decimal(c.tcv),
                one_time_fees=Decimal(c.fees),
                seats=c.seats,
                kind=c.kind,
                status=c.status,
                renews=previous if c.renews_previous else None,
            )

    accounts = {a.external_id: a for a in Account.objects.filter(pk__in=ids.values())}
    rng = random.Random(20240630)  # noqa: S311 (test data)
    events = []
    for external_id, (users, share) in GENERATED_USAGE.items():
        events += _events_for(accounts[external_id], rng, users, share)
    # EDGE40: 44 of 100 seats (utilization 40), 3 of 10 key features (40), 132 user-days (stickiness 0.1: 20),
    # touched 5 days ago (100), no sponsor (0), no NPS, no prior window: (800 + 600 + 200 + 1000) / 65 = 40.
    events += edge_usage(accounts["EDGE40"], users=44, days=[3] * 44, features=3)
    # EDGE70: 56 of 100 (60), 4 of 10 (60), 273 user-days (stickiness 0.1625: 45), touched (100), sponsor (100).
    events += edge_usage(accounts["EDGE70"], users=56, days=[5] * 49 + [4] * 7, features=4)
    events += [
        UsageEvent(
            account=accounts["NO-PRIOR"], user_id=f"NO-PRIOR-u{n}", event=KEY_FEATURES[n % 4], occurred_at=at(day)
        )
        for n, day in enumerate(d("2024-06-05") + dt.timedelta(days=k) for k in range(20))
    ]
    source = Source.objects.create(name="spec")
    for n, event in enumerate(events):
        event.source, event.message_id, event.received_at = source, f"spec-{n}", event.occurred_at
    UsageEvent.objects.bulk_create(events, batch_size=5000)
    usage_rollups_rebuild(account_ids=list(ids.values()))
    Feature.objects.filter(name__in=KEY_FEATURES).update(is_key=True)
    Feature.objects.filter(name=IGNORED_FEATURE).update(ignored=True)

    _people(accounts, owner)
    Account.objects.filter(pk=ids["NO-CONTRACT"]).update(status=Account.Status.ACTIVE)
    return Book(ids=ids, owner=owner)


def _touch(account: Account, owner: User, day: str, kind: str = "call", contact: Contact | None = None) -> None:
    Activity.objects.create(
        account=account, author=owner, kind=kind, occurred_at=at(day), subject=kind, contact=contact
    )


def _people(accounts: dict[str, Account], owner: User) -> None:
    """Touches, executive sponsors and NPS answers."""
    renew = accounts["USD-RENEW"]
    sponsor = Contact.objects.create(account=renew, name="Sponsor", is_executive_sponsor=True)
    former = Contact.objects.create(account=renew, name="Former sponsor", is_executive_sponsor=True, active=False)
    _touch(renew, owner, "2024-04-15", "meeting", contact=sponsor)  # engaged on May and June nights, not February
    _touch(renew, owner, "2024-06-28", "email", contact=former)  # an inactive sponsor does not count
    _touch(renew, owner, "2024-02-10", "qbr")
    _touch(renew, owner, "2024-06-29", "note")  # a note is not a CSM touch
    _touch(accounts["EUR-3YR"], owner, "2023-11-20")
    _touch(accounts["EUR-3YR"], owner, "2024-05-20", "meeting")
    _touch(accounts["JPY-MONTHEND"], owner, "2024-01-05", "email")
    _touch(accounts["USD-MILLION"], owner, "2024-06-30", "call")
    _touch(accounts["USD-ALMOST"], owner, "2024-03-01", "task_done")  # not a touch: never touched
    _touch(accounts["EDGE40"], owner, "2024-06-25")
    edge_sponsor = Contact.objects.create(account=accounts["EDGE70"], name="Edge sponsor", is_executive_sponsor=True)
    _touch(accounts["EDGE70"], owner, "2024-06-20", "meeting", contact=edge_sponsor)
    # A sponsor engaged 89 and 90 days before the latest night: 04-02 is inside (d − 90, d], 04-01 is not.
    million_sponsor = Contact.objects.create(
        account=accounts["USD-MILLION"], name="M sponsor", is_executive_sponsor=True
    )
    _touch(accounts["USD-MILLION"], owner, "2024-04-01", "call", contact=million_sponsor)
    almost_sponsor = Contact.objects.create(account=accounts["USD-ALMOST"], name="A sponsor", is_executive_sponsor=True)
    _touch(accounts["USD-ALMOST"], owner, "2024-04-02", "call", contact=almost_sponsor)

    answers = [
        # (account, respondent, score, day): the latest answer per respondent within 180 days counts.
        ("USD-RENEW", "contact:a", 3, "2024-01-15"),
        ("USD-RENEW", "contact:a", 10, "2024-05-01"),
        ("USD-RENEW", "contact:b", 6, "2024-06-30"),  # on the night itself: inside
        ("USD-RENEW", "contact:c", 8, "2024-01-02"),  # 180 days before the latest night: outside then
        ("USD-RENEW", "contact:d", 9, "2023-12-20"),
        ("EUR-3YR", "contact:e", 7, "2024-03-01"),
        ("EUR-3YR", "contact:f", 9, "2024-06-01"),
        ("EUR-3YR", "contact:g", 0, "2024-06-02"),
        ("JPY-MONTHEND", "contact:h", 2, "2023-10-01"),  # outside every window but February's
        ("USD-MILLION", "contact:i", 10, "2024-02-29"),
    ]
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            account=accounts[external_id],
            respondent=respondent,
            kind="nps",
            score=value,
            responded_at=at(day, 10),
            source="api",
        )
        for external_id, respondent, value, day in answers
    )
