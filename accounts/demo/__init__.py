"""The demo data set behind ``manage.py load_demo``: users, accounts, contracts, contacts, activities and usage.

Everything comes from one seed and the evaluation date ``as_of``: the same pair gives the same rows. Renewal
outcomes are drawn from each account's trajectory before the decision (the formula is in ``book``). Usage is
generated and written set-based, a chunk of accounts at a time (numpy arrays, then ``COPY`` on PostgreSQL or a
batched ``executemany`` on SQLite), so benchmark sizes (10,000 accounts × 90 days ≈ 19M events, about 20 per
account-day) never sit in memory; the usage rollups are rebuilt from the raw events at the end.
Demo rows are recognisable for ``demo_reset``: accounts by their ``DEMO-`` id, users by their demo e-mail domain.
Other apps add their part (journeys, playbooks, surveys, success plans, forecasts) through ``steps``: their steps
run after the book is written, and after the nightly backfill (``demo_after_backfill``); what they write hangs off
the demo accounts and goes with them.

``demo_load`` and ``demo_reset`` live here; the demo users and their teams in ``cast``, the fixed ingredients
(segment profiles, shares, word lists, features) in ``constants``, the words, currencies and people of each language
(``en``, the default, and ``ko``) in ``locales``, the book of business (accounts, contracts, exchange rates, contacts,
activities) in ``book``, and the usage events with their writers in ``events``.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from ..models import Account, Activity, Contact, Contract, Source, Team, UsageEvent, UsageMessage
from ..usage.services import statistics_refresh, usage_messages_remember, usage_rollups_rebuild
from .book import (
    Plan,
    accounts_create,
    activities_create,
    contacts_create,
    contracts_create,
    exchange_rates_create,
)
from .cast import DEMO_PASSWORD, DEMO_USERS, DemoUser, DemoUserConflict, demo_users, users_create
from .constants import (
    CHUNK_ACCOUNTS,
    CHUNK_EVENTS,
    DECISION_WINDOW_DAYS,
    DEMO_SOURCE,
    EVENTS_PER_USER_DAY,
    EXTERNAL_ID_PREFIX,
    FEATURES,
    REGIONS,
)
from .events import EVENT_WRITERS, usage_events_create
from .locales import LOCALES
from .steps import DemoBook, demo_steps_after_backfill, demo_steps_load, register_demo_step

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "LOCALES",
    "DemoBook",
    "EVENTS_PER_USER_DAY",
    "EVENT_WRITERS",
    "FEATURES",
    "REGIONS",
    "DemoDataExists",
    "DemoLocaleMismatch",
    "DemoSummary",
    "DemoUserConflict",
    "demo_accounts",
    "demo_after_backfill",
    "demo_load",
    "demo_reset",
    "register_demo_step",
]


class DemoDataExists(Exception):
    """The database already has accounts: the demo loads into an empty database or replaces its own data."""


class DemoLocaleMismatch(Exception):
    """The locale's book is built for another reporting currency than ``REPORTING_CURRENCY`` (its exchange rates
    would convert into the wrong currency)."""


@dataclass(frozen=True)
class DemoSummary:
    users: tuple[DemoUser, ...]
    counts: dict[str, int]


@transaction.atomic
def demo_load(
    *,
    seed: int,
    accounts: int,
    days: int,
    as_of: dt.date,
    reset: bool = False,
    events_per_user_day: float = EVENTS_PER_USER_DAY,
    locale: str = "en",
) -> DemoSummary:
    """Load the demo data set in one transaction, in the words, currencies and people of ``locale`` (``LOCALES``).
    With ``reset`` the previous demo data is deleted first; without it, existing accounts raise ``DemoDataExists``.
    ``DemoLocaleMismatch`` when ``REPORTING_CURRENCY`` is not the locale's (USD for en, KRW for ko)."""
    words = LOCALES[locale]
    if reset:
        demo_reset()
    elif Account.objects.exists():
        raise DemoDataExists("The database already has accounts.")
    if words.reporting_currency != settings.REPORTING_CURRENCY:
        raise DemoLocaleMismatch(
            f"The {locale} demo reports in {words.reporting_currency}, but REPORTING_CURRENCY is "
            f"{settings.REPORTING_CURRENCY}: set REPORTING_CURRENCY={words.reporting_currency} (e.g. in .env)."
        )
    rng_accounts, rng_people, rng_usage = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    users = users_create(cast=words.cast, language=words.language, time_zone=words.time_zone)
    plans = accounts_create(
        rng=rng_accounts,
        count=accounts,
        as_of=as_of,
        users=users,
        events_per_user_day=events_per_user_day,
        locale=words,
    )
    counts = {
        "teams": len(words.teams),
        "users": len(users),
        "accounts": len(plans),
        "contracts": contracts_create(plans=plans),
        "exchange rates": exchange_rates_create(as_of=as_of, locale=words),
        "contacts": 0,
        "activities": 0,
        "usage events": 0,
    }
    source = Source.objects.create(name=DEMO_SOURCE)
    for chunk in _chunks(plans=plans, days=days):
        counts["contacts"] += contacts_create(rng=rng_people, plans=chunk, as_of=as_of, locale=words)
        counts["activities"] += activities_create(rng=rng_people, plans=chunk, as_of=as_of, locale=words)
        counts["usage events"] += usage_events_create(rng=rng_usage, plans=chunk, days=days, as_of=as_of, source=source)
    usage_messages_remember(source=source)
    counts["usage rollup rows"] = sum(usage_rollups_rebuild().rows.values())
    counts.update(demo_steps_load(book=DemoBook(seed=seed, as_of=as_of, days=days, plans=plans, users=users)))
    # The rebuild refreshes the rollups' statistics once committed; the raw tables loaded here need theirs too.
    transaction.on_commit(
        lambda: statistics_refresh(tables_of=[Account, Contract, Contact, Activity, UsageEvent, UsageMessage])
    )
    return DemoSummary(users=words.cast, counts=counts)


@transaction.atomic
def demo_after_backfill(*, seed: int, as_of: dt.date) -> dict[str, int]:
    """The registered steps that work on what the backfilled nights made; idempotent. Returns their counts."""
    return demo_steps_after_backfill(seed=seed, as_of=as_of)


def demo_accounts():
    return Account.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)


@transaction.atomic
def demo_reset() -> None:
    """Delete what the demo loader made: its accounts with their rows (the other apps' rows about them go with
    them), its source, users and teams."""
    accounts = demo_accounts()
    UsageEvent.objects.filter(source__name=DEMO_SOURCE).delete()
    Activity.objects.filter(account__in=accounts).delete()
    Contact.objects.filter(account__in=accounts).delete()
    Contract.objects.filter(account__in=accounts).delete()
    accounts.delete()
    Source.objects.filter(name=DEMO_SOURCE).delete()
    demo_users().delete()
    teams = {team for words in LOCALES.values() for team in words.teams}
    Team.objects.filter(name__in=teams, members__isnull=True).delete()


def _chunks(*, plans: list[Plan], days: int) -> Iterator[list[Plan]]:
    """Consecutive groups of plans holding about ``CHUNK_EVENTS`` expected events (or ``CHUNK_ACCOUNTS``)."""
    chunk, expected = [], 0.0
    for plan in plans:
        chunk.append(plan)
        recent = plan.users * days if plan.account.status == Account.Status.ACTIVE else 0
        expected += plan.rate * (recent + sum(d.users for d in plan.decisions) * DECISION_WINDOW_DAYS)
        if expected >= CHUNK_EVENTS or len(chunk) >= CHUNK_ACCOUNTS:
            yield chunk
            chunk, expected = [], 0.0
    if chunk:
        yield chunk
