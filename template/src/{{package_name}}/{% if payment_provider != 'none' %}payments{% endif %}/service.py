"""Checkout, the buyer's orders, and applying verified provider events.

Checkout writes in short transactions of its own and calls the provider
between them, so no database transaction stays open across the network.
Webhook events are applied in one transaction that starts by storing the
event's id: a second copy of the same delivery fails on that unique key
and changes nothing, even when both copies arrive at the same moment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.service import record
from ..core.context import RequestContext
from ..core.database import Database, utcnow
from ..core.logging import get_logger
from ..core.pagination import paginate
from ..ratelimit.service import RateLimiter
from ..security.errors import AppError, ErrorDetail
from ..security.payments.events import (
    EventKind,
    InvalidEventError,
    InvalidSignatureError,
    PaymentEvent,
)
from ..security.payments.idempotency import fingerprint
from ..security.payments.orders import OrderStatus, TransitionRefusedError, next_status
from ..settings import Settings
from .catalogue import Product
from .gateway import CheckoutGateway, CheckoutRequest, ProviderError
from .models import Order, ProcessedEvent

log = get_logger(__name__)

Verifier = Callable[[bytes, Mapping[str, str], Iterable[str], datetime], PaymentEvent]
MAX_EVENT_ID_LENGTH = 255


def not_found() -> AppError:
    return AppError(404, "not_found", "The resource does not exist.")


class Payments:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        limiter: RateLimiter,
        catalogue: Mapping[str, Product],
        gateway: CheckoutGateway | None,
        verify: Verifier,
    ) -> None:
        self.settings = settings
        self.database = database
        self.limiter = limiter
        self.catalogue = catalogue
        self.gateway = gateway
        self.verify = verify

    # --- checkout ----------------------------------------------------------------

    def checkout(
        self, context: RequestContext, user_id: uuid.UUID, product_id: str, key: str
    ) -> tuple[Order, bool]:
        """The order for this Idempotency-Key, with its checkout; True when it is new.

        The same key with the same body returns the first order; with another
        body it is a conflict (PAY-03). The amount is the catalogue's (PAY-05).
        """
        self.limiter.check("checkout", f"user:{user_id}", self.settings.rate_limit_checkout)
        product = self.catalogue.get(product_id)
        if product is None:
            detail = ErrorDetail(field="body.product_id", issue="No product has this id.")
            raise AppError(422, "validation_error", "The request is not valid.", details=[detail])
        if self.gateway is None:
            raise AppError(
                503,
                "payments_unavailable",
                "Payments are not configured on this server: set PAYMENT_API_KEY.",
            )
        order, created = self._order_for(context, user_id, product, key)
        if order.checkout_url is None:
            order = self._open_checkout(order, product)
        return order, created

    def _order_for(
        self, context: RequestContext, user_id: uuid.UUID, product: Product, key: str
    ) -> tuple[Order, bool]:
        digest = fingerprint({"product_id": product.id})
        try:
            with self.database.sessions.begin() as db:
                existing = self._keyed_order(db, user_id, key)
                if existing is None:
                    order = Order(
                        user_id=user_id,
                        product_id=product.id,
                        amount=product.amount,
                        currency=product.currency,
                        status=OrderStatus.PENDING,
                        idempotency_key=key,
                        request_fingerprint=digest,
                    )
                    db.add(order)
                    db.flush()
                    record(
                        db,
                        context,
                        "checkout_created",
                        actor_id=user_id,
                        target=str(order.id),
                        product_id=product.id,
                        amount=product.amount,
                        currency=product.currency,
                    )
                    return order, True
        except IntegrityError:
            # Another request with this key committed first: use its order.
            with self.database.sessions() as db:
                existing = self._keyed_order(db, user_id, key)
        if existing is None:
            raise RuntimeError("the order of an idempotency key vanished")
        if existing.request_fingerprint != digest:
            raise AppError(
                409, "conflict", "This Idempotency-Key was already used for another request."
            )
        return existing, False

    @staticmethod
    def _keyed_order(db: Session, user_id: uuid.UUID, key: str) -> Order | None:
        query = select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
        return db.scalar(query)

    def _open_checkout(self, order: Order, product: Product) -> Order:
        """Ask the provider for a checkout; the first URL stored for the order wins."""
        if self.gateway is None:
            raise RuntimeError("checkout without a gateway")
        public = self.settings.public_url.rstrip("/")
        request = CheckoutRequest(
            order_id=order.id,
            product=product,
            success_url=f"{public}/orders/{order.id}?checkout=success",
            cancel_url=f"{public}/orders/{order.id}?checkout=cancelled",
        )
        try:
            checkout = self.gateway.create(request)
        except ProviderError as error:
            log.warning("payment.checkout_failed", order_id=str(order.id), reason=str(error))
            raise AppError(
                502,
                "payment_provider_error",
                "The payment provider is not answering; retry with the same Idempotency-Key.",
            ) from None
        with self.database.sessions.begin() as db:
            db.execute(
                update(Order)
                .where(Order.id == order.id, Order.checkout_url.is_(None))
                .values(
                    checkout_url=checkout.url,
                    checkout_reference=checkout.reference,
                    updated_at=utcnow(),
                )
            )
            stored = db.get(Order, order.id)
        if stored is None:
            raise RuntimeError("the order vanished during checkout")
        return stored

    # --- orders ---------------------------------------------------------------------

    def get_order(self, db: Session, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
        """The buyer's order; another user's is the same 404 as a missing one (AUTHZ-03)."""
        order = db.scalar(select(Order).where(Order.id == order_id, Order.user_id == user_id))
        if order is None:
            raise not_found()
        return order

    def list_orders(
        self, db: Session, user_id: uuid.UUID, limit: int, cursor: str | None
    ) -> tuple[Sequence[Order], str | None]:
        query = select(Order).where(Order.user_id == user_id)
        return paginate(db, query, stamp=Order.created_at, key=Order.id, limit=limit, cursor=cursor)

    # --- webhooks -------------------------------------------------------------------

    def receive(self, context: RequestContext, body: bytes, headers: Mapping[str, str]) -> None:
        """Verify a delivery over its raw bytes, then apply it once (PAY-01, PAY-03)."""
        try:
            event = self.verify(body, headers, self.settings.payment_webhook_secrets, utcnow())
            if len(event.event_id) > MAX_EVENT_ID_LENGTH:
                raise InvalidEventError("the event id is too long")
        except InvalidSignatureError as error:
            log.warning("payment.webhook_rejected", reason=str(error))
            raise AppError(
                400, "invalid_signature", "The webhook signature is missing, wrong or stale."
            ) from None
        except InvalidEventError as error:
            log.warning("payment.webhook_unreadable", reason=str(error))
            raise AppError(400, "invalid_payload", "The webhook event cannot be read.") from None
        claimed = False
        try:
            with self.database.sessions.begin() as db:
                # Stored first: on SQLite this takes the write lock before the order is
                # read, and a concurrent copy of the event stops here on the unique key.
                processed = ProcessedEvent(
                    provider=event.provider,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    outcome="pending",
                )
                db.add(processed)
                db.flush()
                claimed = True
                processed.order_id, processed.outcome = self._apply(db, context, event)
        except IntegrityError:
            if claimed:
                raise
            log.info("payment.webhook_duplicate", provider=event.provider, event_id=event.event_id)

    def _apply(
        self, db: Session, context: RequestContext, event: PaymentEvent
    ) -> tuple[uuid.UUID | None, str]:
        """Move the order as the state machine allows (PAY-04); audit every event (PAY-05)."""
        facts: dict[str, Any] = {
            "provider": event.provider,
            "event_id": event.event_id,
            "event_type": event.event_type,
        }
        order = self._order_of(db, event)
        if order is None or event.kind is EventKind.OTHER:
            if event.kind is EventKind.OTHER:
                reason = event.note or "not_handled"
            else:
                reason = "unknown_order"
            target = str(order.id) if order else None
            log.info("payment.event_ignored", reason=reason, order_id=target, **facts)
            record(db, context, "payment_event_ignored", target=target, reason=reason, **facts)
            return (order.id if order else None), "ignored"
        current = OrderStatus(order.status)
        try:
            if event.kind is EventKind.PAID and not self._charged_as_ordered(order, event):
                raise TransitionRefusedError(current, OrderStatus.PAID, "amount_mismatch")
            new = next_status(current, event.kind)
        except TransitionRefusedError as refused:
            log.warning(
                "payment.transition_refused",
                order_id=str(order.id),
                from_status=str(current),
                to_status=str(refused.target),
                reason=refused.reason,
                **facts,
            )
            record(
                db,
                context,
                "payment_transition_refused",
                target=str(order.id),
                from_status=str(current),
                to_status=str(refused.target),
                reason=refused.reason,
                **facts,
            )
            return order.id, "refused"
        order.status = new
        if event.kind is EventKind.PAID and event.reference:
            order.payment_reference = event.reference
        order.updated_at = utcnow()
        log.info("payment.order_moved", order_id=str(order.id), to_status=str(new), **facts)
        record(db, context, f"order_{new}", target=str(order.id), from_status=str(current), **facts)
        return order.id, "applied"

    @staticmethod
    def _order_of(db: Session, event: PaymentEvent) -> Order | None:
        """The order an event is about, locked for this transaction (FOR UPDATE on PostgreSQL)."""
        if event.order_id is not None:
            query = select(Order).where(Order.id == event.order_id)
        elif event.reference is not None:
            query = select(Order).where(
                or_(
                    Order.payment_reference == event.reference,
                    Order.checkout_reference == event.reference,
                )
            )
        else:
            return None
        return db.scalars(query.with_for_update().limit(1)).first()

    @staticmethod
    def _charged_as_ordered(order: Order, event: PaymentEvent) -> bool:
        """The provider charged the catalogue price in the catalogue currency."""
        return (
            event.amount == order.amount
            and event.currency is not None
            and event.currency.upper() == order.currency
        )
