"""The night heals itself: stale chunk claims expire, stalled runs are found, a finishing task delivered twice
changes nothing (the SIGKILL test with real workers is in test_recompute_worker.py)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from health.models import RecomputeChunk, RecomputeRun
from health.pipeline import recompute_chunk_process, recompute_run_finish, recompute_run_prepare, recompute_runs_stalled
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def run(settings):
    settings.RECOMPUTE_CHUNK_TIME_LIMIT = 30 * 60
    ContractFactory()
    return recompute_run_prepare(as_of=AS_OF, chunk_size=1)


def test_a_claim_older_than_the_chunks_hard_limit_was_lost_and_is_claimed_again(run):
    chunk = run.chunks.get()
    RecomputeChunk.objects.filter(pk=chunk.pk).update(
        status=RecomputeChunk.Status.RUNNING, attempt=run.attempt, claimed_at=timezone.now() - dt.timedelta(minutes=29)
    )
    assert recompute_chunk_process(chunk_id=chunk.pk) == 0  # held within the limit: still someone's work

    RecomputeChunk.objects.filter(pk=chunk.pk).update(claimed_at=timezone.now() - dt.timedelta(minutes=31))
    assert recompute_chunk_process(chunk_id=chunk.pk) == 1
    assert RecomputeChunk.objects.get(pk=chunk.pk).status == RecomputeChunk.Status.DONE


def test_a_running_night_without_progress_for_longer_than_the_limit_is_stalled(run):
    chunk = run.chunks.get()
    with time_machine.travel(timezone.now() + HOUR / 2):
        assert recompute_runs_stalled(stale_after=HOUR) == []
    with time_machine.travel(timezone.now() + 2 * HOUR):
        assert recompute_runs_stalled(stale_after=HOUR) == [AS_OF]
        RecomputeChunk.objects.filter(pk=chunk.pk).update(claimed_at=timezone.now() - HOUR / 2)  # recent progress
        assert recompute_runs_stalled(stale_after=HOUR) == []
        RecomputeRun.objects.filter(pk=run.pk).update(status=RecomputeRun.Status.SUCCEEDED)
        assert recompute_runs_stalled(stale_after=HOUR) == []


def test_a_finishing_task_delivered_twice_leaves_the_succeeded_run_as_it_was(run):
    recompute_chunk_process(chunk_id=run.chunks.get().pk)
    first = recompute_run_finish(run_id=run.pk)
    assert first.status == RecomputeRun.Status.SUCCEEDED

    again = recompute_run_finish(run_id=run.pk)

    assert (again.finished_at, again.counts) == (first.finished_at, first.counts)
