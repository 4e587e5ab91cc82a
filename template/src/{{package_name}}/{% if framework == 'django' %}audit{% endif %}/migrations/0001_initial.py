from __future__ import annotations

import uuid

import django.core.serializers.json
import django.utils.timezone
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MESSAGE = "audit events are append-only"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]


def install_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """The database refuses changes too, whatever code (or person) sends them."""
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def remove_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for verb in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb}")
    elif vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("actor_id", models.UUIDField(null=True)),
                ("action", models.CharField(db_index=True, max_length=64)),
                ("target", models.CharField(max_length=200, null=True)),
                ("ip", models.CharField(max_length=64, null=True)),
                ("request_id", models.CharField(max_length=64, null=True)),
                (
                    "detail",
                    models.JSONField(
                        default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
                    ),
                ),
            ],
            options={
                "db_table": "audit_events",
                "indexes": [models.Index(fields=["at", "id"], name="ix_audit_events_at_id")],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
