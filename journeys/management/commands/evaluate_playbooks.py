import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from journeys.services import journeys_nightly, playbooks_evaluate


class Command(BaseCommand):
    help = (
        "Run the journeys nightly step for a date (milestones, playbooks, check-ins), or with --dry-run count what "
        "the playbooks would fire without writing anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="ISO date (default: yesterday, UTC).")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, as_of=None, dry_run=False, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError(f"--as-of {as_of!r} is not an ISO date (YYYY-MM-DD).") from None
        counts = playbooks_evaluate(as_of=day, dry_run=True) if dry_run else journeys_nightly(as_of=day)
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
