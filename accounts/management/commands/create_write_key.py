"""Issue a write key for a source (created if new); the key is printed once, as the last word of the output."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.ingestion.services import write_key_create


class Command(BaseCommand):
    help = "Issue a write key for SOURCE_NAME (created if new). The key is shown once, as the last word printed."

    def add_arguments(self, parser):
        parser.add_argument("source_name")

    def handle(self, *args, source_name: str, **options):
        try:
            write_key, plaintext = write_key_create(source_name=source_name)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        self.stdout.write(
            f"Write key {write_key.prefix}… issued for source {write_key.source.name!r}. "
            f"It is stored hashed and shown only now:\n{plaintext}"
        )
