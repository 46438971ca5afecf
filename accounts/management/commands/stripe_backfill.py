"""``manage.py stripe_backfill FILE``: Stripe subscription objects (a JSON list, or the API's list object) become
contracts as their webhook events would (``accounts.integrations.stripe.services``)."""

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from accounts.integrations.stripe.services import stripe_subscriptions_backfill


class Command(BaseCommand):
    help = "Load Stripe subscription objects from a JSON file (a list, or a list object with data) as contracts."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON: [subscription, ...] or {'object': 'list', 'data': [...]}")

    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        subscriptions = loaded.get("data") if isinstance(loaded, dict) else loaded
        if not isinstance(subscriptions, list) or not all(isinstance(s, dict) for s in subscriptions):
            raise CommandError("The file must hold a JSON list of Stripe subscription objects.")
        results = stripe_subscriptions_backfill(subscriptions=subscriptions)
        for subscription_id, result in results:
            if result.reason:
                self.stdout.write(f"{subscription_id}: {result.outcome}: {result.reason}")
        counts = Counter(result.outcome for _, result in results)
        self.stdout.write(f"applied {counts['applied']}, skipped {counts['skipped']}, refused {counts['refused']}")
        if counts["refused"]:
            raise CommandError(f"{counts['refused']} subscriptions refused (the others were loaded).")
