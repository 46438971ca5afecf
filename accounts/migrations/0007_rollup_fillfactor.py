"""Leave room on the pages of the rollups that every fold updates in place (today's day row, each account's per-user
and per-feature first/last use): PostgreSQL can then update a row on its own page without touching its indexes (a
"HOT" update), which made a fold's upsert of 200,000 events into the per-user rollup 30-50% faster on the bench
book. The per-day-per-user and per-day-per-feature rollups keep full pages: past days are never updated again."""

from django.db import migrations

TABLES = ("accounts_usageday", "accounts_accountuserusage", "accounts_accountfeatureusage")
FILLFACTOR = 70


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_quarantined_kind_help"),
    ]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
