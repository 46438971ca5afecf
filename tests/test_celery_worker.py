"""A task really goes through the Redis broker to a real worker process, which writes to the test database."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Contract
from accounts.tasks import contract_statuses_refresh
from csm_platform.celery import app
from tests.factories import ContractFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL); CI always has it"),
]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db):
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("the worker process cannot see an in-memory SQLite database")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "csm_platform.settings.local",
        "DEBUG": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "csm_platform",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        yield process
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output)


def test_a_task_runs_in_a_real_worker_on_the_redis_broker(worker):
    stale = ContractFactory(start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31))
    current = ContractFactory(start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))

    result = contract_statuses_refresh.delay(as_of="2024-03-01")

    assert result.get(timeout=60) == 1
    stale.refresh_from_db()
    current.refresh_from_db()
    assert (stale.status, current.status) == (Contract.Status.ENDED, Contract.Status.ACTIVE)
