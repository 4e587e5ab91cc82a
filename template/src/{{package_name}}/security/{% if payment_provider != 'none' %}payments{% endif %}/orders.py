"""The order state machine (PAY-04).

An order starts pending and only a verified webhook moves it. Every move not
listed here is refused: a refund that arrives before the payment, a payment
that arrives after a cancellation, a second payment of a paid order. The
caller logs and audits the refusal; the order stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .events import EventKind


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.FAILED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

TARGET_OF: Mapping[EventKind, OrderStatus] = {
    EventKind.PAID: OrderStatus.PAID,
    EventKind.FAILED: OrderStatus.FAILED,
    EventKind.CANCELLED: OrderStatus.CANCELLED,
    EventKind.REFUNDED: OrderStatus.REFUNDED,
}


class TransitionRefusedError(ValueError):
    """The event asks for a move the state machine does not allow."""

    def __init__(
        self, current: OrderStatus, target: OrderStatus, reason: str = "not_allowed"
    ) -> None:
        self.current = current
        self.target = target
        self.reason = reason
        super().__init__(f"{current} -> {target}: {reason}")


def next_status(current: OrderStatus, kind: EventKind) -> OrderStatus:
    """The status an event of this kind moves the order to; raises when it may not."""
    target = TARGET_OF[kind]
    if target not in TRANSITIONS[current]:
        raise TransitionRefusedError(current, target)
    return target
