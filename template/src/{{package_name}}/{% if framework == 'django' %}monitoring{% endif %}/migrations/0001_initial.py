"""The security events table and its two listing indexes (LOG-01, DB-02)."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="StoredEvent",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("at", models.DateTimeField()),
                ("kind", models.CharField(max_length=32)),
                ("actor_id", models.UUIDField(blank=True, null=True)),
                ("ip", models.CharField(blank=True, max_length=64, null=True)),
                ("request_id", models.CharField(blank=True, max_length=64, null=True)),
                ("target", models.CharField(blank=True, max_length=255, null=True)),
                ("detail", models.JSONField(default=dict)),
            ],
            options={
                "db_table": "security_events",
                "indexes": [
                    models.Index(fields=["at", "id"], name="security_events_at_id"),
                    models.Index(fields=["kind", "at", "id"], name="security_events_kind_at_id"),
                ],
            },
        ),
    ]
