"""bench/freshness: how long after an event arrives its account's health is refreshed, under a steady load.

    .venv/bin/python bench/freshness/run.py [--rate 500] [--accounts 1000] [--minutes 5] [--database csm_bench_fresh]

Production shape on this machine: gunicorn (2 workers) takes Segment batches at ``--rate`` events/s spread over
``--accounts`` accounts for ``--minutes``; a real Celery worker and Celery beat (the schedule in
csm_platform/celery.py: the fold after each batch, the intra-day refresh every minute) do the rest. A monitor reads
each account's ``AccountCurrent.computed_at``; an event's freshness is the time from its receipt to the first
refresh of its account after it. Printed: p50/p95/max freshness (the goal: p95 ≤ 5 minutes), and the CPU the worker
and beat spent per minute of load; the baseline, in the same run, is one night's snapshots of the same accounts
(what a full rescore costs), so the refresh's CPU per minute reads as a share of a full night.
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import ROOT, database_ensure, database_url, django_setup, free_port  # noqa: E402

BATCH_EVERY = 0.2  # seconds between batches: rate × 0.2 events each
FEATURES = ["Report Viewed", "Dashboard Created", "Export Downloaded", "Alert Configured", "User Invited"]
REDIS = "redis://127.0.0.1:6379/13"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that were waited for (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / ticks


def _tree_cpu(pid: int) -> float:
    """CPU of a process and all its live descendants."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return _cpu_seconds(pid) + sum(_tree_cpu(int(child)) for child in children)


def _sender(port: int, key: str, *, rate: int, accounts: int, seconds: int, sent: list) -> None:
    """Post a batch every BATCH_EVERY seconds; record (account, receipt time) of every event (the server's receipt
    is within the request's round trip: the time the answer came back is used, the later bound)."""
    rng = random.Random(1)
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    per_batch = max(1, round(rate * BATCH_EVERY))
    start, n = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        calls = []
        for _ in range(per_batch):
            account = rng.randrange(accounts)
            calls.append(
                {
                    "type": "track",
                    "messageId": f"fresh-{n}",
                    "userId": f"u-{account}-{rng.randrange(20)}",
                    "event": FEATURES[n % len(FEATURES)],
                    "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                    "context": {"groupId": f"FRESH-{account:05d}"},
                }
            )
            n += 1
        body = json.dumps({"batch": calls}).encode()
        connection.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
        response = connection.getresponse()
        response.read()
        received = time.time()
        if response.status == 200:
            sent.extend((int(call["context"]["groupId"][6:]), received) for call in calls)
        time.sleep(max(0.0, start + (n / rate) - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--database", default="csm_bench_fresh")
    args = parser.parse_args()

    database_ensure(args.database, fresh=True)
    django_setup(args.database)
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.ingestion.services import write_key_create
    from accounts.models import Account, ChangedAccount, Contract
    from health.models import AccountCurrent
    from health.services import account_snapshots_write

    call_command("migrate", "--no-input", verbosity=0)
    today = timezone.now().date()
    accounts = Account.objects.bulk_create(
        Account(external_id=f"FRESH-{n:05d}", name=f"Fresh {n}", status=Account.Status.ACTIVE)
        for n in range(args.accounts)
    )
    Contract.objects.bulk_create(
        Contract(
            account=account,
            external_id=f"FRESH-CT-{account.pk}",
            start_date=today - dt.timedelta(days=200),
            end_date=today + dt.timedelta(days=165),
            recurring_tcv=10_000 + account.pk,
            seats=25,
        )
        for account in accounts
    )
    ids = [account.pk for account in accounts]
    by_number = {int(account.external_id[6:]): account.pk for account in accounts}
    _, key = write_key_create(source_name="Freshness bench")

    started = time.perf_counter()
    account_snapshots_write(as_of=today, account_ids=ids)
    baseline = time.perf_counter() - started
    print(f"baseline: one night's snapshots of {len(ids):,} accounts: {baseline:.1f}s")

    env = {
        **os.environ,
        "DATABASE_URL": database_url(args.database),
        "DJANGO_SETTINGS_MODULE": "csm_platform.settings.production",
        "SECRET_KEY": "bench-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "INGEST_RATE_LIMIT_PER_SECOND": "0",
        "REDIS_URL": REDIS,
    }
    port = free_port()
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    bin_dir = ROOT / ".venv/bin"
    processes = {
        "web": subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "csm_platform.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--preload",
            ],
            cwd=ROOT,
            env=env,
        ),
        "worker": subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "csm_platform",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        ),
        "beat": subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "csm_platform",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(schedule),
            ],
            cwd=ROOT,
            env=env,
        ),
    }
    refreshes: dict[int, list[float]] = {}
    stop = threading.Event()

    def monitor() -> None:
        seen: dict[int, float] = {}
        while not stop.is_set():
            for account_id, computed_at in AccountCurrent.objects.values_list("account_id", "computed_at"):
                moment = computed_at.timestamp()
                if seen.get(account_id) != moment:
                    seen[account_id] = moment
                    refreshes.setdefault(account_id, []).append(moment)
            time.sleep(1)

    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/v1/batch")
                break
            except OSError:
                time.sleep(0.2)
        ChangedAccount.objects.all().delete()
        watcher = threading.Thread(target=monitor, daemon=True)
        watcher.start()
        cpu_before = {name: _tree_cpu(p.pid) for name, p in processes.items() if name != "web"}
        sent: list[tuple[int, float]] = []
        load_started = time.monotonic()
        _sender(port, key, rate=args.rate, accounts=args.accounts, seconds=int(args.minutes * 60), sent=sent)
        load_seconds = time.monotonic() - load_started
        cpu_during = {name: _tree_cpu(processes[name].pid) - cpu_before[name] for name in cpu_before}
        deadline = time.time() + 8 * 60
        last_receipt = {}
        for number, received in sent:
            last_receipt[by_number[number]] = max(last_receipt.get(by_number[number], 0), received)
        while time.time() < deadline:
            if all(max(refreshes.get(a, [0])) >= moment for a, moment in last_receipt.items()):
                break
            time.sleep(2)
        stop.set()
        watcher.join()
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=60)

    latencies, missing = [], 0
    for number, received in sent:
        later = [moment for moment in refreshes.get(by_number[number], []) if moment >= received]
        if later:
            latencies.append(min(later) - received)
        else:
            missing += 1
    latencies.sort()
    print(
        f"sent {len(sent):,} events in {load_seconds:.0f}s ({len(sent) / load_seconds:,.0f} events/s) over "
        f"{args.accounts:,} accounts"
    )
    print(
        f"freshness (receipt → refreshed health): p50 {statistics.median(latencies):.0f}s, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.0f}s, max {latencies[-1]:.0f}s; "
        f"{missing:,} events never refreshed within 8 minutes of the end"
    )
    minutes = load_seconds / 60
    worker_cpu = cpu_during["worker"] / minutes
    print(
        f"CPU per minute of load: worker {worker_cpu:.1f}s, beat {cpu_during['beat'] / minutes:.1f}s "
        f"(the worker's share of one core: {worker_cpu / 60:.0%})"
    )
    print(f"ratio worker CPU per minute / one full night of these accounts: {worker_cpu / baseline:.2f}")


if __name__ == "__main__":
    main()
