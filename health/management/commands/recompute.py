import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from health.pipeline import recompute


class Command(BaseCommand):
    help = "Run the nightly recompute in this process for one date, or for each of the last N days (backfill)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Evaluation date YYYY-MM-DD (default: yesterday, UTC).")
        parser.add_argument("--backfill", type=int, default=0, metavar="DAYS", help="Also recompute the N days before.")
        parser.add_argument("--retrain", action="store_true", help="Retrain the churn model even if not due.")

    def handle(self, *args, as_of=None, backfill=0, retrain=False, **options):
        try:
            end = dt.date.fromisoformat(as_of) if as_of else timezone.now().date() - dt.timedelta(days=1)
        except ValueError as error:
            raise CommandError(f"--as-of must be a date like 2026-01-31: {error}") from error
        if backfill < 0:
            raise CommandError("--backfill must be 0 or more days.")
        for offset in range(backfill, -1, -1):
            day = end - dt.timedelta(days=offset)
            run = recompute(as_of=day, retrain=True if retrain and offset == 0 else None)
            self.stdout.write(
                f"{day:%Y-%m-%d}: {run.status}, {run.counts.get('accounts', 0)} accounts "
                f"in {run.timings.get('total', 0):.1f}s"
            )
            for error in run.errors:
                self.stderr.write(f"  {error}")
