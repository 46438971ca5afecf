"""bench/recompute: one nightly run over 10,000 accounts and 20M usage events in PostgreSQL.

    .venv/bin/python bench/recompute/run.py [--accounts 10000] [--days 90] [--database csm_bench]

Builds the book once (``load_demo``, set-based, rollups included) and reuses it on later runs. Then:
1. the new day's events arrive through the ingestion service (Segment batches of 500, incremental rollups);
2. the night runs in a child process (``manage.py recompute``), timed, its peak memory read from the OS;
3. the baseline, in the same run: a bare SQL aggregate of the 30-day usage metrics over the raw events.
Prints accounts/s, peak memory, and the ratio of the night to the baseline.
"""

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 6, 30)  # the book's last loaded day; the bench night is the day after


def _django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm_platform.settings.local")
    os.environ["DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _ensure_database(database: str) -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)


def _build(accounts: int, days: int) -> None:
    from django.core.management import call_command

    from accounts.models import Account, UsageEvent

    call_command("migrate", "--no-input", verbosity=0)
    if Account.objects.count() >= accounts:
        print(f"reusing the book: {Account.objects.count():,} accounts, {UsageEvent.objects.count():,} events")
        return
    started = time.perf_counter()
    call_command("load_demo", "--reset", "--accounts", accounts, "--days", days, "--as-of", AS_OF.isoformat())
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


def _night(day: dt.date) -> tuple[float, float]:
    """The night in a child process: seconds and the child's peak resident memory in MiB."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "recompute", "--as-of", day.isoformat()], check=True, env=os.environ
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database", default="csm_bench")
    args = parser.parse_args()

    _ensure_database(args.database)
    _django(args.database)
    _build(args.accounts, args.days)

    from django.core.management import call_command

    from accounts.models import Account, UsageEvent
    from health.models import ChurnModelVersion

    night = AS_OF + dt.timedelta(days=1)
    if not ChurnModelVersion.objects.exists():
        started = time.perf_counter()
        call_command("recompute", "--as-of", AS_OF.isoformat(), "--retrain")
        print(f"weekly churn training and a first night: {time.perf_counter() - started:.1f}s (not the measured night)")

    arrived, ingest_seconds = _new_day_arrives(night)
    if arrived:
        print(
            f"new day: {arrived:,} events ingested in {ingest_seconds:.1f}s ({arrived / ingest_seconds:,.0f} events/s)"
        )
    seconds, peak_mib = _night(night)
    baseline = _baseline(night)
    accounts = Account.objects.count()
    print(f"book: {accounts:,} accounts, {UsageEvent.objects.count():,} usage events")
    print(f"nightly run: {seconds:.1f}s, {accounts / seconds:,.0f} accounts/s, peak memory {peak_mib:,.0f} MiB")
    print(f"baseline (bare SQL 30-day usage aggregate over raw events): {baseline:.1f}s")
    print(f"ratio night / baseline: {seconds / baseline:.2f}")


if __name__ == "__main__":
    main()
