"""A worker killed with SIGKILL in the middle of a night: the night finishes by itself once a worker is back (the
heal job each starting worker runs), with the same snapshots as a clean run."""

import datetime as dt
import signal
import time

import pytest

from accounts.usage.services import usage_rollups_rebuild
from health.models import AccountSnapshot, RecomputeChunk, RecomputeRun
from health.pipeline import recompute
from health.tasks import recompute_nightly
from tests.factories import AccountFactory, ActivityFactory, ContractFactory, UsageEventFactory
from tests.worker import celery_worker, needs_redis

pytestmark = [pytest.mark.worker, needs_redis]

AS_OF = dt.date(2024, 6, 30)
FIELDS = ("account", "as_of", "acv", "health", "band", "measures", "churn_probability", "risk_band", "churn_drivers")
# Short hard limits for the workers of this test, so that a lost claim is stale within seconds, not an hour.
LIMIT_SECONDS = 15
LIMITS = {"RECOMPUTE_CHUNK_SIZE": "1", "RECOMPUTE_CHUNK_TIME_LIMIT": str(LIMIT_SECONDS)}
LIMITS["RECOMPUTE_NIGHT_TIME_LIMIT"] = str(LIMIT_SECONDS)


def _snapshots():
    return list(AccountSnapshot.objects.order_by("account", "as_of").values_list(*FIELDS))


def _wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_night_whose_worker_was_killed_finishes_by_itself_like_a_clean_run():
    for n in range(12):
        account = AccountFactory()
        ContractFactory(account=account, seats=5 + n, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
        for day in range(0, 40, 3 + n % 4):
            UsageEventFactory(
                account=account,
                user_id=f"u{n}-{day % 5}",
                occurred_at=dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC) - dt.timedelta(days=day),
            )
        ActivityFactory(account=account, occurred_at=dt.datetime(2024, 6, 1 + n, tzinfo=dt.UTC))
    usage_rollups_rebuild()

    with celery_worker(**LIMITS) as worker:
        recompute_nightly.delay(as_of=AS_OF.isoformat())
        _wait_for(
            lambda: RecomputeChunk.objects.filter(status=RecomputeChunk.Status.DONE).exists(),
            seconds=120,
            what="the worker never finished a chunk",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    run = RecomputeRun.objects.get(as_of=AS_OF)
    assert run.status == RecomputeRun.Status.RUNNING
    unfinished = run.chunks.exclude(status=RecomputeChunk.Status.DONE).count()
    assert 0 < unfinished < 12, "the kill must land in the middle of the night"

    time.sleep(LIMIT_SECONDS + 1)  # what the dead worker held is now stale
    with celery_worker(**LIMITS):  # the supervisor's restart; its queue is empty: nobody re-sends anything
        _wait_for(
            lambda: RecomputeRun.objects.get(pk=run.pk).status == RecomputeRun.Status.SUCCEEDED,
            seconds=120,
            what="the night did not finish by itself",
        )
    healed = RecomputeRun.objects.get(pk=run.pk)
    assert healed.attempt == 2
    after_crash = _snapshots()

    AccountSnapshot.objects.all().delete()
    RecomputeRun.objects.all().delete()
    clean = recompute(as_of=AS_OF)
    assert clean.status == RecomputeRun.Status.SUCCEEDED
    assert after_crash == _snapshots()
    assert len(after_crash) == 12
