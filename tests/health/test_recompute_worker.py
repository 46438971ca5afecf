"""Killing the worker in the middle of a night and running again gives the same snapshots as a clean run."""

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


def _snapshots():
    return list(AccountSnapshot.objects.order_by("account", "as_of").values_list(*FIELDS))


@pytest.mark.django_db(transaction=True)
def test_killed_worker_then_rerun_equals_a_clean_run():
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

    with celery_worker(RECOMPUTE_CHUNK_SIZE="1") as worker:
        recompute_nightly.delay(as_of=AS_OF.isoformat())
        deadline = time.monotonic() + 120
        while not RecomputeChunk.objects.filter(status=RecomputeChunk.Status.DONE).exists():
            assert time.monotonic() < deadline, "the worker never finished a chunk"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    run = RecomputeRun.objects.get(as_of=AS_OF)
    assert run.status == RecomputeRun.Status.RUNNING
    unfinished = run.chunks.exclude(status=RecomputeChunk.Status.DONE).count()
    assert 0 < unfinished < 12, "the kill must land in the middle of the night"

    resumed = recompute(as_of=AS_OF)
    assert resumed.pk == run.pk and resumed.status == RecomputeRun.Status.SUCCEEDED
    after_crash = _snapshots()

    AccountSnapshot.objects.all().delete()
    RecomputeRun.objects.all().delete()
    clean = recompute(as_of=AS_OF)
    assert clean.status == RecomputeRun.Status.SUCCEEDED
    assert after_crash == _snapshots()
    assert len(after_crash) == 12
