"""Orders and the provider events already processed.

An order never stores a price the client sent: amount and currency are
copied from the catalogue (PAY-05). The order is also the record of its
Idempotency-Key: `(user, idempotency_key)` is unique, so a retried checkout
finds its order instead of creating another, and the stored fingerprint of
the body tells a retry from another purchase under the same key (PAY-03).
`(provider, event_id)` is unique, so a delivery processed once is never
processed again, even when two copies arrive at the same moment.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..security.payments.idempotency import MAX_LENGTH as KEY_MAX_LENGTH
from ..security.payments.orders import OrderStatus

STATUS_CHOICES = [(status.value, status.value) for status in OrderStatus]


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # SET_NULL: a deleted account's orders stay, unattributed, for the accounts.
    # No index of its own: the (user, created_at, id) index below starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="orders",
        db_index=False,
    )
    product_id = models.CharField(max_length=64)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=STATUS_CHOICES, default=OrderStatus.PENDING.value
    )
    idempotency_key = models.CharField(max_length=KEY_MAX_LENGTH)
    request_fingerprint = models.CharField(max_length=64)
    checkout_url = models.CharField(max_length=2048, null=True)
    # The provider's ids: of the checkout when it is created, of the payment once paid.
    checkout_reference = models.CharField(max_length=255, null=True, db_index=True)
    payment_reference = models.CharField(max_length=255, null=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "orders"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="uq_orders_user_id_idempotency_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[status.value for status in OrderStatus]),
                name="orders_status_known",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="orders_amount_positive"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # One indexed range scan per page of the buyer's orders, newest first (DB-01, DB-02).
            models.Index(fields=["user", "created_at", "id"], name="ix_orders_user_created_id"),
        ]

    def __str__(self) -> str:
        return f"order {self.id}"


class ProcessedEvent(models.Model):
    """A provider event, stored before it is applied: its unique key makes a copy a no-op."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=128)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, related_name="events")
    # pending while it is applied, then applied, refused or ignored.
    outcome = models.CharField(max_length=16)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payment_events"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="uq_payment_events_provider_event_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
