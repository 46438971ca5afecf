"""Upgrading stored snapshots: health becomes a whole number rounded half up, and each band is decided again from
that number (a score shown as 40 is never red)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("health", "0002_default_scorecard")]
AFTER = [("health", "0003_snapshot_na_acv_whole_health_problems")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_stored_scores_become_whole_numbers_rounded_half_up_and_are_banded_again():
    old = migrate(BEFORE)
    try:
        Account = old.get_model("accounts", "Account")
        Snapshot = old.get_model("health", "AccountSnapshot")
        # The default scorecard's data migration may have been flushed by an earlier transactional test.
        scorecard, _created = old.get_model("health", "Scorecard").objects.get_or_create(
            segment="", defaults={"name": "Default", "version": 1}
        )
        version, _created = old.get_model("health", "ScorecardVersion").objects.get_or_create(
            scorecard=scorecard, version=1, defaults={"definition": {"red_below": 40, "green_from": 70, "measures": []}}
        )
        scores = {"A": (39.5, "red"), "B": (40.5, "yellow"), "C": (69.6, "yellow"), "D": (12.0, "red")}
        for name, (health, band) in scores.items():
            account = Account.objects.create(external_id=name, name=name)
            Snapshot.objects.create(
                account=account, as_of=dt.date(2024, 6, 30), acv=0, health=health, band=band, scorecard_version=version
            )

        new = migrate(AFTER)
        rows = new.get_model("health", "AccountSnapshot").objects.order_by("account__external_id")

        assert list(rows.values_list("account__external_id", "health", "band")) == [
            ("A", 40, "yellow"),
            ("B", 41, "yellow"),
            ("C", 70, "green"),
            ("D", 12, "red"),
        ]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
