"""The migration to playbook conditions: a playbook of one trigger becomes a playbook of one condition with the
same parameters, and keeps firing (and deduplicating) as before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("journeys", "0003_webhooks")]
AFTER = [("journeys", "0004_playbook_conditions")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_each_trigger_becomes_one_condition():
    old = migrate(BEFORE)
    Stage = old.get_model("journeys", "Stage")
    Playbook = old.get_model("journeys", "Playbook")
    adoption, _created = Stage.objects.get_or_create(name="Adoption", defaults={"order": 5})
    Playbook.objects.create(name="Quiet", trigger="no_touch", days=30, active=True)
    Playbook.objects.create(name="Adopted", trigger="stage_entered", trigger_stage=adoption, active=False)
    Playbook.objects.create(name="Usage", trigger="usage_trend_below", threshold=0.7, active=True)

    new = migrate(AFTER)
    Condition = new.get_model("journeys", "PlaybookCondition")
    rows = Condition.objects.order_by("playbook__name").values_list(
        "playbook__name", "playbook__active", "trigger", "threshold", "days", "stage__name"
    )
    assert list(rows) == [
        ("Adopted", False, "stage_entered", None, None, "Adoption"),
        ("Quiet", True, "no_touch", None, 30, None),
        ("Usage", True, "usage_trend_below", 0.7, None, None),
    ]
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
