"""Recompute the usage rollups from raw events: after the demo load or a bulk import, or to repair them."""

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.usage.services import usage_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the usage rollups (and the feature catalog) from raw usage events, set-based, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account",
            dest="accounts",
            action="extend",
            nargs="+",
            metavar="EXTERNAL_ID",
            help="Only these accounts (CRM ids); default: every account.",
        )

    def handle(self, *args, accounts: list[str] | None, **options):
        account_ids = None
        if accounts:
            found = dict(Account.objects.filter(external_id__in=accounts).values_list("external_id", "id"))
            missing = sorted(set(accounts) - found.keys())
            if missing:
                raise CommandError(f"Unknown account(s): {', '.join(missing)}")
            account_ids = list(found.values())
        started = time.monotonic()
        summary = usage_rollups_rebuild(account_ids=account_ids)
        elapsed = time.monotonic() - started
        scope = f"{len(account_ids)} account(s)" if account_ids is not None else "all accounts"
        self.stdout.write(f"Rebuilt usage rollups for {scope} from {summary.events} events in {elapsed:.2f} s.")
        self.stdout.write(f"  features created: {summary.features_created}")
        for table, rows in summary.rows.items():
            self.stdout.write(f"  {table}: {rows} rows")
