"""The beat schedule run in-process for the embedded default (csm_platform/inline_beat.py): due entries run here, one
not yet due waits for its time, and a task that fails is logged without stopping the others."""

import datetime as dt
import logging

import pytest
import time_machine
from celery.schedules import crontab, schedule

from accounts.models import ChangedAccount, Contract
from accounts.services import accounts_mark_changed
from csm_platform.celery import app
from csm_platform.inline_beat import MAX_SLEEP_SECONDS, InlineBeat
from health.models import AccountCurrent
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC)
REFRESH = {"task": "health.tasks.refresh_current_figures", "schedule": crontab()}


@pytest.fixture
def changed_account():
    with time_machine.travel(NOON, tick=False):
        account = AccountFactory()
        ContractFactory(account=account, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
        accounts_mark_changed(account_ids=[account.pk])
    return account


def test_a_due_entry_runs_here_and_an_entry_not_due_waits_for_its_time(changed_account):
    ended = ContractFactory(
        account=changed_account,
        start_date=dt.date(2023, 6, 1),
        end_date=dt.date(2024, 6, 29),
        status=Contract.Status.ACTIVE,
    )
    daily = {"task": "accounts.tasks.contract_statuses_refresh", "schedule": schedule(dt.timedelta(days=1))}
    with time_machine.travel(NOON, tick=False):
        beat = InlineBeat(schedule={"refresh": REFRESH, "daily": daily}, start=NOON - dt.timedelta(minutes=2))

        wait = beat.tick()

    assert AccountCurrent.objects.get(account=changed_account).as_of == NOON.date()
    assert not ChangedAccount.objects.exists()
    assert wait == pytest.approx(60, abs=1)  # the refresh's next minute
    ended.refresh_from_db()
    assert ended.status == Contract.Status.ACTIVE  # the daily entry is not due yet

    with time_machine.travel(NOON + dt.timedelta(days=1, minutes=1), tick=False):
        beat.tick()
    ended.refresh_from_db()
    assert ended.status == Contract.Status.ENDED


def test_a_failing_task_is_logged_and_the_other_entries_still_run(changed_account, caplog):
    broken = {"task": "accounts.tasks.contract_statuses_refresh", "schedule": crontab(), "args": ("not a date",)}
    with time_machine.travel(NOON, tick=False):
        beat = InlineBeat(schedule={"broken": broken, "refresh": REFRESH}, start=NOON - dt.timedelta(minutes=2))
        with caplog.at_level(logging.ERROR, logger="csm_platform.inline_beat"):
            wait = beat.tick()

    assert "inline beat: broken (accounts.tasks.contract_statuses_refresh) failed" in caplog.text
    assert "not a date" in caplog.text
    assert AccountCurrent.objects.filter(account=changed_account).exists()
    assert 0 < wait <= MAX_SLEEP_SECONDS


def test_the_default_schedule_is_the_apps_beat_schedule():
    beat = InlineBeat()

    assert {entry.name: entry.task for entry in beat.entries} == {
        name: spec["task"] for name, spec in app.conf.beat_schedule.items()
    }
    assert all(not entry.is_due().is_due for entry in beat.entries)  # nothing runs the moment it starts
