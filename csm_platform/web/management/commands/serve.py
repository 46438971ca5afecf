"""``runserver`` (the installed one: WhiteNoise's, without Django's static handler) and, on the embedded default
(no broker: tasks run in-process), the beat schedule in a thread of the serving process (``csm_platform.inline_beat``):
the current figures refresh within minutes of a change and each night runs at 02:00 UTC, as in production.
``--no-schedule`` serves only. With a broker, Celery beat and workers run the schedule (docs/operations.md)."""

from django.conf import settings
from django.core.management import get_commands, load_command_class

from csm_platform.inline_beat import inline_beat_start

RunserverCommand = type(load_command_class(get_commands()["runserver"], "runserver"))


class Command(RunserverCommand):
    help = "Serve the development server and, without a broker, run the beat schedule in-process."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-schedule",
            action="store_false",
            dest="schedule",
            help="do not run the beat schedule in this process",
        )

    def inner_run(self, *args, **options):
        # The serving process (the autoreloader's child when reloading): started again with it after a code change.
        self.schedule = options["schedule"] and settings.CELERY_TASK_ALWAYS_EAGER
        super().inner_run(*args, **options)

    def on_bind(self, server_port):
        super().on_bind(server_port)
        # Once the port is bound, after the system and migration checks: never beside a server that did not start.
        if self.schedule:
            inline_beat_start()
            self.stdout.write("Beat schedule running in this process (no broker): current figures refresh each minute.")
