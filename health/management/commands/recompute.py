import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from health.models import RecomputeRun
from health.pipeline import recompute

FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(9000, 12, 31)  # the nights' date arithmetic needs room


class Command(BaseCommand):
    help = (
        "Run the nightly recompute in this process for one date, or with --backfill for the days before it too. "
        "The churn model is retrained on the last date when due (or with --retrain), never on backfilled ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Evaluation date YYYY-MM-DD (default: yesterday, UTC).")
        parser.add_argument("--backfill", type=int, default=0, metavar="DAYS", help="Also recompute the N days before.")
        parser.add_argument("--every", type=int, default=1, metavar="DAYS", help="With --backfill: every Nth day.")
        parser.add_argument(
            "--daily",
            type=int,
            default=0,
            metavar="DAYS",
            help="With --every: also every one of the last N days (the nights run in date order).",
        )
        parser.add_argument("--missing-only", action="store_true", help="Skip dates that already have a finished run.")
        parser.add_argument("--retrain", action="store_true", help="Retrain the churn model even if not due.")

    def handle(self, *args, as_of=None, backfill=0, every=1, daily=0, missing_only=False, retrain=False, **options):
        try:
            end = dt.date.fromisoformat(as_of) if as_of else timezone.now().date() - dt.timedelta(days=1)
        except ValueError as error:
            raise CommandError(f"--as-of must be a date like 2026-01-31: {error}") from error
        if backfill < 0 or every < 1 or daily < 0:
            raise CommandError("--backfill and --daily must be 0 or more days and --every at least 1.")
        if not FIRST_DAY <= end <= LAST_DAY or max(backfill, daily) > (end - FIRST_DAY).days:
            raise CommandError(f"The nights must lie between {FIRST_DAY} and {LAST_DAY}.")
        offsets = {*range(backfill - backfill % every, 0, -every), *range(daily, 0, -1), 0}
        days = [end - dt.timedelta(days=offset) for offset in sorted(offsets, reverse=True)]
        if missing_only:
            done = set(
                RecomputeRun.objects.filter(status=RecomputeRun.Status.SUCCEEDED).values_list("as_of", flat=True)
            )
            days = [day for day in days if day not in done]
        for day in days:
            run = recompute(
                as_of=day,
                retrain=(True if retrain else None) if day == end else False,
                later_nights_follow=day != days[-1],
            )
            self.stdout.write(
                f"{day:%Y-%m-%d}: {run.status}, {run.counts.get('accounts', 0)} accounts "
                f"in {run.timings.get('total', 0):.1f}s"
            )
            for error in run.errors:
                self.stderr.write(f"  {error}")
