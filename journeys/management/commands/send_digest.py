import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from journeys.services import digest_send


class Command(BaseCommand):
    help = "Send the morning digest for a date now (default today, UTC), whatever the hour and earlier runs."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="ISO date (default: today, UTC).")

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date()
        except ValueError:
            raise CommandError(f"--as-of {as_of!r} is not an ISO date (YYYY-MM-DD).") from None
        self.stdout.write(f"{digest_send(as_of=day)} e-mails sent")
