"""The one Celery app. Configuration comes from Django settings (``CELERY_*``); the beat schedule is here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm_platform.settings.local")

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
}
