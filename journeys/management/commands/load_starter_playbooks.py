from django.core.management.base import BaseCommand

from journeys.services import starter_playbooks_load


class Command(BaseCommand):
    help = (
        "Load the starter playbook library (renewal at 120 and 90 days, health turned red, usage down 30%, no touch "
        "in 30 days, detractor answer, no executive sponsor, onboarding over 45 days). Playbooks already there are "
        "left as they are. New ones are inactive unless --activate (which also activates the existing ones)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--activate", action="store_true", help="Activate the starter playbooks.")

    def handle(self, *args, activate=False, **options):
        result = starter_playbooks_load(activate=activate)
        for name in result.created:
            self.stdout.write(f"created: {name}{'' if activate else ' (inactive)'}")
        for name in result.activated:
            self.stdout.write(f"activated: {name}")
        for name, why in result.skipped.items():
            self.stderr.write(f"skipped: {name}: {why}")
        self.stdout.write(
            f"{len(result.created)} created, {len(result.existing)} already there, {len(result.skipped)} skipped"
        )
