"""Orders and the provider events already processed.

An order never stores a price the client sent: amount and currency are
copied from the catalogue (PAY-05). `(user_id, idempotency_key)` is unique,
so a retried checkout finds its order instead of creating another (PAY-03);
`(provider, event_id)` is unique, so a delivery processed once is never
processed again, even when two copies arrive at the same moment.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import Base, UUIDPrimaryKey, utcnow
from ..security.payments.orders import OrderStatus

STATUSES = ", ".join(f"'{status}'" for status in OrderStatus)


class Order(UUIDPrimaryKey, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_orders_user_id_idempotency_key"),
        Index("ix_orders_user_created_id", "user_id", "created_at", "id"),
        CheckConstraint(f"status IN ({STATUSES})", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    # SET NULL: a deleted account's orders stay, unattributed, for the accounts.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    checkout_url: Mapped[str | None] = mapped_column(String(2048))
    # The provider's ids: of the checkout when it is created, of the payment once paid.
    checkout_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedEvent(UUIDPrimaryKey, Base):
    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_payment_events_provider_event_id"),
    )

    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
