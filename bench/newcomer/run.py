"""bench/newcomer: a fresh clone's `make run`, timed to its first served page (the goal: ≤ 3 minutes on 2 cores).

    .venv/bin/python bench/newcomer/run.py [--port 8800]

Clones the checkout's HEAD into a scratch folder and runs the README's first command there, as a newcomer would, on
the embedded default (SQLite, no broker: DATABASE_URL and REDIS_URL are unset). It prints the time from `make run`
to the first page served by the demo (the login page answering 200 and the portfolio listing demo accounts for the
CSM), and the time of each step from the make output. The baseline, in the same run and the same fresh way, is the
part every install pays whatever the demo: `make install` then `migrate` into an empty database.

As on a fresh machine, each clone installs with empty caches of its own (uv's and pip's): every package is downloaded
from the index. ``--warm`` uses this machine's caches instead.
"""

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import ROOT, free_port  # noqa: E402

DEADLINE = 15 * 60


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _fresh_env(env: dict[str, str], scratch: Path, *, warm: bool) -> dict[str, str]:
    """``env`` with caches as empty as a new machine's, in ``scratch`` (unless ``warm``)."""
    if warm:
        return env
    return {**env, "UV_CACHE_DIR": str(scratch / "uv-cache"), "PIP_NO_CACHE_DIR": "1"}


def _clone(into: Path) -> Path:
    checkout = into / "csm"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(checkout)], check=True)
    return checkout


def _portfolio_as_csm(base: str) -> bool:
    """Sign in as the demo CSM and open the portfolio: True when it lists demo accounts."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/auth/login/", timeout=10).read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "csm", "password": "demo", "next": "/portfolio/"}
    ).encode()
    login = f"{base}/auth/login/"  # always http://127.0.0.1
    request = urllib.request.Request(login, data=form, headers={"Referer": login})  # noqa: S310
    page = opener.open(request, timeout=30).read().decode()
    return "/accounts/" in page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--warm", action="store_true", help="install from this machine's uv and pip caches")
    args = parser.parse_args()
    port = args.port or free_port()
    env = _clean_env()

    with tempfile.TemporaryDirectory() as scratch:
        baseline_checkout = _clone(Path(scratch) / "baseline")
        baseline_env = _fresh_env(env, Path(scratch) / "baseline", warm=args.warm)
        started = time.perf_counter()
        subprocess.run(["make", "install"], cwd=baseline_checkout, env=baseline_env, check=True, capture_output=True)
        subprocess.run(
            [".venv/bin/python", "manage.py", "migrate", "--no-input", "-v0"],
            cwd=baseline_checkout,
            env=baseline_env,
            check=True,
            capture_output=True,
        )
        baseline = time.perf_counter() - started
        caches = "this machine's caches" if args.warm else "empty caches"
        print(f"baseline: make install + migrate in a fresh clone ({caches}): {baseline:.0f}s")

        checkout = _clone(Path(scratch) / "newcomer")
        log = Path(scratch) / "make-run.log"
        started = time.perf_counter()
        with log.open("w") as output:
            make = subprocess.Popen(
                ["make", "run", f"PORT={port}"],
                cwd=checkout,
                env=_fresh_env(env, Path(scratch) / "newcomer", warm=args.warm),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        served = None
        try:
            while time.perf_counter() - started < DEADLINE and make.poll() is None:
                try:
                    if urllib.request.urlopen(f"{base}/auth/login/", timeout=2).status == 200:  # noqa: S310
                        served = time.perf_counter() - started
                        break
                except OSError:
                    time.sleep(1)
            portfolio = served is not None and _portfolio_as_csm(base)
        finally:
            make.terminate()
            make.wait(timeout=60)
            subprocess.run(["pkill", "-f", f"serve 127.0.0.1:{port}"], check=False)
        steps = re.findall(r"^(\d{4}-\d{2}-\d{2}): succeeded", log.read_text(), flags=re.MULTILINE)
        if served is None:
            print(log.read_text()[-3000:])
            raise SystemExit("make run served no page")
        print(f"make run in a fresh clone: first page served after {served:.0f}s ({served / 60:.1f} minutes)")
        print(f"  {len(steps)} nights of history computed; the CSM's portfolio lists demo accounts: {portfolio}")
        print(f"ratio make run / baseline: {served / baseline:.1f}")


if __name__ == "__main__":
    main()
