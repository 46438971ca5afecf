"""bench/pages: page latency with 10,000 accounts, against the same server rendering the same 50 rows with the same
template from a prepared list.

    .venv/bin/python bench/pages/run.py [--accounts 10000] [--days 30] [--database csm_bench_pages]
                                        [--clients 8] [--seconds 30] [--requests 40] [--workers 5]

Builds the book once in a scratch PostgreSQL database (``load_demo`` set-based, then one nightly ``recompute``)
and reuses it while it has enough accounts. Then serves the project with gunicorn on a free port with the bench's
settings (``bench/pages/settings.py``: the baseline's URL and an ``X-Server-Ms`` header with Django's time for the
request), logs every client in (as the demo executive, who reads the whole book) and measures each target:

- the baseline: the portfolio page (filtered, sorted, 50 rows) from rows prepared once per server process
  (``bench/pages/baseline.py``): the template, the middleware and the filter form, without the page's reads;
- the portfolio, filtered and sorted, 50 rows a page (``/portfolio/?band=red&segment=...&sort=-acv``);
- renewals, the current quarter;
- the leadership dashboard;
- an account page (the clients cycle through a set of scored accounts).

For each: the median server time of ``--requests`` requests from one client, then p50/p95 latency of ``--clients``
concurrent clients for ``--seconds`` seconds; each as a ratio to the baseline's.
"""

import argparse
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import ROOT, database_ensure, database_url, free_port  # noqa: E402

AS_OF = dt.date(2026, 6, 30)  # the book's last loaded day and its nightly snapshot
USERNAME, PASSWORD = "exec", "demo"  # the demo executive (load_demo)
STATIC = "/static/css/app.css"
PORTFOLIO = "/portfolio/?owner=&band=red&segment=mid_touch&sort=-acv"


def _environment(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_SETTINGS_MODULE": "bench.pages.settings",  # the local settings (static files without collectstatic)
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "PYTHONWARNINGS": "ignore:No directory at",  # WhiteNoise: no collectstatic here, files come from the finders
    }


def _build(accounts: int, days: int) -> None:
    """The book and its night, unless the database already has them."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Account
    from csm_platform.web.models import AccountRow, ContractRow, LeadershipNight
    from csm_platform.web.services import pages_after_recompute
    from health.models import AccountSnapshot

    call_command("migrate", "--no-input", verbosity=0)
    if Account.objects.count() >= accounts and AccountSnapshot.objects.filter(as_of=AS_OF).exists():
        print(f"reusing the book: {Account.objects.count():,} accounts scored on {AS_OF}")
        today = dt.datetime.now(tz=dt.UTC).date()
        if not (
            LeadershipNight.objects.filter(as_of=AS_OF).exists()
            and AccountRow.objects.filter(built_on=today).exists()
            and ContractRow.objects.filter(as_of=AS_OF).exists()
        ):
            started = time.perf_counter()
            pages_after_recompute(AS_OF)  # what the night's last step stores for the pages, for today
            print(f"stored the pages' night in {time.perf_counter() - started:.0f}s")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # the new rows' planner statistics
        return
    started = time.perf_counter()
    call_command("load_demo", "--reset", "--accounts", accounts, "--days", days, "--as-of", AS_OF.isoformat())
    print(f"loaded {accounts:,} accounts in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    call_command("recompute", "--as-of", AS_OF.isoformat())
    print(f"scored them (one nightly recompute) in {time.perf_counter() - started:.0f}s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum would have them in production


def _sample_accounts(count: int = 25) -> list[int]:
    from health.models import AccountSnapshot

    return list(
        AccountSnapshot.objects.filter(as_of=AS_OF, health__isnull=False)
        .order_by("account_id")
        .values_list("account_id", flat=True)[:count]
    )


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "csm_platform.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}{STATIC}", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer within 60 s")


def _logged_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/auth/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = session.post(
        f"{base}/auth/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/portfolio/?owner="},
        headers={"Referer": f"{base}/auth/login/"},
        timeout=30,
    )
    if "/auth/login/" in response.url:
        raise SystemExit(f"could not log in as {USERNAME}")
    return session


def _server_times(session: requests.Session, urls: list[str], count: int) -> list[float]:
    """One client, ``count`` requests back to back: the server time of each (ms, ``X-Server-Ms``)."""
    times = []
    for n in range(count):
        response = session.get(urls[n % len(urls)], timeout=60)
        response.raise_for_status()
        times.append(float(response.headers["X-Server-Ms"]))
    return times


def _load(sessions: list[requests.Session], urls: list[str], seconds: float) -> tuple[list[float], int]:
    """Each session requests the URLs in turn, back to back, for ``seconds``: latencies in ms and failures."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(session: requests.Session, offset: int) -> None:
        nonlocal failures
        n = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = session.get(urls[n % len(urls)], timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if response.status_code == 200:
                    latencies.append(elapsed)
                else:
                    failures += 1
            n += 1

    threads = [threading.Thread(target=client, args=(s, i)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def _percentile(values: list[float], share: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", default="csm_bench_pages")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--requests", type=int, default=40, help="Requests of the one-client median.")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()

    env = _environment(args.database)
    os.environ.update(env)
    database_ensure(args.database)
    _build(args.accounts, args.days)
    account_ids = _sample_accounts()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(env, port, args.workers)
    try:
        sessions = [_logged_in(base) for _ in range(args.clients)]
        today = dt.datetime.now(tz=dt.UTC).date()
        quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        rows = sessions[0].get(f"{base}{PORTFOLIO}", timeout=60).text.count("<tr><td ")
        targets = [
            (f"baseline: same {rows} rows from a list", [f"{base}/bench/baseline/{PORTFOLIO[len('/portfolio/') :]}"]),
            (f"portfolio, filtered and sorted ({rows} rows)", [f"{base}{PORTFOLIO}"]),
            (f"renewals, {quarter}", [f"{base}/renewals/?owner=&quarter={quarter}"]),
            ("leadership", [f"{base}/leadership/"]),
            ("account page", [f"{base}/accounts/{pk}/" for pk in account_ids]),
        ]
        for _name, urls in targets:  # warm every worker up: imports, connections, template caches
            _load(sessions, urls, 3)
        print(
            f"\n{args.accounts:,} accounts; one client: median server time of {args.requests} requests; "
            f"{args.clients} concurrent clients: latency over {args.seconds:.0f}s; "
            f"gunicorn with {args.workers} workers on {os.cpu_count()} CPUs"
        )
        header = f"{'1 client ms':>12}{'×':>6}{'requests':>10}{'p50 ms':>9}{'p95 ms':>9}{'p50 ×':>8}{'p95 ×':>8}"
        print(f"{'target':<44}{header}")
        baseline = None
        for name, urls in targets:
            single = statistics.median(_server_times(sessions[0], urls, args.requests))
            latencies, failures = _load(sessions, urls, args.seconds)
            p50, p95 = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
            baseline = baseline or (single, p50, p95)
            failed = f"  ({failures} failed)" if failures else ""
            print(
                f"{name:<44}{single:>12.1f}{single / baseline[0]:>6.1f}{len(latencies):>10,}{p50:>9.1f}{p95:>9.1f}"
                f"{p50 / baseline[1]:>8.1f}{p95 / baseline[2]:>8.1f}{failed}"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
