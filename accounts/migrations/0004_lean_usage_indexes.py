"""Drop the account indexes of the usage rollups and inbox: their unique keys start with the account already (the
inbox needs none). Only the indexes go: altering the fields in the database would drop and re-validate each foreign
key under an exclusive lock of the whole table. On PostgreSQL the indexes are dropped concurrently."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "accounts_accountfeatureusage": "accounts_accountfeatureusage_account_id_fdf361c3",
    "accounts_accountuserusage": "accounts_accountuserusage_account_id_67980d59",
    "accounts_usageday": "accounts_usageday_account_id_640c8b7e",
    "accounts_usagefeatureday": "accounts_usagefeatureday_account_id_e3537435",
    "accounts_usageinbox": "accounts_usageinbox_account_id_1004aae9",
    "accounts_usageuserday": "accounts_usageuserday_account_id_af8ae9a4",
}


def indexes_drop(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for index in INDEXES.values():
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(index)}")


def indexes_create(apps, schema_editor):
    for table, index in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(index)} ON {schema_editor.quote_name(table)} "
            f"({schema_editor.quote_name('account_id')})"
        )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('accounts', '0003_usage_inbox_and_lean_event_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(indexes_drop, indexes_create)],
            state_operations=[
                migrations.AlterField(
                    model_name='accountfeatureusage',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='feature_usage', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='accountuserusage',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='user_usage', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='usageday',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='usagefeatureday',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='usageinbox',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='usageuserday',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
            ],
        ),
    ]
