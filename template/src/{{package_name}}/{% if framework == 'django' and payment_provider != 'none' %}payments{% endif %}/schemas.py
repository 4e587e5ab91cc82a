"""The ninja bodies of the payment routes, shaped exactly as the FastAPI backend's.

A buyer names a product and nothing else: amount, currency and status are
the server's, and `StrictSchema` refuses any other field (AUTHZ-04, PAY-02).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema

from ..core.schemas import StrictSchema
from ..security.payments.orders import OrderStatus
from .catalogue import ProductId


class CheckoutIn(StrictSchema):
    product_id: ProductId


class CheckoutOut(Schema):
    order_id: uuid.UUID
    checkout_url: str
    status: OrderStatus


class OrderOut(Schema):
    """Exactly the public fields of an order: never the buyer, key or provider ids."""

    id: uuid.UUID
    product_id: str
    amount: int
    currency: str
    status: OrderStatus
    created_at: datetime


class ReceivedOut(Schema):
    received: bool
