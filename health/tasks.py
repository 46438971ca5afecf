"""Celery tasks of the nightly recompute: thin, they take ids and ISO dates and call one service each.

The night fans out as a chord: one task per chunk of accounts across the workers, then the finishing task.
"""

import datetime as dt

from celery import chord, shared_task
from django.utils import timezone

from . import pipeline
from .models import RecomputeChunk


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=28 * 60)
def recompute_chunk(chunk_id: int) -> int:
    return pipeline.recompute_chunk_process(chunk_id=chunk_id)


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60)
def recompute_finish(_results: list | None, run_id: int) -> str:
    return pipeline.recompute_run_finish(run_id=run_id).status


@shared_task(acks_late=True, time_limit=60 * 60, soft_time_limit=58 * 60)
def recompute_nightly(as_of: str | None = None, retrain: bool | None = None) -> int:
    """``as_of`` is an ISO date; beat leaves it out, meaning yesterday (UTC): the last complete day."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.now().date() - dt.timedelta(days=1)
    run = pipeline.recompute_run_prepare(as_of=day)
    pipeline.recompute_run_global_steps(run_id=run.pk, retrain=retrain)
    chunk_ids = run.chunks.exclude(status=RecomputeChunk.Status.DONE).values_list("pk", flat=True)
    chord(recompute_chunk.s(chunk_id) for chunk_id in chunk_ids)(recompute_finish.s(run_id=run.pk))
    return run.pk
