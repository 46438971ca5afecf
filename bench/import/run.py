"""bench/import: a book of 10,000 accounts (CSV) and 30,000 contracts (XLSX) previewed, applied and re-applied
through the import service, in a scratch PostgreSQL database.

    .venv/bin/python bench/import/run.py [--accounts 10000] [--contracts 30000] [--database csm_bench_import]

The database is dropped and migrated at each run. A tenth of the accounts have a parent in the file; contracts are
one to three years, a third in EUR, some renewing an earlier contract of the same file. Prints, per kind, the
preview and apply times, the re-import of the same file (``created 0, updated 0, unchanged N``), the process's peak
memory (maximum resident set size) after each step, and, as the baseline in the same run, a raw read of the same
files (csv module, openpyxl read-only) with a ``bulk_create`` of the same rows, rolled back. Targets on this
machine: preview under 30 s, apply under 60 s.
"""

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

# Run as a script: the project's packages (bench.common among them) come from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import database_ensure, django_setup  # noqa: E402

ACCOUNT_HEADER = ["external_id", "name", "domain", "segment", "industry", "region", "status", "parent"]
CONTRACT_HEADER = [
    "external_id",
    "account",
    "start_date",
    "end_date",
    "currency",
    "recurring_tcv",
    "one_time_fees",
    "seats",
    "kind",
    "renews",
    "auto_renew",
    "status",
]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _files(folder: Path, accounts: int, contracts: int, seed: int) -> tuple[Path, Path]:
    import csv

    from openpyxl import Workbook

    rng = random.Random(seed)
    accounts_path, contracts_path = folder / "accounts.csv", folder / "contracts.xlsx"
    with accounts_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(ACCOUNT_HEADER)
        for n in range(accounts):
            parent = f"ACC-{rng.randrange(n):06d}" if n and rng.random() < 0.1 else ""
            segment = rng.choice(["High-touch", "mid_touch", "tech_touch"])
            writer.writerow(
                [f"ACC-{n:06d}", f"Customer {n}", f"c{n}.example.com", segment, "Software", "EMEA", "active", parent]
            )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(CONTRACT_HEADER)
    previous: dict[int, tuple[str, dt.date]] = {}
    for n in range(contracts):
        account = rng.randrange(accounts)
        renews = previous.get(account)
        start = (
            renews[1] + dt.timedelta(days=1) if renews else dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))
        )
        start = start.replace(day=min(start.day, 28))  # every term is whole years: the same day exists every year
        years = rng.choice([1, 1, 2, 3])
        end = start.replace(year=start.year + years) - dt.timedelta(days=1)
        external_id = f"CT-{n:07d}"
        sheet.append(
            [
                external_id,
                f"ACC-{account:06d}",
                start,  # a date cell
                end.strftime("%m/%d/%Y"),  # a date typed as text, US order
                "EUR" if n % 3 == 0 else "USD",
                f"${rng.randrange(1_000, 200_000) * years:,}.00",
                rng.choice([0, 0, 1500]),
                rng.choice([None, 10, 50, 250]),
                "renewal" if renews else "new",
                renews[0] if renews else None,
                rng.choice(["TRUE", "FALSE", "yes", "x", ""]),
                "active",
            ]
        )
        previous[account] = (external_id, end)
    workbook.save(contracts_path)
    return accounts_path, contracts_path


def _timed(label: str, work):
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.1f}s (peak memory so far {_peak_mb():.0f} MB)")
    return result, elapsed


def _baseline(accounts_path: Path, contracts_path: Path) -> float:
    """Read both files raw and bulk_create the same rows (no parsing beyond the model's own, no checks), rolled
    back."""
    import csv
    from decimal import Decimal

    from django.db import transaction
    from openpyxl import load_workbook

    from accounts.imports.values import parse_date
    from accounts.models import Account, Contract

    started = time.perf_counter()
    with transaction.atomic():
        with accounts_path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        created = Account.objects.bulk_create(
            [
                Account(external_id=r["external_id"], name=r["name"], domain=r["domain"], region=r["region"])
                for r in rows
            ],
            batch_size=1000,
        )
        ids = {a.external_id: a.pk for a in created}
        workbook = load_workbook(contracts_path, read_only=True)
        contracts = []
        for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True):
            contracts.append(
                Contract(
                    external_id=row[0],
                    account_id=ids[row[1]],
                    start_date=row[2].date(),
                    end_date=parse_date(row[3]),
                    currency=row[4],
                    recurring_tcv=Decimal(row[5].strip("$").replace(",", "")),
                    seats=row[7],
                )
            )
        workbook.close()
        Contract.objects.bulk_create(contracts, batch_size=1000)
        transaction.set_rollback(True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--contracts", type=int, default=30_000)
    parser.add_argument("--database", default="csm_bench_import")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    database_ensure(args.database, fresh=True)
    django_setup(args.database)
    from django.core.management import call_command

    from accounts.imports.services import import_apply, import_preview

    call_command("migrate", "--no-input", verbosity=0)
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    accounts_path, contracts_path = _files(folder, args.accounts, args.contracts, args.seed)
    print(
        f"files: {args.accounts:,} accounts ({accounts_path.stat().st_size / 1e6:.1f} MB CSV), "
        f"{args.contracts:,} contracts ({contracts_path.stat().st_size / 1e6:.1f} MB XLSX); "
        f"peak memory after setup {_peak_mb():.0f} MB"
    )
    baseline = _baseline(accounts_path, contracts_path)
    print(f"baseline: raw read + bulk_create of the same rows (rolled back): {baseline:.1f}s")

    totals = {"preview": 0.0, "apply": 0.0}
    for kind, path in (("accounts", accounts_path), ("contracts", contracts_path)):
        with path.open("rb") as stream:
            plan, elapsed = _timed(
                f"{kind}: preview", lambda s=stream, p=path, k=kind: import_preview(kind=k, file=s, file_name=p.name)
            )
        assert not plan.errors, plan.errors[:5]
        print(f"  {plan.summary}")
        totals["preview"] += elapsed
        with path.open("rb") as stream:
            run, elapsed = _timed(
                f"{kind}: apply (preview included)",
                lambda s=stream, p=path, k=kind: import_apply(kind=k, file=s, file_name=p.name, user_id=None),
            )
        print(f"  created {run.created}, updated {run.updated}, unchanged {run.unchanged}")
        totals["apply"] += elapsed
        with path.open("rb") as stream:
            again, _elapsed = _timed(
                f"{kind}: the same file again",
                lambda s=stream, p=path, k=kind: import_apply(kind=k, file=s, file_name=p.name, user_id=None),
            )
        print(f"  created {again.created}, updated {again.updated}, unchanged {again.unchanged}")
        assert (again.created, again.updated) == (0, 0)
    print(
        f"total: preview {totals['preview']:.1f}s (target < 30 s), apply {totals['apply']:.1f}s (target < 60 s), "
        f"peak memory {_peak_mb():.0f} MB; apply / baseline = {totals['apply'] / baseline:.1f}x"
    )


if __name__ == "__main__":
    main()
