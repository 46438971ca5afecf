"""Import a CSV or XLSX book of accounts, contacts, contracts, exchange rates or activities (accounts/imports/)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.imports.kinds import KINDS
from accounts.imports.services import ImportRefused, import_apply, import_preview
from accounts.imports.tables import TableError


class Command(BaseCommand):
    help = (
        "Import FILE (.csv or .xlsx) as KIND. Prints 'created N, updated N, unchanged N' and exits 0, or prints "
        "every row's errors and exits 1 with nothing changed. --dry-run previews only."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file")
        parser.add_argument(
            "--mapping",
            help='a JSON file {"source column": "field"}, a preset (salesforce, hubspot) or a saved mapping\'s '
            "name; default: columns named like the fields, else as a preset names them",
        )
        parser.add_argument("--dry-run", action="store_true", help="preview: change nothing")

    def handle(self, *args, kind: str, file: str, mapping: str | None, dry_run: bool, **options):
        try:
            with open(file, "rb") as stream:
                if dry_run:
                    plan = import_preview(kind=kind, file=stream, file_name=file, mapping=mapping)
                    errors, summary = plan.errors, plan.summary
                else:
                    run = import_apply(kind=kind, file=stream, file_name=file, mapping=mapping, user_id=None)
                    errors, summary = [], f"created {run.created}, updated {run.updated}, unchanged {run.unchanged}"
        except ImportRefused as refused:
            errors = refused.errors
        except (OSError, TableError) as error:
            raise CommandError(str(error)) from None
        if errors:
            for error in errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(errors)} errors; nothing was changed.", returncode=1)
        self.stdout.write(summary + (" (dry run: nothing was changed)" if dry_run else ""))
