"""bench/recompute: one nightly run over 10,000 accounts and 20M usage events in PostgreSQL.

    .venv/bin/python bench/recompute/run.py [--accounts 10000] [--days 90] [--database csm_bench] [--workers 2]

Builds the book once (``load_demo``, set-based, rollups included) and reuses it on later runs; each run measures
the next night after the last one done, so it can be repeated without a rebuild. Setup, not measured: the churn
model's training (weekly, not nightly) and, as every night after the first has it, the snapshot of 30 days
before the night (health trends read it). Then:
1. the new day's events arrive through the ingestion service (Segment batches of 500), queued for the rollups;
2. the night runs as in production: ``recompute_nightly`` sent to real Celery workers (``--workers`` processes,
   Redis broker) that fold the queued events into the rollups, write the revenue snapshot, then fan the account
   chunks out as a chord. Timed from sending the task to the run's end; peak memory is the largest sum, sampled
   every 0.1 s, of the proportional set size of the worker's processes;
3. the baseline, in the same run: a bare SQL aggregate of the 30-day usage metrics over the raw events.
Prints accounts/s, peak memory, and the ratio of the night to the baseline.

    .venv/bin/python bench/recompute/run.py --history 5,10,20 [--database csm_bench_history]

A night whose cost does not grow with history: the book is built once (10,000 accounts over 90 days at a usage
rate scaled to a little over the first level: about 5.2M events for a first level of 5), then its
history grows to each level (millions of raw events) by copying its last 90 days of traffic further back in time,
again and again (raw events, their messageIds, the daily rollups; the all-time rollups' first use moves back), the
partitions of those months created first. A level below the book's size measures the book as it is. At each
level the next day's events arrive and the night runs as above. Prints a table after each level: the night's time
and its ratio to the first level's.
"""

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import ROOT, database_ensure, django_setup  # noqa: E402

AS_OF = dt.date(2026, 6, 30)  # the book's last loaded day; the bench night is the day after
# The demo's usage rate per million events of a 10,000-account book (measured: 0.144 made 12.6M, most of them in the
# five years of usage before past renewals); the default book holds ~20M events.
RATE_PER_MILLION_EVENTS = 0.144 / 12.6
EVENTS_PER_USER_DAY = 20 * RATE_PER_MILLION_EVENTS


REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own: the bench purges its queue
NIGHT_TIMEOUT = 30 * 60
DUMMY_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


def _build(accounts: int, days: int, events_per_user_day: float = EVENTS_PER_USER_DAY) -> None:
    from django.core.management import call_command

    from accounts.models import Account, UsageEvent
    from accounts.usage.partitions import usage_partitions_ensure

    call_command("migrate", "--no-input", verbosity=0)
    if Account.objects.count() >= accounts:
        print(f"reusing the book: {Account.objects.count():,} accounts, {UsageEvent.objects.count():,} events")
        return
    usage_partitions_ensure(first=AS_OF - dt.timedelta(days=days), last=AS_OF + dt.timedelta(days=31))
    started = time.perf_counter()
    call_command(
        "load_demo",
        "--reset",
        "--accounts",
        accounts,
        "--days",
        days,
        "--as-of",
        AS_OF.isoformat(),
        "--events-per-user-day",
        events_per_user_day,
    )
    print(f"built the book in {time.perf_counter() - started:.0f}s: {UsageEvent.objects.count():,} events")


def _new_day_arrives(day: dt.date) -> tuple[int, float]:
    """Yesterday's traffic again, one day later, through the real ingestion path in Segment batches of 500."""
    from django.db import connection

    from accounts.ingestion.services import ingest_batch
    from accounts.models import Source, UsageEvent

    source, _ = Source.objects.get_or_create(name="Bench")
    if UsageEvent.objects.filter(source=source, occurred_at__date=day).exists():
        return 0, 0.0
    previous = day - dt.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.external_id, e.user_id, e.event, e.occurred_at FROM {UsageEvent._meta.db_table} e"
            " JOIN accounts_account a ON a.id = e.account_id WHERE e.occurred_at >= %s AND e.occurred_at < %s",
            [
                dt.datetime.combine(previous, dt.time.min, tzinfo=dt.UTC),
                dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC),
            ],
        )
        rows = cursor.fetchall()
    messages = [
        {
            "type": "track",
            "messageId": f"bench-{day:%Y%m%d}-{n}",
            "userId": user_id,
            "event": event,
            "timestamp": (occurred_at + dt.timedelta(days=1)).isoformat(),
            "context": {"groupId": external_id},
        }
        for n, (external_id, user_id, event, occurred_at) in enumerate(rows)
    ]
    received_at = dt.datetime.combine(day, dt.time(23, 59), tzinfo=dt.UTC)
    started = time.perf_counter()
    for start in range(0, len(messages), 500):
        ingest_batch(source_id=source.pk, messages=messages[start : start + 500], received_at=received_at)
    return len(messages), time.perf_counter() - started


def _tree_pss_mib(root: int) -> float:
    """Proportional set size of ``root`` and all its descendants, in MiB (Linux /proc): pages shared between the
    prefork processes count once in all, not once per process."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue  # the process ended meanwhile
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    total_kib = 0
    for pid in tree:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total_kib += sum(int(line.split()[1]) for line in lines if line.startswith("Pss:"))
    return total_kib / 1024


def _worker(workers: int) -> subprocess.Popen:
    """A real Celery worker with ``workers`` processes, ready when it answers a ping."""
    from csm_platform.celery import app

    app.control.purge()
    name = f"bench-recompute-{os.getpid()}@{socket.gethostname()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "--quiet", "-A", "csm_platform", "worker", f"--concurrency={workers}"]
        + [f"--hostname={name}", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT,
        env=os.environ,
    )
    deadline = time.monotonic() + 60
    while not any(name in reply for reply in app.control.ping(timeout=0.5)):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start")
    others = [host for reply in app.control.ping(timeout=0.5) for host in reply if host != name]
    if others:
        process.terminate()
        raise RuntimeError(f"other workers listen on {REDIS_URL} and would take tasks: {', '.join(others)}")
    return process


def _night(day: dt.date, workers: int) -> tuple[float, float, int]:
    """The night on real workers: seconds from sending ``recompute_nightly`` to the run's end, the peak memory of
    the worker's processes in MiB, and the accounts the run scored. The night must be a fresh one (``main``)."""
    from health.models import RecomputeRun
    from health.tasks import recompute_nightly

    worker = _worker(workers)
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _tree_pss_mib(worker.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        started = time.perf_counter()
        recompute_nightly.delay(day.isoformat())
        finished = {RecomputeRun.Status.SUCCEEDED, RecomputeRun.Status.FAILED}
        while not RecomputeRun.objects.filter(as_of=day, status__in=finished).exists():
            if time.perf_counter() - started > NIGHT_TIMEOUT:
                raise RuntimeError(f"the night did not finish in {NIGHT_TIMEOUT} s")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        done.set()
        sampler.join()
        worker.terminate()
        worker.wait()
    run = RecomputeRun.objects.get(as_of=day)
    if run.status != RecomputeRun.Status.SUCCEEDED or run.attempt != 1:
        raise RuntimeError(f"the night did not succeed in one attempt: {run.status}, {run.errors}")
    steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in run.timings.items())
    print(f"the run: {run.counts['accounts']:,} accounts in {run.counts['chunks']} chunks; {steps}")
    return seconds, peak[0], run.counts["accounts"]


def _baseline(day: dt.date) -> float:
    """A bare SQL aggregate of the 30-day usage metrics (events_30, events_prev_30, MAU, DAU) over raw events."""
    from django.db import connection

    from accounts.models import UsageEvent

    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT account_id,
                   count(*) FILTER (WHERE occurred_at >= %(d30)s),
                   count(*) FILTER (WHERE occurred_at < %(d30)s),
                   count(DISTINCT user_id) FILTER (WHERE occurred_at >= %(d30)s),
                   count(DISTINCT (user_id, (occurred_at AT TIME ZONE 'UTC')::date))
                       FILTER (WHERE occurred_at >= %(d30)s) / 30.0
            FROM {UsageEvent._meta.db_table}
            WHERE occurred_at >= %(d60)s AND occurred_at < %(end)s
            GROUP BY account_id
            """,
            {"d30": end - dt.timedelta(days=30), "d60": end - dt.timedelta(days=60), "end": end},
        )
        cursor.fetchall()
    return time.perf_counter() - started


def _history(night: dt.date) -> None:
    """What every night but the first finds: a churn model and the snapshot of 30 days before."""
    from django.core.management import call_command

    from health.models import AccountSnapshot, ChurnModelVersion

    if not ChurnModelVersion.objects.exists():
        started = time.perf_counter()
        call_command("recompute", "--as-of", AS_OF.isoformat(), "--retrain")
        print(f"setup: weekly churn training and a first night: {time.perf_counter() - started:.1f}s")
    month_ago = night - dt.timedelta(days=30)
    if not AccountSnapshot.objects.filter(as_of=month_ago).exists():
        started = time.perf_counter()
        call_command("recompute", "--as-of", month_ago.isoformat())
        print(f"setup: the night of {month_ago} (30 days before): {time.perf_counter() - started:.1f}s")


def _history_extend(*, to_events: int, days: int) -> None:
    """Copy the book's last ``days`` days of traffic (up to ``AS_OF``) back by ``days``, then by twice that, and so
    on, until the raw events number at least ``to_events``: raw events and their messageIds, and the daily rollups
    (added to any of the same key); the all-time rollups' first use moves back with them. Set-based SQL; the
    partitions of the new months are created first. Copies already made (a reused database) are skipped."""
    from django.db import connection, transaction

    from accounts.models import UsageDay, UsageEvent, UsageFeatureDay, UsageMessage, UsageUserDay
    from accounts.usage.partitions import usage_partitions_ensure
    from accounts.usage.services import statistics_refresh

    table = UsageEvent._meta.db_table
    columns = (
        "source_id, account_id, user_id, event, occurred_at, received_at, properties, message_id, timestamp_clamped"
    )
    rollups = {
        UsageDay: ("account_id, day", "events"),
        UsageUserDay: ("account_id, user_id, day", "events"),
        UsageFeatureDay: ("account_id, feature_id, day", "events"),
    }
    block_start = dt.datetime.combine(AS_OF - dt.timedelta(days=days - 1), dt.time.min, tzinfo=dt.UTC)
    block_end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    copy = 0
    while (count := UsageEvent.objects.count()) < to_events:
        copy += 1
        shift, suffix = dt.timedelta(days=days * copy), f"-h{copy}"
        target = UsageEvent.objects.filter(occurred_at__gte=block_start - shift, occurred_at__lt=block_end - shift)
        if target.filter(message_id__endswith=suffix).exists():
            continue
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            usage_partitions_ensure(first=(block_start - shift).date(), last=(block_end - shift).date())
            last_id = UsageEvent.objects.order_by("-id").values_list("id", flat=True).first()
            copied = columns.replace("occurred_at, received_at", "occurred_at - %s, received_at - %s").replace(
                "message_id", "message_id || %s"
            )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {copied} FROM {table}"  # noqa: S608 (names)
                " WHERE occurred_at >= %s AND occurred_at < %s",
                [shift, shift, suffix, block_start, block_end],
            )
            cursor.execute(
                f"INSERT INTO {UsageMessage._meta.db_table} (source_id, message_id, event_id, occurred_at, received_at)"  # noqa: S608
                f" SELECT source_id, message_id, id, occurred_at, received_at FROM {table} WHERE id > %s",
                [last_id],
            )
            for model, (keys, events) in rollups.items():
                name = model._meta.db_table
                cursor.execute(
                    f"INSERT INTO {name} ({keys}, {events})"  # noqa: S608 (names)
                    f" SELECT {keys.replace('day', 'day - %s')}, {events} FROM {name} WHERE day >= %s AND day < %s"
                    f" ON CONFLICT ({keys}) DO UPDATE SET {events} = {name}.{events} + EXCLUDED.{events}",
                    [days * copy, block_start.date(), block_end.date()],
                )
            for table_name, first in (
                ("accounts_accountfeatureusage", "first_used_at"),
                ("accounts_accountuserusage", "first_seen_at"),
            ):
                cursor.execute(
                    f"UPDATE {table_name} SET {first} = LEAST({first}, %s), events = events * 2",  # noqa: S608
                    [block_start - shift],
                )
        print(
            f"history: {count:,} → {UsageEvent.objects.count():,} events (the {days} days to {AS_OF} copied back by"
            f" {days * copy} days) in {time.perf_counter() - started:.0f}s"
        )
    statistics_refresh(tables_of=[UsageEvent, UsageMessage, *rollups])


def _history_table(levels: list[int], days: int, workers: int) -> None:
    """The night at each level of history (millions of raw events), the same new day's events each time."""
    from accounts.models import UsageEvent
    from health.models import RecomputeRun

    rows = []
    header = f"{'history':>9} {'raw events':>12} {'new events':>11} {'night':>8} {'peak MiB':>9} {'ratio':>6}"
    for level in levels:
        _history_extend(to_events=level * 1_000_000, days=days)
        last = RecomputeRun.objects.filter(as_of__gt=AS_OF).order_by("-as_of").values_list("as_of", flat=True).first()
        night = (last or AS_OF) + dt.timedelta(days=1)
        _history(night)
        arrived, _ = _new_day_arrives(night)
        seconds, peak_mib, _ = _night(night, workers)
        rows.append((level, UsageEvent.objects.count(), arrived, seconds, peak_mib))
        print(header)  # after each level: a run cut short still shows what it measured
        for level_, events, arrived_, seconds_, peak in rows:
            ratio = seconds_ / rows[0][3]
            print(f"{level_:>8}M {events:>12,} {arrived_:>11,} {seconds_:>7.1f}s {peak:>9,.0f} {ratio:>6.2f}")
    print(f"ratio of the night at {rows[-1][1]:,} to {rows[0][1]:,} raw events: {rows[-1][3] / rows[0][3]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database", default="csm_bench")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2: this machine's cores)")
    parser.add_argument(
        "--history", help="levels of raw history in millions of events, e.g. 5,10,20: the night at each (docstring)"
    )
    args = parser.parse_args()

    if args.history:
        levels = sorted(int(level) for level in args.history.split(","))
        database = args.database if args.database != "csm_bench" else "csm_bench_history"
        database_ensure(database)
        # Every raw event kept: the history copied back in time reaches past the default retention.
        django_setup(
            database,
            REDIS_URL=REDIS_URL,
            USAGE_RAW_RETENTION_MONTHS="0",
            EMAIL_BACKEND=DUMMY_EMAIL,  # playbook mails
        )
        # A book a little larger than the first level (events grow with the rate and the number of accounts), which
        # that level then measures as it is: a book just under it would need a copy of 90 days, a third of its size.
        rate = 1.05 * levels[0] * RATE_PER_MILLION_EVENTS * (10_000 / args.accounts)
        _build(args.accounts, args.days, events_per_user_day=rate)
        _history_table(levels, args.days, args.workers)
        return
    database_ensure(args.database)
    django_setup(args.database, REDIS_URL=REDIS_URL, EMAIL_BACKEND=DUMMY_EMAIL)
    _build(args.accounts, args.days)

    from accounts.models import Account, UsageEvent
    from health.models import RecomputeRun

    # The day after the last night tried: a night left unfinished by an interrupted run is never resumed and timed.
    last = RecomputeRun.objects.filter(as_of__gt=AS_OF).order_by("-as_of").values_list("as_of", flat=True).first()
    night = (last or AS_OF) + dt.timedelta(days=1)
    _history(night)
    arrived, ingest_seconds = _new_day_arrives(night)
    if arrived:
        rate = arrived / ingest_seconds
        print(f"new day {night}: {arrived:,} events ingested in {ingest_seconds:.1f}s ({rate:,.0f} events/s)")
    seconds, peak_mib, scored = _night(night, args.workers)
    baseline = _baseline(night)
    print(f"book: {Account.objects.count():,} accounts, {UsageEvent.objects.count():,} usage events")
    print(
        f"nightly run: {seconds:.1f}s, {scored / seconds:,.0f} scored accounts/s, peak memory {peak_mib:,.0f} MiB "
        f"(proportional set size of the worker's {args.workers} processes)"
    )
    print(f"baseline (bare SQL 30-day usage aggregate over raw events): {baseline:.1f}s")
    print(f"ratio night / baseline: {seconds / baseline:.2f}")


if __name__ == "__main__":
    main()
