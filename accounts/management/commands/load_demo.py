"""``manage.py load_demo``: load the demo data set (``accounts.demo``) and print the demo users; with
``--after-backfill``, work on what the backfilled nights made (``make run`` runs it after the backfill)."""

import argparse
import datetime as dt
import math
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.demo import (
    DEMO_PASSWORD,
    EVENTS_PER_USER_DAY,
    LOCALES,
    DemoDataExists,
    DemoLocaleMismatch,
    DemoUserConflict,
    demo_after_backfill,
    demo_load,
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def _positive_rate(value: str) -> float:
    rate = float(value)
    if not (math.isfinite(rate) and rate > 0):
        raise argparse.ArgumentTypeError(f"{value} is not a positive rate")
    return rate


class Command(BaseCommand):
    help = (
        "Load realistic demo data (accounts, contracts, contacts, usage, activities) and the demo users, "
        f"all with password '{DEMO_PASSWORD}'. Deterministic for a given --seed and --as-of."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--accounts", type=_positive, default=400, help="Number of accounts (default 400).")
        parser.add_argument(
            "--days",
            type=_positive,
            default=182,
            help="Days of recent usage (default 182); before them, the 90 days before each past renewal decision.",
        )
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Evaluation date, YYYY-MM-DD (default today, UTC).",
        )
        parser.add_argument(
            "--events-per-user-day",
            type=_positive_rate,
            default=EVENTS_PER_USER_DAY,
            help=f"Mean product events per user per day, before each account's factor (default {EVENTS_PER_USER_DAY}).",
        )
        parser.add_argument(
            "--locale",
            choices=sorted(LOCALES),
            default="en",
            help="Language of the demo (default en). ko: Korean companies and people, contracts in KRW and USD, "
            "the demo users in Korean and Asia/Seoul; needs REPORTING_CURRENCY=KRW.",
        )
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument("--if-empty", action="store_true", help="Do nothing if any account exists.")
        existing.add_argument("--reset", action="store_true", help="Delete the previous demo data first.")
        existing.add_argument(
            "--after-backfill",
            action="store_true",
            help="Load nothing: after `recompute --backfill`, work on what the nights made (playbook tasks done "
            "as a team would have). Idempotent.",
        )

    def handle(self, *args, **options) -> None:
        as_of = options["as_of"] or dt.datetime.now(dt.UTC).date()
        started = time.monotonic()
        if options["after_backfill"]:
            counts = demo_after_backfill(seed=options["seed"], as_of=as_of)
            self.stdout.write(self.style.SUCCESS(f"Demo worked after the backfill (as of {as_of:%Y-%m-%d}):"))
            for label, count in counts.items():
                self.stdout.write(f"  {label:<24}{count:>12,}")
            return
        try:
            with translation.override(options["locale"]):  # what the apps' steps write in words
                summary = demo_load(
                    seed=options["seed"],
                    accounts=options["accounts"],
                    days=options["days"],
                    as_of=as_of,
                    reset=options["reset"],
                    events_per_user_day=options["events_per_user_day"],
                    locale=options["locale"],
                )
        except DemoDataExists as exc:
            if options["if_empty"]:
                self.stdout.write(f"{exc} Demo data not loaded (--if-empty).")
                return
            raise CommandError(f"{exc} Use --reset to replace the demo data, or --if-empty to skip.") from exc
        except (DemoUserConflict, DemoLocaleMismatch) as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s (seed {options['seed']}, as of {as_of:%Y-%m-%d}):")
        )
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label:<24}{count:>12,}")
        self.stdout.write("")
        self.stdout.write(f"Demo users (password '{DEMO_PASSWORD}'), made by the demo loader only:")
        self.stdout.write(f"  {'username':<10}{'name':<18}{'role':<23}team")
        for user in summary.users:
            self.stdout.write(f"  {user.username:<10}{user.name:<18}{user.role.label:<23}{user.team}")
