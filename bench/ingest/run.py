"""bench/ingest: 1,000,000 events posted in Segment batches by concurrent clients to gunicorn + PostgreSQL.

    .venv/bin/python bench/ingest/run.py [--events 1000000] [--clients 6] [--workers 3] [--database csm_bench_ingest]

5% of the events sent are re-sends of events already sent (duplicates) and 1% are malformed. The run prints
events/s, p50/p95 batch latency, stored / duplicate / rejected counts (stored must equal sent − duplicates −
malformed), the time to fold the queued events into the rollups, and, as the baseline in the same run, a raw
``COPY`` of the same rows into a scratch table then ``INSERT ... ON CONFLICT DO NOTHING`` into the same tables
(the ledger of stored messageIds, then the events).
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import ROOT, database_ensure, django_setup, free_port  # noqa: E402

BATCH = 500
ACCOUNTS = 1000
FEATURES = ["Report Viewed", "Dashboard Created", "Export Downloaded", "Alert Configured", "User Invited"]
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _messages(total: int, seed: int) -> tuple[list[bytes], dict[str, int]]:
    """Batches of 500 calls as request bodies: unique valid events, re-sends of earlier ones, malformed ones."""
    rng = random.Random(seed)
    duplicates, malformed = total * 5 // 100, total // 100
    unique = total - duplicates - malformed
    calls = []
    for n in range(unique):
        calls.append(
            {
                "type": "track",
                "messageId": f"bench-{n}",
                "userId": f"u-{rng.randrange(ACCOUNTS)}-{rng.randrange(40)}",
                "event": FEATURES[n % len(FEATURES)],
                "timestamp": (START + dt.timedelta(seconds=rng.randrange(20 * 86400))).isoformat(),
                "context": {"groupId": f"BENCH-{rng.randrange(ACCOUNTS):05d}"},
                "properties": {"plan": "pro", "n": n},
            }
        )
    calls += [dict(calls[rng.randrange(unique)]) for _ in range(duplicates)]
    calls += [
        {"type": "track", "messageId": f"bad-{n}", "userId": "u", "timestamp": "not a time"} for n in range(malformed)
    ]
    rng.shuffle(calls)
    bodies = [json.dumps({"batch": calls[i : i + BATCH]}).encode() for i in range(0, len(calls), BATCH)]
    return bodies, {"sent": total, "unique": unique, "duplicates": duplicates, "malformed": malformed}


def _client(port: int, key: str, bodies: list[bytes], queue) -> None:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, counts = [], {"accepted": 0, "duplicates": 0, "errors": 0, "http_errors": 0}
    for body in bodies:
        started = time.perf_counter()
        connection.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
        response = connection.getresponse()
        answer = json.loads(response.read())
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            counts["http_errors"] += 1
            continue
        counts["accepted"] += answer["accepted"]
        counts["duplicates"] += answer["duplicates"]
        counts["errors"] += len(answer["errors"])
    queue.put((latencies, counts))


def _baseline(rows: list[tuple]) -> float:
    """The same rows with a raw COPY into a scratch table, then (COPY itself has no ON CONFLICT) their messageIds
    claimed in the same, emptied, ledger with ``INSERT ... ON CONFLICT DO NOTHING`` and the claimed rows inserted
    into the same, emptied, events table: exactly once, as the partitioned table needs it."""
    import io

    from django.db import connection, transaction

    from accounts.models import UsageEvent, UsageMessage

    table, ledger = UsageEvent._meta.db_table, UsageMessage._meta.db_table
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(value) for value in row) + "\n")
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}, {ledger}")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_copy ON COMMIT DROP AS SELECT source_id, account_id, user_id, event, occurred_at,"
            f" received_at, properties, message_id, timestamp_clamped FROM {table} LIMIT 0"
        )
        buffer.seek(0)
        cursor.copy_expert(
            "COPY bench_copy (source_id, account_id, user_id, event, occurred_at, received_at, properties, message_id,"
            " timestamp_clamped) FROM STDIN",
            buffer,
        )
        cursor.execute(
            f"WITH claimed AS (INSERT INTO {ledger} (source_id, message_id, event_id, occurred_at, received_at)"
            f" SELECT source_id, message_id, nextval(pg_get_serial_sequence('{table}', 'id')), occurred_at,"
            " received_at FROM bench_copy ON CONFLICT (source_id, message_id) DO NOTHING"
            " RETURNING source_id, message_id, event_id)"
            f" INSERT INTO {table} (id, source_id, account_id, user_id, event, occurred_at, received_at, properties,"
            " message_id, timestamp_clamped) SELECT c.event_id, b.source_id, b.account_id, b.user_id, b.event,"
            " b.occurred_at, b.received_at, b.properties, b.message_id, b.timestamp_clamped"
            " FROM claimed c JOIN (SELECT DISTINCT ON (source_id, message_id) * FROM bench_copy) b"
            " USING (source_id, message_id)"
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database", default="csm_bench_ingest")
    args = parser.parse_args()

    database_ensure(args.database, fresh=True)
    django_setup(args.database)
    from django.core.management import call_command

    from accounts.ingestion.services import write_key_create
    from accounts.models import Account, UsageEvent, UsageInbox
    from accounts.usage.services import usage_rollups_fold_all

    call_command("migrate", "--no-input", verbosity=0)
    Account.objects.bulk_create(Account(external_id=f"BENCH-{n:05d}", name=f"Bench {n}") for n in range(ACCOUNTS))
    _, key = write_key_create(source_name="Bench")
    bodies, expected = _messages(args.events, seed=1)
    print(f"prepared {len(bodies):,} batches: {expected}")

    port = free_port()
    env = {
        **os.environ,
        # The production settings (persistent database connections, no debug), on plain HTTP.
        "DJANGO_SETTINGS_MODULE": "csm_platform.settings.production",
        "SECRET_KEY": "bench-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "INGEST_RATE_LIMIT_PER_SECOND": "0",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "csm_platform.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--preload",  # load the app once before forking: no worker boots during the measured run
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/v1/batch")
                break
            except OSError:
                time.sleep(0.2)
        queue = multiprocessing.Queue()
        shares = [bodies[i :: args.clients] for i in range(args.clients)]
        clients = [multiprocessing.Process(target=_client, args=(port, key, share, queue)) for share in shares]
        started = time.perf_counter()
        for client in clients:
            client.start()
        results = [queue.get() for _ in clients]
        elapsed = time.perf_counter() - started
        for client in clients:
            client.join()
    finally:
        server.terminate()
        server.wait()

    latencies = sorted(latency for result in results for latency in result[0])
    totals = {name: sum(result[1][name] for result in results) for name in results[0][1]}
    stored = UsageEvent.objects.count()
    print(
        f"ingested {args.events:,} events in {elapsed:.1f}s: {args.events / elapsed:,.0f} events/s "
        f"with {args.clients} clients and {args.workers} gunicorn workers"
    )
    print(
        f"batch latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms"
    )
    print(
        f"stored {stored:,} (expected sent − duplicates − malformed = {expected['unique']:,}), "
        f"duplicates {totals['duplicates']:,}, rejected {totals['errors']:,}, HTTP errors {totals['http_errors']}"
    )
    assert stored == expected["unique"], "stored ≠ sent − duplicates − malformed"

    queued = UsageInbox.objects.count()
    fold_started = time.perf_counter()
    usage_rollups_fold_all()
    fold = time.perf_counter() - fold_started
    print(f"rollup fold of the {queued:,} queued events: {fold:.1f}s ({queued / fold:,.0f} events/s)")

    rows = list(
        UsageEvent.objects.order_by("id").values_list(
            "source_id",
            "account_id",
            "user_id",
            "event",
            "occurred_at",
            "received_at",
            "properties",
            "message_id",
            "timestamp_clamped",
        )
    )
    rows = [(*row[:6], json.dumps(row[6]), row[7], "t" if row[8] else "f") for row in rows]
    rows += rows[: expected["duplicates"]]  # the re-sent rows, so the baseline also skips conflicts
    baseline = _baseline(rows)
    print(
        f"baseline: raw COPY + INSERT ... ON CONFLICT DO NOTHING of {len(rows):,} rows: {baseline:.1f}s "
        f"({len(rows) / baseline:,.0f} rows/s)"
    )
    print(f"ratio ingestion / baseline: {elapsed / baseline:.1f}")


if __name__ == "__main__":
    main()
