"""An independent reference implementation of the rules in docs/concepts over the raw tables, in exact arithmetic.

It reads raw rows with ``.values()`` (contracts, exchange rates, activities, contacts, raw usage events, the
feature catalog, survey answers, published scorecard definitions) and never calls the project's selectors,
services, scoring or revenue functions: every figure here is the spec's equation, in ``Fraction``, so that the
conformance tests compare what the platform stores and shows with what the spec says it should be.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings

from accounts.models import Account, Activity, Contact, Contract, ExchangeRate, Feature, UsageEvent
from health.models import Scorecard, ScorecardVersion
from journeys.models import JourneySettings, SurveyResponse

WINDOW = 30
SPONSOR_DAYS = 90
TOUCH_KINDS = frozenset({"call", "meeting", "email", "qbr"})
MILLION = Fraction(1_000_000)


def cents(value: Fraction) -> Decimal:
    """Money rounded to cents once, for display or a stored total."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def half_up(value: Fraction) -> int:
    """The health score as stored and shown: rounded half-up to a whole number."""
    return int((value * 2 + 1) // 2)


def exact(number: float | Decimal | str | int) -> Fraction:
    """A stored number as the decimal it was written as (0.2 is 1/5, not the float nearest to it)."""
    return Fraction(str(number))


# Contract value --------------------------------------------------------------------------------------------


def term_years(start: dt.date, end: dt.date) -> Fraction:
    """Whole calendar months / 12 when end + 1 day falls on the start's day of the month, else days / 365."""
    after = end + dt.timedelta(days=1)
    if after.day == start.day:
        return Fraction((after.year - start.year) * 12 + after.month - start.month, 12)
    return Fraction((after - start).days, 365)


def contract_acv(contract: dict) -> Fraction:
    """Recurring value over the term, annualized; one-time fees are never an input."""
    return exact(contract["recurring_tcv"]) / term_years(contract["start_date"], contract["end_date"])


def is_live(contract: dict, day: dt.date) -> bool:
    return contract["start_date"] <= day <= contract["end_date"] and contract["status"] != "cancelled"


def year_before(day: dt.date) -> dt.date:
    """The trailing-twelve-months start: the same day a year earlier, 29 February falling back to the 28th."""
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return dt.date(day.year - 1, day.month, day.day)


# The raw facts -----------------------------------------------------------------------------------------------


@dataclass
class Facts:
    """Every raw row the spec's figures read, loaded once."""

    reporting: str
    accounts: dict[int, dict]
    contracts: list[dict]
    rates: dict[str, list[tuple[dt.date, Fraction]]]
    activities: list[dict]
    sponsors: dict[int, set[int]]
    events: list[dict]
    features: list[dict]
    surveys: list[dict]
    scorecards: dict[str, dict]
    nps_window_days: int
    by_account: dict[int, list[dict]] = field(default_factory=dict)

    def of(self, rows: str, account_id: int) -> list[dict]:
        """The rows of one account from ``activities``, ``events`` or ``surveys`` (grouped once)."""
        grouped = self.__dict__.setdefault(f"_{rows}", defaultdict(list))
        if not grouped:
            grouped[None] = []
            for row in getattr(self, rows):
                grouped[row["account_id"]].append(row)
        return grouped.get(account_id, [])


def load_facts() -> Facts:
    rates: dict[str, list[tuple[dt.date, Fraction]]] = defaultdict(list)
    for row in ExchangeRate.objects.order_by("currency", "date").values("currency", "date", "rate"):
        rates[row["currency"]].append((row["date"], exact(row["rate"])))
    sponsors: dict[int, set[int]] = defaultdict(set)
    for row in Contact.objects.filter(is_executive_sponsor=True, active=True).values("id", "account_id"):
        sponsors[row["account_id"]].add(row["id"])
    scorecards = {}
    for card in Scorecard.objects.values("id", "segment", "version"):
        version = ScorecardVersion.objects.get(scorecard_id=card["id"], version=card["version"])
        scorecards[card["segment"]] = version.definition
    contracts = list(
        Contract.objects.values(
            "id", "account_id", "start_date", "end_date", "currency", "recurring_tcv", "seats", "status"
        )
    )
    by_account: dict[int, list[dict]] = defaultdict(list)
    for contract in contracts:
        by_account[contract["account_id"]].append(contract)
    settings_row = JourneySettings.objects.filter(pk=1).values("nps_window_days").first()
    return Facts(
        reporting=settings.REPORTING_CURRENCY,
        accounts={row["id"]: row for row in Account.objects.values("id", "external_id", "segment", "status")},
        contracts=contracts,
        rates=dict(rates),
        activities=list(Activity.objects.values("account_id", "kind", "occurred_at", "contact_id")),
        sponsors=dict(sponsors),
        events=list(UsageEvent.objects.values("account_id", "user_id", "event", "occurred_at")),
        features=list(Feature.objects.values("name", "is_key", "ignored", "first_seen_at")),
        surveys=list(
            SurveyResponse.objects.filter(kind="nps").values("id", "account_id", "respondent", "score", "responded_at")
        ),
        scorecards=scorecards,
        nps_window_days=settings_row["nps_window_days"] if settings_row else 180,
        by_account=dict(by_account),
    )


def rate_on(facts: Facts, currency: str, day: dt.date) -> Fraction | None:
    """The latest rate dated on or before ``day``; None without one (the reporting currency is 1)."""
    if currency == facts.reporting:
        return Fraction(1)
    known = [rate for date, rate in facts.rates.get(currency, []) if date <= day]
    return known[-1] if known else None


def account_acv(facts: Facts, account_id: int, day: dt.date, *, rates_of: dt.date | None = None) -> Fraction | None:
    """Σ ACV of the contracts live on ``day`` in the reporting currency at ``rates_of``'s rates (default ``day``);
    None (N/A) when a live contract's currency has no rate."""
    total = Fraction(0)
    for contract in facts.by_account.get(account_id, []):
        if is_live(contract, day):
            rate = rate_on(facts, contract["currency"], rates_of or day)
            if rate is None:
                return None
            total += contract_acv(contract) * rate
    return total


def acv_map(facts: Facts, day: dt.date, *, rates_of: dt.date | None = None) -> dict[int, Fraction | None]:
    return {a: account_acv(facts, a, day, rates_of=rates_of) for a in facts.accounts}


@dataclass(frozen=True)
class Revenue:
    arr: Decimal
    customers: int
    million_customers: int
    excluded: list[int]  # accounts whose ACV is N/A (a missing rate)


def revenue(facts: Facts, day: dt.date) -> Revenue:
    acv = acv_map(facts, day)
    known = {a: v for a, v in acv.items() if v is not None}
    return Revenue(
        arr=cents(sum(known.values(), Fraction(0))),
        customers=sum(1 for v in known.values() if v > 0),
        million_customers=sum(1 for v in known.values() if v >= MILLION),
        excluded=sorted(a for a, v in acv.items() if v is None),
    )


@dataclass(frozen=True)
class Retention:
    start: dt.date
    cohort: int
    nrr: Fraction | None
    grr: Fraction | None
    logo_churn: Fraction | None
    waterfall: dict[str, Decimal]


def retention(facts: Facts, end: dt.date) -> Retention:
    """Trailing twelve months in constant currency: both ends at ``end``'s rates; the waterfall reconciles the
    reported start (at the start's rates) with the reported end through a currency-effect line. An account whose
    ACV is N/A (a missing rate) at either end is left out, never counted as 0."""
    start = year_before(end)
    maps = acv_map(facts, start, rates_of=end), acv_map(facts, end), acv_map(facts, start)
    known = [a for a in facts.accounts if all(m[a] is not None for m in maps)]  # N/A at either end: left out
    before, after = ({a: m[a] for a in known} for m in maps[:2])
    reported_start = sum((maps[2][a] for a in known), Fraction(0))
    cohort = [a for a, v in before.items() if v > 0]
    base = sum((before[a] for a in cohort), Fraction(0))
    terms = {"new": Fraction(0), "expansion": Fraction(0), "contraction": Fraction(0), "churn": Fraction(0)}
    for a in known:
        b, e = before[a], after[a]
        if b == 0 < e:
            terms["new"] += e
        elif b > 0 == e:
            terms["churn"] += b
        elif e > b:
            terms["expansion"] += e - b
        else:
            terms["contraction"] += b - e
    waterfall = {
        "start": cents(reported_start),
        **{name: cents(value) for name, value in terms.items()},
        "currency_effect": cents(sum(before.values(), Fraction(0)) - reported_start),
        "end": cents(sum(after.values(), Fraction(0))),
    }
    if not cohort:
        return Retention(start, 0, None, None, None, waterfall)
    return Retention(
        start=start,
        cohort=len(cohort),
        nrr=sum((after[a] for a in cohort), Fraction(0)) / base,
        grr=sum((min(after[a], before[a]) for a in cohort), Fraction(0)) / base,
        logo_churn=Fraction(sum(1 for a in cohort if after[a] == 0), len(cohort)),
        waterfall=waterfall,
    )


def clv(acv: Fraction, p: Fraction, *, m: Fraction, r: Fraction) -> Fraction:
    return acv * m * (1 - p) / (r + p)


# Usage -----------------------------------------------------------------------------------------------------


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def usage(facts: Facts, account_id: int, day: dt.date) -> dict[str, Fraction | int | None]:
    """events_30, events_prev_30, MAU, DAU and the ratios, for windows (d−30, d] and (d−60, d−30]."""
    current = [
        e
        for e in facts.events
        if e["account_id"] == account_id and 0 <= (day - utc_day(e["occurred_at"])).days < WINDOW
    ]
    previous = [
        e
        for e in facts.events
        if e["account_id"] == account_id and WINDOW <= (day - utc_day(e["occurred_at"])).days < 2 * WINDOW
    ]
    users = {e["user_id"] for e in current if e["user_id"]}
    user_days = {(e["user_id"], utc_day(e["occurred_at"])) for e in current if e["user_id"]}
    mau, dau = len(users), Fraction(len(user_days), WINDOW)
    live = [c for c in facts.by_account.get(account_id, []) if is_live(c, day) and c["seats"] is not None]
    seats = sum(c["seats"] for c in live) if live else None

    catalog = [f for f in facts.features if not f["ignored"] and utc_day(f["first_seen_at"]) <= day]
    key = {f["name"] for f in catalog if f["is_key"]} or {f["name"] for f in catalog}
    used = {e["event"] for e in current} & key
    return {
        "events_30": len(current),
        "events_prev_30": len(previous),
        "mau": mau,
        "dau": dau,
        "seats": seats,
        "stickiness": dau / mau if mau else None,
        "license_utilization": Fraction(mau, seats) if seats else None,
        "key_features_used": len(used),
        "key_features_total": len(key),
        "feature_breadth": Fraction(len(used), len(key)) if key else None,
        "usage_trend": Fraction(len(current), len(previous)) if previous else None,
    }


def last_touch(facts: Facts, account_id: int, day: dt.date) -> dt.date | None:
    days = [
        utc_day(a["occurred_at"])
        for a in facts.of("activities", account_id)
        if a["kind"] in TOUCH_KINDS and utc_day(a["occurred_at"]) <= day
    ]
    return max(days, default=None)


def days_since_touch(facts: Facts, account_id: int, day: dt.date) -> Fraction | None:
    """Days since the last CSM touch; never touched: since the first contract started; no contract: N/A."""
    touched = last_touch(facts, account_id, day)
    if touched is None:
        starts = [
            c["start_date"]
            for c in facts.by_account.get(account_id, [])
            if c["status"] != "cancelled" and c["start_date"] <= day
        ]
        touched = min(starts, default=None)
    return None if touched is None else Fraction((day - touched).days)


def sponsor_engaged(facts: Facts, account_id: int, day: dt.date) -> Fraction:
    """1 when a touch with an active executive sponsor is dated in (d − 90, d] (dated records only), else 0."""
    sponsors = facts.sponsors.get(account_id, set())
    engaged = any(
        a["contact_id"] in sponsors
        and a["kind"] in TOUCH_KINDS
        and 0 <= (day - utc_day(a["occurred_at"])).days < SPONSOR_DAYS
        for a in facts.of("activities", account_id)
    )
    return Fraction(int(engaged))


def nps(facts: Facts, account_id: int, day: dt.date) -> tuple[Fraction | None, int]:
    """%promoters − %detractors over each respondent's latest answer in (d − window, d]; N/A without answers."""
    latest: dict[str, dict] = {}
    for answer in sorted(facts.surveys, key=lambda s: (s["responded_at"], s["id"])):
        if (
            answer["account_id"] == account_id
            and 0 <= (day - utc_day(answer["responded_at"])).days < facts.nps_window_days
        ):
            latest[answer["respondent"]] = answer
    scores = [a["score"] for a in latest.values()]
    if not scores:
        return None, 0
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return Fraction(100 * (promoters - detractors), len(scores)), len(scores)


# Health ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    x: dict[str, Fraction | None]
    s: dict[str, Fraction | None]
    weight: dict[str, Fraction]
    contribution: dict[str, Fraction]
    exact: Fraction | None
    score: int | None  # rounded half-up
    band: str
    usage: dict
    last_touch: dt.date | None
    nps_n: int


def score(x: Fraction | None, bad: Fraction, good: Fraction) -> Fraction | None:
    if x is None:
        return None
    return 100 * min(max((x - bad) / (good - bad), Fraction(0)), Fraction(1))


def band_of(value: int | None, red_below: Fraction, green_from: Fraction) -> str:
    if value is None:
        return "na"
    if value < red_below:
        return "red"
    if value < green_from:
        return "yellow"
    return "green"


def health(facts: Facts, account_id: int, day: dt.date) -> Health:
    measured = usage(facts, account_id, day)
    nps_value, nps_n = nps(facts, account_id, day)
    inputs = {
        "usage_trend": measured["usage_trend"],
        "license_utilization": measured["license_utilization"],
        "feature_breadth": measured["feature_breadth"],
        "stickiness": measured["stickiness"],
        "engagement": days_since_touch(facts, account_id, day),
        "executive_sponsor": sponsor_engaged(facts, account_id, day),
        "nps": nps_value,
    }
    segment = facts.accounts[account_id]["segment"]
    definition = facts.scorecards.get(segment) or facts.scorecards[""]
    x, s, weight = {}, {}, {}
    for measure in definition["measures"]:
        key = measure["key"]
        x[key] = inputs[key]
        s[key] = score(inputs[key], exact(measure["bad"]), exact(measure["good"]))
        weight[key] = exact(measure["weight"])
    present = sum((weight[k] for k in s if s[k] is not None), Fraction(0))
    contribution = {k: (weight[k] * s[k] / present if s[k] is not None else Fraction(0)) for k in s}
    value = sum(contribution.values(), Fraction(0)) if present else None
    rounded = None if value is None else half_up(value)
    band = band_of(rounded, exact(definition["red_below"]), exact(definition["green_from"]))
    return Health(x, s, weight, contribution, value, rounded, band, measured, last_touch(facts, account_id, day), nps_n)
