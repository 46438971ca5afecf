"""Celery tasks of the nightly recompute: thin, they take ids and ISO dates and call one service each.

The night fans out as a chord: one task per chunk of accounts across the workers, then the finishing task. Time
limits come from the settings (``RECOMPUTE_CHUNK_TIME_LIMIT``, ``RECOMPUTE_NIGHT_TIME_LIMIT``): the heal job reads
the same figures to tell a lost claim or a stalled night from one still working.
"""

import datetime as dt

from celery import chord, shared_task
from django.conf import settings
from django.utils import timezone

from . import pipeline, services
from .models import RecomputeChunk

CHUNK_LIMIT = settings.RECOMPUTE_CHUNK_TIME_LIMIT
NIGHT_LIMIT = settings.RECOMPUTE_NIGHT_TIME_LIMIT


@shared_task(acks_late=True, time_limit=CHUNK_LIMIT, soft_time_limit=CHUNK_LIMIT * 0.9)
def recompute_chunk(chunk_id: int) -> int:
    return pipeline.recompute_chunk_process(chunk_id=chunk_id)


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def recompute_finish(_results: list | None, run_id: int) -> str:
    return pipeline.recompute_run_finish(run_id=run_id).status


@shared_task(acks_late=True, time_limit=NIGHT_LIMIT, soft_time_limit=NIGHT_LIMIT * 0.95)
def recompute_nightly(as_of: str | None = None, retrain: bool | None = None) -> int:
    """``as_of`` is an ISO date; beat leaves it out, meaning yesterday (UTC): the last complete day. An unfinished
    run of that day is resumed (only its unfinished chunks are done again)."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date() - dt.timedelta(days=1)
    run = pipeline.recompute_run_prepare(as_of=day)
    pipeline.recompute_run_global_steps(run_id=run.pk, retrain=retrain)
    chunk_ids = list(run.chunks.exclude(status=RecomputeChunk.Status.DONE).values_list("pk", flat=True))
    if chunk_ids:
        chord(recompute_chunk.s(chunk_id) for chunk_id in chunk_ids)(recompute_finish.s(run_id=run.pk))
    else:  # every chunk finished before a crash took the finishing task with it
        recompute_finish.delay(None, run_id=run.pk)
    return run.pk


@shared_task(acks_late=True, time_limit=5 * 60, soft_time_limit=4 * 60)
def recompute_heal() -> list[str]:
    """Resume every stalled night (beat, every 10 minutes, and each worker as it starts); returns their dates."""
    days = pipeline.recompute_runs_stalled(stale_after=dt.timedelta(seconds=NIGHT_LIMIT))
    for day in days:
        recompute_nightly.delay(as_of=day.isoformat())
    return [day.isoformat() for day in days]


@shared_task(acks_late=True, time_limit=5 * 60, soft_time_limit=4 * 60)
def refresh_current_figures() -> int:
    """Re-score the accounts whose data changed since their last refresh (beat, every minute)."""
    return len(pipeline.current_figures_refresh())


@shared_task(acks_late=True, time_limit=15 * 60, soft_time_limit=14 * 60)
def scorecard_preview_compute(preview_id: int) -> str:
    """A scorecard what-if, off the request path (the admin polls its progress)."""
    return services.scorecard_preview_compute(preview_id=preview_id).status
