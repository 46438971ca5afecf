"""A task really goes through the Redis broker to a real worker process, which writes to the test database."""

import datetime as dt

import pytest

from accounts.models import Contract
from accounts.tasks import contract_statuses_refresh
from tests.factories import ContractFactory
from tests.worker import celery_worker, needs_redis

pytestmark = [pytest.mark.worker, needs_redis]


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_real_worker_on_the_redis_broker():
    stale = ContractFactory(start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31))
    current = ContractFactory(start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))

    with celery_worker():
        result = contract_statuses_refresh.delay(as_of="2024-03-01")
        assert result.get(timeout=60) == 1

    stale.refresh_from_db()
    current.refresh_from_db()
    assert (stale.status, current.status) == (Contract.Status.ENDED, Contract.Status.ACTIVE)
