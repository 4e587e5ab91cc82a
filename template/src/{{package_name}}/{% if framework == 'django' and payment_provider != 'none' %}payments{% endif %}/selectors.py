"""Reading orders, always through their buyer: another user's order is simply not found."""

from __future__ import annotations

import uuid

from ..accounts.models import User
from ..core.errors import ApiError
from ..core.pagination import paginate
from .models import Order


def not_found() -> ApiError:
    """The one answer for an order that is missing *or* someone else's (AUTHZ-03)."""
    return ApiError(404, "not_found", "The resource does not exist.")


def order_get(*, user: User, order_id: uuid.UUID) -> Order:
    """The buyer's order; the buyer is part of the query, so a foreign row is never loaded."""
    order = Order.objects.filter(user=user, id=order_id).first()
    if order is None:
        raise not_found()
    return order


def order_list(*, user: User, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """One page of the buyer's orders, newest first, and the cursor of the next (DB-01)."""
    return paginate(Order.objects.filter(user=user), limit=limit, cursor=cursor)


def order_for_key(*, user: User, key: str) -> Order | None:
    """The order an Idempotency-Key of this buyer created, if any (PAY-03)."""
    return Order.objects.filter(user=user, idempotency_key=key).first()
