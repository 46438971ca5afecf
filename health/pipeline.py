"""The nightly recompute for one evaluation date: revenue, churn model (weekly), account snapshots in chunks,
then the hooks other apps register (journeys evaluates playbooks there).

Idempotent per ``as_of`` (snapshots are upserts) and resumable: chunks are claimed with a conditional UPDATE, and
a rerun of an unfinished run bumps its attempt so that claims of a crashed worker lapse and only the chunks that
never finished are done again. Every run leaves a ``RecomputeRun`` row with counts, timings and errors.

A night never dies of one account: bad inputs are N/A with a data-quality problem on the snapshot, and an account
whose computation still raises is retried alone, recorded with its error, and the rest of its chunk is written. A
global step that fails marks the run failed with its error (never left "running").
"""

import contextvars
import datetime as dt
import logging
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import contracts_live_on
from accounts.services import changed_accounts_claim
from accounts.usage.services import usage_rollups_fold_all

from .models import ChurnModelVersion, RecomputeChunk, RecomputeRun
from .services import account_current_write, account_snapshots_write, churn_model_train, revenue_snapshot_write

logger = logging.getLogger(__name__)

RETRAIN_EVERY_DAYS = 7
# Accounts refreshed per transaction by the intra-day refresh.
REFRESH_BATCH = 200

AFTER_RECOMPUTE: list[Callable[[dt.date], dict]] = []
AFTER_REFRESH: list[Callable[[list[int]], None]] = []
# True while a backfill runs a night that later nights of the same backfill follow: a hook whose result only the
# latest night needs (the pages' rows) leaves that part to the backfill's last night.
_LATER_NIGHTS_FOLLOW = contextvars.ContextVar("later_nights_follow", default=False)


def later_nights_follow() -> bool:
    """Whether the night being finished is a backfill's, with later nights of the same backfill still to run."""
    return _LATER_NIGHTS_FOLLOW.get()


def register_after_recompute(hook: Callable[[dt.date], dict]) -> None:
    """``hook(as_of)`` runs after every finished night and returns counts to record on the run."""
    if hook not in AFTER_RECOMPUTE:
        AFTER_RECOMPUTE.append(hook)


def register_after_refresh(hook: Callable[[list[int]], None]) -> None:
    """``hook(account_ids)`` runs in the transaction of each batch of changed accounts the intra-day refresh
    re-scores."""
    if hook not in AFTER_REFRESH:
        AFTER_REFRESH.append(hook)


def accounts_to_score(*, as_of: dt.date) -> list[int]:
    """Accounts that are customers on ``as_of`` (a live contract) or marked active."""
    live = contracts_live_on(as_of=as_of).values_list("account_id", flat=True)
    return sorted(set(live) | set(Account.objects.filter(status=Account.Status.ACTIVE).values_list("pk", flat=True)))


@transaction.atomic
def recompute_run_prepare(*, as_of: dt.date, chunk_size: int | None = None) -> RecomputeRun:
    """Resume the unfinished run for ``as_of`` (bumping its attempt) or start a new one split into chunks."""
    run = (
        RecomputeRun.objects.select_for_update()
        .filter(as_of=as_of)
        .exclude(status=RecomputeRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )
    if run is not None:
        run.attempt += 1
        run.status = RecomputeRun.Status.RUNNING
        run.errors = []
        run.save(update_fields=["attempt", "status", "errors"])
        return run
    chunk_size = chunk_size or settings.RECOMPUTE_CHUNK_SIZE
    run = RecomputeRun.objects.create(as_of=as_of, started_at=timezone.now())
    ids = accounts_to_score(as_of=as_of)
    RecomputeChunk.objects.bulk_create(
        RecomputeChunk(run=run, index=n, account_ids=ids[start : start + chunk_size])
        for n, start in enumerate(range(0, len(ids), chunk_size))
    )
    return run


def _timed(run: RecomputeRun, step: str, work: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = work()
    RecomputeRun.objects.filter(pk=run.pk).update(
        timings={**run.timings, step: round(time.perf_counter() - started, 3)}
    )
    run.refresh_from_db(fields=["timings"])
    return result


def recompute_run_fail(*, run_id: int, error: BaseException) -> None:
    """Mark the run failed with the error that stopped it."""
    RecomputeRun.objects.filter(pk=run_id).update(
        status=RecomputeRun.Status.FAILED, errors=[f"{type(error).__name__}: {error}"], finished_at=timezone.now()
    )


def recompute_run_global_steps(*, run_id: int, retrain: bool | None = None) -> None:
    """Steps done once per night before the chunks: close the usage day (fold every queued event into the
    rollups), the revenue snapshot and, weekly, the churn model. A failure marks the run failed and is re-raised."""
    run = RecomputeRun.objects.get(pk=run_id)
    try:
        _timed(run, "usage_fold", usage_rollups_fold_all)
        _timed(run, "revenue", lambda: revenue_snapshot_write(as_of=run.as_of))
        latest = ChurnModelVersion.objects.filter(as_of__lte=run.as_of).order_by("-as_of").first()
        due = latest is None or (run.as_of - latest.as_of).days >= RETRAIN_EVERY_DAYS
        if retrain or (retrain is None and due):
            _timed(run, "churn_training", lambda: churn_model_train(as_of=run.as_of))
    except Exception as error:
        recompute_run_fail(run_id=run_id, error=error)
        raise


def _snapshots_write_isolating(*, as_of: dt.date, account_ids: list[int]) -> tuple[int, list[str]]:
    """Write the chunk's snapshots set-based; if that raises, write each account alone so that one account's
    failure costs only its own snapshot. Returns (accounts written, one error line per failed account)."""
    try:
        with transaction.atomic():
            return account_snapshots_write(as_of=as_of, account_ids=account_ids), []
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        logger.warning("Chunk of %d accounts failed on %s; retrying each account alone.", len(account_ids), as_of)
    written, failures = 0, []
    for account_id in account_ids:
        try:
            with transaction.atomic():
                written += account_snapshots_write(as_of=as_of, account_ids=[account_id])
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # recorded on the chunk and the run, never hidden
            failures.append(f"account {account_id}: {type(error).__name__}: {error}")
    return written, failures


def recompute_chunk_process(*, chunk_id: int) -> int:
    """Claim the chunk (unless done, or held by the current attempt within the chunk's hard time limit: a claim
    older than that was lost with its worker) and write its snapshots. Returns accounts written, 0 when there was
    nothing to claim."""
    chunk = RecomputeChunk.objects.select_related("run").get(pk=chunk_id)
    attempt = chunk.run.attempt
    now = timezone.now()
    lost = now - dt.timedelta(seconds=settings.RECOMPUTE_CHUNK_TIME_LIMIT)
    claimed = (
        RecomputeChunk.objects.filter(pk=chunk_id)
        .exclude(status=RecomputeChunk.Status.DONE)
        .filter(
            Q(status=RecomputeChunk.Status.PENDING)
            | Q(status=RecomputeChunk.Status.FAILED)
            | Q(attempt__lt=attempt)
            | Q(claimed_at__lt=lost)
        )
        .update(status=RecomputeChunk.Status.RUNNING, attempt=attempt, claimed_at=now)
    )
    if not claimed:
        return 0
    try:
        written, failures = _snapshots_write_isolating(as_of=chunk.run.as_of, account_ids=chunk.account_ids)
    except SoftTimeLimitExceeded as error:
        # Recorded on the chunk and re-raised: the run shows the failure and the task is marked failed.
        RecomputeChunk.objects.filter(pk=chunk_id).update(
            status=RecomputeChunk.Status.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise
    RecomputeChunk.objects.filter(pk=chunk_id).update(
        status=RecomputeChunk.Status.DONE, finished_at=timezone.now(), error="\n".join(failures)
    )
    return written


def recompute_runs_stalled(*, stale_after: dt.timedelta) -> list[dt.date]:
    """The dates of running nights that made no progress (started, a chunk claimed or finished) for longer than
    ``stale_after`` (the night's hard time limit: whatever worked on them is gone), oldest first."""
    cutoff = timezone.now() - stale_after
    stalled = []
    for run in RecomputeRun.objects.filter(status=RecomputeRun.Status.RUNNING).order_by("as_of"):
        moments = [run.started_at, *run.chunks.values_list("claimed_at", flat=True)]
        moments += run.chunks.values_list("finished_at", flat=True)
        if max(moment for moment in moments if moment is not None) < cutoff:
            stalled.append(run.as_of)
    return stalled


def recompute_run_finish(*, run_id: int) -> RecomputeRun:
    """Close the run: succeeded when every chunk is done, then the registered hooks; failed otherwise. A run
    already succeeded is left as it is (a finishing task delivered twice)."""
    run = RecomputeRun.objects.get(pk=run_id)
    if run.status == RecomputeRun.Status.SUCCEEDED:
        return run
    chunks = run.chunks.all()
    failed = list(chunks.exclude(status=RecomputeChunk.Status.DONE).values("index", "status", "error"))
    account_failures = [
        line
        for error in chunks.filter(status=RecomputeChunk.Status.DONE).exclude(error="").values_list("error", flat=True)
        for line in error.splitlines()
    ]
    counts = {
        "accounts": sum(len(ids) for ids in chunks.values_list("account_ids", flat=True)),
        "chunks": chunks.count(),
        "chunks_unfinished": len(failed),
        "accounts_failed": len(account_failures),
    }
    run.errors = account_failures
    if failed:
        run.status = RecomputeRun.Status.FAILED
        run.errors += [f"chunk {c['index']} {c['status']}: {c['error']}".strip() for c in failed]
    else:
        try:
            for hook in AFTER_RECOMPUTE:
                counts.update(_timed(run, hook.__module__, lambda hook=hook: hook(run.as_of)) or {})
        except Exception as error:
            # A failing step after the snapshots (playbooks, the pages' figures) fails the run, never leaves it running.
            recompute_run_fail(run_id=run.pk, error=error)
            raise
        run.status = RecomputeRun.Status.SUCCEEDED
    run.counts = counts
    run.finished_at = timezone.now()
    run.timings = {**run.timings, "total": round((run.finished_at - run.started_at).total_seconds(), 3)}
    run.save(update_fields=["status", "errors", "counts", "finished_at", "timings"])
    return run


def recompute(*, as_of: dt.date, retrain: bool | None = None, later_nights_follow: bool = False) -> RecomputeRun:
    """The whole night in this process (``manage.py recompute``, tests, the demo backfill). A backfill says
    ``later_nights_follow`` of every night but its last (``later_nights_follow()`` in the hooks)."""
    token = _LATER_NIGHTS_FOLLOW.set(later_nights_follow)
    try:
        return _recompute(as_of=as_of, retrain=retrain)
    finally:
        _LATER_NIGHTS_FOLLOW.reset(token)


def _recompute(*, as_of: dt.date, retrain: bool | None) -> RecomputeRun:
    run = recompute_run_prepare(as_of=as_of)
    recompute_run_global_steps(run_id=run.pk, retrain=retrain)
    started = time.perf_counter()
    for chunk_id in run.chunks.exclude(status=RecomputeChunk.Status.DONE).values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)
    run.refresh_from_db()
    RecomputeRun.objects.filter(pk=run.pk).update(
        timings={**run.timings, "snapshots": round(time.perf_counter() - started, 3)}
    )
    return recompute_run_finish(run_id=run.pk)


def current_figures_refresh(*, budget: dt.timedelta = dt.timedelta(seconds=50)) -> list[tuple[int, dt.datetime]]:
    """The intra-day refresh: fold queued usage (which marks those accounts changed), then write the current
    figures (as of today, UTC) of every changed account and run the registered hooks on them (the pages' rows), a
    batch per transaction, until none is left or the time budget is spent. Returns (account, first change) of those
    refreshed."""
    usage_rollups_fold_all()
    deadline = time.monotonic() + budget.total_seconds()
    refreshed: list[tuple[int, dt.datetime]] = []
    while time.monotonic() < deadline:
        with transaction.atomic():
            claimed = changed_accounts_claim(limit=REFRESH_BATCH)
            if claimed:
                account_ids = [a for a, _ in claimed]
                account_current_write(as_of=timezone.now().date(), account_ids=account_ids)
                for hook in AFTER_REFRESH:
                    hook(account_ids)
        if not claimed:
            break
        refreshed += claimed
    return refreshed
