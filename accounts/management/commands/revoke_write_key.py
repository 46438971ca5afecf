"""Revoke a write key, named by its prefix (as listed in the admin) or the whole key."""

from django.core.management.base import BaseCommand, CommandError

from accounts.ingestion.auth import write_key_hash
from accounts.ingestion.services import write_key_revoke
from accounts.models import WriteKey


class Command(BaseCommand):
    help = "Revoke the active write key with this prefix (or this whole key); it is refused from then on."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the key's prefix, as the admin lists it, or the whole key")

    def handle(self, *args, key: str, **options):
        active = WriteKey.objects.filter(revoked_at__isnull=True).select_related("source")
        matches = list(active.filter(key_hash=write_key_hash(key))) or list(active.filter(prefix=key))
        if not matches:
            raise CommandError(f"No active write key has the prefix or value {key!r}.")
        if len(matches) > 1:
            sources = ", ".join(sorted(match.source.name for match in matches))
            raise CommandError(f"{len(matches)} active keys have the prefix {key!r} ({sources}): give the whole key.")
        write_key_revoke(write_key_id=matches[0].pk)
        self.stdout.write(f"Revoked write key {matches[0].prefix}… of source {matches[0].source.name!r}.")
