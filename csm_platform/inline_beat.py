"""The beat schedule run inside one process, for the embedded default (no broker, so no worker and no beat).

Without a broker every task runs in-process (``CELERY_TASK_ALWAYS_EAGER``), but nothing sends the scheduled ones:
the current figures would never refresh during the day and no night would run. ``InlineBeat`` reads the same
schedule Celery beat reads (``app.conf.beat_schedule``, csm_platform/celery.py), decides what is due with Celery's
own schedules, and runs each due task in this process, one at a time. ``manage.py serve`` runs it in a thread
beside the development server. With a broker, run Celery beat and workers instead (docs/operations.md).
"""

import datetime as dt
import logging
import threading

from celery import Celery
from celery.beat import ScheduleEntry
from django.db import close_old_connections

from .celery import app as celery_app

logger = logging.getLogger(__name__)

# The longest sleep between two looks at the schedule: a due entry is never later than this.
MAX_SLEEP_SECONDS = 60.0


class InlineBeat:
    """``schedule`` (default: the app's beat schedule) from ``start`` (default: now): an entry is first due at its
    first time after ``start``, as when Celery beat starts with an empty schedule file."""

    def __init__(self, *, app: Celery = celery_app, schedule: dict | None = None, start: dt.datetime | None = None):
        self.app = app
        app.autodiscover_tasks(force=True)  # every app's tasks module, as a worker imports them when it starts
        start = start or app.now()
        self.entries = [
            ScheduleEntry(
                name=name,
                task=spec["task"],
                schedule=spec["schedule"],
                args=spec.get("args", ()),
                kwargs=spec.get("kwargs", {}),
                last_run_at=start,
                app=app,
            )
            for name, spec in (app.conf.beat_schedule if schedule is None else schedule).items()
        ]

    def tick(self) -> float:
        """Run every entry that is due, in schedule order; the seconds until the next one is due (at most
        ``MAX_SLEEP_SECONDS``). A task that fails is logged and its entry waits for its next time, as with beat."""
        waits = [MAX_SLEEP_SECONDS]
        for index, entry in enumerate(self.entries):
            due, wait = entry.is_due()
            if due:
                self._run(entry)
                self.entries[index] = entry = next(entry)
                due, wait = entry.is_due()
            waits.append(wait)
        return max(0.0, min(waits))

    def _run(self, entry: ScheduleEntry) -> None:
        """Call the task here, as a worker would run it (what it sends on runs in-process too); a run that did
        something (a non-empty result) is logged, a quiet minute is not."""
        try:
            result = self.app.tasks[entry.task](*entry.args, **entry.kwargs)
        except Exception:
            logger.exception("inline beat: %s (%s) failed", entry.name, entry.task)
        else:
            logger.log(logging.INFO if result else logging.DEBUG, "inline beat: %s returned %r", entry.name, result)

    def run_forever(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set; the thread's database connection is let go between ticks, as after a
        request (``CONN_MAX_AGE``). Whatever goes wrong is logged and the schedule goes on a minute later: the
        thread never dies while the server serves."""
        while True:
            try:
                close_old_connections()
                wait = self.tick()
                close_old_connections()
            except Exception:
                logger.exception("inline beat: the schedule could not be read; trying again in a minute")
                wait = MAX_SLEEP_SECONDS
            if stop.wait(wait):
                return


def inline_beat_start() -> threading.Event:
    """Run the app's beat schedule in a daemon thread of this process; set the returned event to stop it."""
    stop = threading.Event()
    beat = InlineBeat()
    threading.Thread(target=beat.run_forever, args=(stop,), name="inline-beat", daemon=True).start()
    return stop
