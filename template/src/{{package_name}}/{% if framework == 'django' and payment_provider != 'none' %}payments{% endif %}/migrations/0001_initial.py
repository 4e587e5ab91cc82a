"""Orders, the provider events already processed, and the keys that make both idempotent."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

STATUSES = ["pending", "paid", "failed", "cancelled", "refunded"]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("product_id", models.CharField(max_length=64)),
                ("amount", models.PositiveIntegerField()),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[(status, status) for status in STATUSES],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("idempotency_key", models.CharField(max_length=128)),
                ("request_fingerprint", models.CharField(max_length=64)),
                ("checkout_url", models.CharField(max_length=2048, null=True)),
                (
                    "checkout_reference",
                    models.CharField(db_index=True, max_length=255, null=True),
                ),
                (
                    "payment_reference",
                    models.CharField(db_index=True, max_length=255, null=True),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="orders",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "orders",
                "indexes": [
                    models.Index(
                        fields=["user", "created_at", "id"], name="ix_orders_user_created_id"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "idempotency_key"),
                        name="uq_orders_user_id_idempotency_key",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", STATUSES)),
                        name="orders_status_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="orders_amount_positive"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ProcessedEvent",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("provider", models.CharField(max_length=32)),
                ("event_id", models.CharField(max_length=255)),
                ("event_type", models.CharField(max_length=128)),
                ("outcome", models.CharField(max_length=16)),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "order",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events",
                        to="payments.order",
                    ),
                ),
            ],
            options={
                "db_table": "payment_events",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("provider", "event_id"),
                        name="uq_payment_events_provider_event_id",
                    )
                ],
            },
        ),
    ]
