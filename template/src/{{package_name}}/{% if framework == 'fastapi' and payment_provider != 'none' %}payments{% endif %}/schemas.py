"""What a buyer may send (a product id) and exactly what comes back.

There is no field for an amount, a currency or a status: the server owns
them, and unknown fields are refused (AUTHZ-04, PAY-02).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from ..core.schemas import RequestSchema, ResponseSchema
from ..security.payments.orders import OrderStatus
from .catalogue import ProductId


class CheckoutIn(RequestSchema):
    product_id: ProductId


class CheckoutOut(BaseModel):
    order_id: uuid.UUID
    checkout_url: str
    status: OrderStatus


class OrderOut(ResponseSchema):
    id: uuid.UUID
    product_id: str
    amount: int
    currency: str
    status: OrderStatus
    created_at: datetime


class ReceivedOut(BaseModel):
    received: bool
