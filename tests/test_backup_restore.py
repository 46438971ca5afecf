"""Backup and restore (docs/operations.md): a book dumped with pg_dump and restored with pg_restore into a new
database recomputes a night to snapshots identical to the original's."""

import datetime as dt
import shutil
import subprocess
import sys
from contextlib import closing
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Activity
from accounts.usage.services import usage_rollups_rebuild
from health.pipeline import recompute
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    ExchangeRateFactory,
    SurveyResponseFactory,
    UsageEventFactory,
)

pytestmark = [
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs PostgreSQL's client tools (CI has them)"),
    pytest.mark.django_db(transaction=True),
]

AS_OF = dt.date(2024, 6, 30)
COLUMNS = "account_id, as_of, acv, health, band, measures::text, churn_probability, risk_band, problems::text"


def _at(days_before: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days_before), dt.time(12), tzinfo=dt.UTC)


def _sql(dsn: dict, statement: str) -> list[tuple]:
    with closing(psycopg2.connect(**dsn)) as conn, conn, conn.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _snapshots(dsn: dict) -> list[tuple]:
    return _sql(dsn, f"SELECT {COLUMNS} FROM health_accountsnapshot ORDER BY account_id, as_of")  # noqa: S608


def test_a_dumped_book_restored_into_a_new_database_recomputes_to_identical_snapshots(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are documented for PostgreSQL")
    for n in range(4):
        account = AccountFactory()
        currency = "EUR" if n % 2 else "USD"
        ContractFactory(account=account, currency=currency, seats=10, recurring_tcv=Decimal(10000 + n))
        sponsor = ContactFactory(account=account, is_executive_sponsor=True, last_engaged_at=_at(10 + n))
        ActivityFactory(account=account, kind=Activity.Kind.CALL, contact=sponsor, occurred_at=_at(5 * n))
        SurveyResponseFactory(account=account, score=4 + n, responded_at=_at(n))
        for day in range(0, 50, 2 + n):
            UsageEventFactory(account=account, user_id=f"u{n}-{day % 3}", occurred_at=_at(day))
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 1, 1), rate=Decimal("1.08"))
    usage_rollups_rebuild()
    assert recompute(as_of=AS_OF).status == "succeeded"

    db = connection.settings_dict
    source = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}
    if db["PASSWORD"]:
        source["password"] = db["PASSWORD"]
    target = {**source, "dbname": f"{db['NAME']}_restored"}
    client = ["-h", str(source["host"]), "-p", str(source["port"]), "-U", source["user"]]
    dump = tmp_path / "book.dump"
    subprocess.run(["pg_dump", *client, "--format=custom", f"--file={dump}", source["dbname"]], check=True)
    subprocess.run(["dropdb", *client, "--if-exists", target["dbname"]], check=True)
    subprocess.run(["createdb", *client, target["dbname"]], check=True)
    try:
        subprocess.run(["pg_restore", *client, "--no-owner", f"--dbname={target['dbname']}", str(dump)], check=True)
        # The restored night is recomputed from the book: its figures are blanked first (rows that point at a
        # snapshot keep their key, the night's upsert fills it again).
        _sql(target, "UPDATE health_accountsnapshot SET acv = NULL, health = NULL, measures = '[]', problems = '[]'")
        assert _snapshots(target) != _snapshots(source)

        url = f"postgres://{target['user']}@{target['host']}:{target['port']}/{target['dbname']}"
        subprocess.run(
            [sys.executable, "manage.py", "recompute", f"--as-of={AS_OF.isoformat()}"],
            check=True,
            cwd=settings.BASE_DIR,
            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "csm_platform.settings.local"},
        )

        restored = _snapshots(target)
        assert len(restored) == 4
        assert restored == _snapshots(source)
    finally:
        subprocess.run(["dropdb", *client, "--if-exists", target["dbname"]], check=True)
