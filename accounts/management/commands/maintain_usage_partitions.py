"""Create the raw usage events' coming partitions and apply the retention now (the beat does it daily at 01:30)."""

from django.core.management.base import BaseCommand

from accounts.usage.partitions import partition_months, partitioned, usage_partitions_maintain


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        if not partitioned():
            self.stdout.write("The raw usage events are not partitioned (SQLite keeps one table): nothing to do.")
            return
        report = usage_partitions_maintain()
        for label, months in (("created", report.created), ("dropped", report.dropped)):
            self.stdout.write(f"{label}: {', '.join(f'{m:%Y-%m}' for m in months) or 'none'}")
        if report.moved_from_default or report.dropped_from_default:
            self.stdout.write(
                f"default partition: {report.moved_from_default} events moved into their month's partition,"
                f" {report.dropped_from_default} dropped as older than the retention"
            )
        if report.waiting_for_rollups:
            months = ", ".join(f"{m:%Y-%m}" for m in report.waiting_for_rollups)
            self.stdout.write(f"kept past the retention until their queued events are in the rollups: {months}")
        self.stdout.write(f"messageIds forgotten: {report.messages_forgotten}")
        months = partition_months()
        self.stdout.write(f"partitions: {len(months)}, {months[0]:%Y-%m} to {months[-1]:%Y-%m}" if months else "none")
