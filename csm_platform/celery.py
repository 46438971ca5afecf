"""The one Celery app. Configuration comes from Django settings (``CELERY_*``); the beat schedule is here."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

# Imported first by every entry point (this package's __init__): a worker, beat or server started without
# DJANGO_SETTINGS_MODULE runs the production settings, never the local ones; manage.py defaults to local itself.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm_platform.settings.production")

app = Celery("csm_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Crontab only (UTC); every entry expires so that a backlog after an outage never runs stale work.
app.conf.beat_schedule = {
    # Contracts whose last day has passed are marked ended shortly after midnight UTC.
    "contract-statuses-refresh": {
        "task": "accounts.tasks.contract_statuses_refresh",
        "schedule": crontab(minute=5, hour=0),
        "options": {"expires": 60 * 60},
    },
    # Backstop for the fold ingestion schedules after each batch: rollups are never more than a minute stale.
    "usage-rollups-fold": {
        "task": "accounts.tasks.usage_rollups_fold",
        "schedule": crontab(),
        "options": {"expires": 55},
    },
    # The raw usage events' partitions for the coming months, and the retention: months past it are dropped whole.
    "usage-partitions-maintain": {
        "task": "accounts.tasks.usage_partitions_maintain",
        "schedule": crontab(minute=30, hour=1),
        "options": {"expires": 60 * 60},
    },
    # Hourly, so the configured digest hour (journeys settings, UTC) is met; a DigestRun row sends each day's once.
    "journeys-morning-digest": {
        "task": "journeys.tasks.morning_digest",
        "schedule": crontab(minute=0),
        "options": {"expires": 50 * 60},
    },
    # The night for yesterday (the last complete UTC day): revenue, weekly churn retrain, health and churn
    # snapshots in chunks, then playbooks. 02:00 leaves late events of the day two hours to arrive.
    "recompute-nightly": {
        "task": "health.tasks.recompute_nightly",
        "schedule": crontab(minute=0, hour=2),
        "options": {"expires": 4 * 60 * 60},
    },
    # Fresh within minutes: accounts whose events, contracts, contacts, touches or answers changed are re-scored
    # (current figures, labelled with their time); the night stays the record.
    "refresh-current-figures": {
        "task": "health.tasks.refresh_current_figures",
        "schedule": crontab(),
        "options": {"expires": 55},
    },
    # A night whose worker died (killed, out of memory, a deploy) is resumed without a person re-sending it.
    "recompute-heal": {
        "task": "health.tasks.recompute_heal",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 9 * 60},
    },
}


@worker_ready.connect
def heal_stalled_nights(sender, **kwargs) -> None:
    """A worker that starts (often: restarts after a crash) looks for stalled nights at once."""
    sender.app.send_task("health.tasks.recompute_heal")
