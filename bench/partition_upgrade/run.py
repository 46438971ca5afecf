"""bench/partition_upgrade: the upgrade of an existing installation's raw usage events to the partitioned table
(migration ``accounts 0015``), on a copy with a few million events.

    .venv/bin/python bench/partition_upgrade/run.py [--events 5000000] [--database csm_bench_upgrade]

A fresh database is migrated to ``accounts 0014`` (the unpartitioned table), filled with ``--events`` events over
the last 18 months (``generate_series``, 200 accounts, two sources), then migrated to 0015. Checks that every
event is there with its id, every messageId is in the ledger and the months have their partitions; prints the
migration's time, events/s, and the ratio to a baseline measured in the same run on the same data: a bare
``CREATE TABLE ... AS SELECT *`` copy of the old table plus one index on it.
"""

import argparse
import sys
import time
from pathlib import Path

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import database_ensure, django_setup  # noqa: E402


def _fill(events: int) -> None:
    from django.db import connection

    from accounts.models import Account, Source

    Account.objects.bulk_create([Account(external_id=f"UP-{n}", name=f"Upgrade {n}") for n in range(200)])
    Source.objects.bulk_create([Source(name="Web"), Source(name="Mobile")])
    accounts = list(Account.objects.values_list("id", flat=True))
    sources = list(Source.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_usageevent (source_id, account_id, user_id, event, occurred_at, received_at,"
            " properties, message_id, timestamp_clamped)"
            " SELECT (%s::bigint[])[1 + n %% 2], (%s::bigint[])[1 + n %% 200], 'u' || (n %% 5000),"
            " 'event_' || (n %% 40),"
            " now() - (n %% 547) * interval '1 day' - (n %% 86400) * interval '1 second', now(), '{}'::jsonb,"
            " 'm-' || n, false"
            " FROM generate_series(1, %s) AS n",
            [sources, accounts, events],
        )
        cursor.execute("ANALYZE accounts_usageevent")


def _baseline() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_copy AS SELECT * FROM accounts_usageevent")
        cursor.execute("CREATE INDEX ON bench_copy (account_id, occurred_at)")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--database", default="csm_bench_upgrade")
    args = parser.parse_args()

    database_ensure(args.database, fresh=True)
    django_setup(args.database, USAGE_RAW_RETENTION_MONTHS="0")
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import UsageMessage
    from accounts.usage.partitions import partition_months, partitioned

    # The audit log first: every migrate brings the role groups in step, and their changes are logged.
    call_command("migrate", "auditlog", "--no-input", verbosity=0)
    call_command("migrate", "accounts", "0014", "--no-input", verbosity=0)
    started = time.perf_counter()
    _fill(args.events)
    print(f"filled {args.events:,} events in {time.perf_counter() - started:.0f}s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id), sum(id) FROM accounts_usageevent")
        before = cursor.fetchone()
    baseline = _baseline()

    started = time.perf_counter()
    call_command("migrate", "accounts", "0015", "--no-input", verbosity=0)
    seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id), sum(id) FROM accounts_usageevent")
        after = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM accounts_usageevent_default")
        in_default = cursor.fetchone()[0]
    assert partitioned() and after == before and in_default == 0, (before, after, in_default)
    assert UsageMessage.objects.count() == before[0]
    months = partition_months()
    print(f"partitions: {len(months)} months, {months[0]:%Y-%m} to {months[-1]:%Y-%m}; every event and id kept")
    print(f"migration 0015: {seconds:.1f}s for {before[0]:,} events ({before[0] / seconds:,.0f} events/s)")
    print(f"baseline (CREATE TABLE AS SELECT + one index, same data): {baseline:.1f}s")
    print(f"ratio migration / baseline: {seconds / baseline:.2f}")


if __name__ == "__main__":
    main()
