"""Export accounts, contacts, contracts, exchange rates or activities as the import reads them back."""

from django.core.management.base import BaseCommand, CommandError

from accounts.imports.kinds import KINDS
from accounts.imports.services import book_export
from accounts.imports.tables import TableError, table_format


class Command(BaseCommand):
    help = "Write every object of KIND to FILE (.csv or .xlsx), in the shape import_book reads without a mapping."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file")

    def handle(self, *args, kind: str, file: str, **options):
        try:
            binary = table_format(file) == "xlsx"
            with open(
                file, "wb" if binary else "w", newline=None if binary else "", encoding=None if binary else "utf-8"
            ) as stream:
                count = book_export(kind=kind, file=stream, file_name=file)
        except (OSError, TableError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"exported {count} {kind} to {file}")
