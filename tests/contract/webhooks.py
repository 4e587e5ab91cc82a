"""The provider's side of a webhook: real event bodies, signed with the real schemes.

For each provider a `Signer` builds the body the provider sends for an event
kind (paid, failed, cancelled, refunded, partial_refund, unhandled) of one order, and the signature
header over those exact bytes, with hmac/hashlib only: not the generated
code, not a provider SDK. The timestamp and the secret are settable, so
tests can send stale, future-dated and wrongly keyed deliveries.

The schemes (spec "Webhook deliveries"):
- Stripe: `Stripe-Signature: t=<unix>,v1=<hex hmac_sha256(secret, f"{t}.{body}")>`
- Paddle: `Paddle-Signature: ts=<unix>;h1=<hex hmac_sha256(secret, f"{ts}:{body}")>`
- Lemon Squeezy: `X-Signature: <hex hmac_sha256(secret, body)>` (no timestamp)
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

# "unhandled": an event type the spec does not act on, about the order all the same.
Kind = Literal["paid", "failed", "cancelled", "refunded", "partial_refund", "unhandled"]

# The catalogue of the spec: (amount in minor units, currency) of each product.
CATALOGUE: dict[str, tuple[int, str]] = {
    "pro-annual": (9900, "EUR"),
    "team-annual": (29900, "EUR"),
}


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery before signing: the exact body and what identifies the event."""

    provider: str
    kind: Kind
    body: bytes
    event_id: str  # the identity the server keys duplicates on
    event_type: str
    timestamp: int


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _derived(prefix: str, order_id: str, length: int = 24) -> str:
    """A provider id that stays the same for every event of one order (payment intent...)."""
    return prefix + hashlib.sha256(f"{prefix}{order_id}".encode()).hexdigest()[:length]


class Signer:
    """Builds and signs one provider's webhook deliveries."""

    provider: ClassVar[str]
    header: ClassVar[str]
    # The event types of each kind this provider can send.
    kinds: ClassVar[frozenset[str]]
    # The kind that ends a pending order without payment (a cancellation, or a failure).
    closing_kind: ClassVar[Kind]
    timestamped: ClassVar[bool] = True

    @property
    def path(self) -> str:
        return f"/api/webhooks/{self.provider}"

    def supports(self, kind: Kind) -> bool:
        return kind in self.kinds

    def event(
        self,
        kind: Kind,
        order_id: str,
        *,
        amount: int = CATALOGUE["pro-annual"][0],
        currency: str = CATALOGUE["pro-annual"][1],
        reference: str = "",
        event_id: str | None = None,
        at: int | None = None,
    ) -> Delivery:
        """The body the provider sends for `kind` of the order.

        `reference` is the provider's own id of the checkout (what the stub
        answered); `at` the event's unix time (default now).
        """
        if kind not in self.kinds:
            raise ValueError(f"{self.provider} sends no {kind!r} event")
        return self._event(kind, order_id, amount, currency, reference, event_id, at or now())

    def _event(
        self,
        kind: Kind,
        order_id: str,
        amount: int,
        currency: str,
        reference: str,
        event_id: str | None,
        at: int,
    ) -> Delivery:
        raise NotImplementedError

    def signature(self, body: bytes, secret: str, timestamp: int | None = None) -> str:
        raise NotImplementedError

    def headers(
        self, delivery: Delivery, secret: str, *, timestamp: int | None = None
    ) -> dict[str, str]:
        """The request headers of the delivery: JSON and the signature (timestamp: the body's)."""
        moment = delivery.timestamp if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            self.header: self.signature(delivery.body, secret, moment),
        }


class StripeSigner(Signer):
    provider = "stripe"
    header = "Stripe-Signature"
    kinds = frozenset({"paid", "failed", "cancelled", "refunded", "partial_refund", "unhandled"})
    closing_kind = "cancelled"
    TYPES: ClassVar[dict[str, str]] = {
        "unhandled": "payment_intent.created",
        "paid": "checkout.session.completed",
        "failed": "checkout.session.async_payment_failed",
        "cancelled": "checkout.session.expired",
        "refunded": "charge.refunded",
        "partial_refund": "charge.refunded",
    }

    def _event(
        self,
        kind: Kind,
        order_id: str,
        amount: int,
        currency: str,
        reference: str,
        event_id: str | None,
        at: int,
    ) -> Delivery:
        intent = _derived("pi_", order_id)
        obj: dict[str, Any]
        if kind in {"refunded", "partial_refund"}:
            obj = {
                "id": _derived("ch_", order_id),
                "object": "charge",
                "payment_intent": intent,
                "metadata": {"order_id": order_id},
                "refunded": kind == "refunded",
                "amount": amount,
                "amount_refunded": amount if kind == "refunded" else amount // 2,
                "currency": currency.lower(),
            }
        elif kind == "unhandled":
            obj = {
                "id": intent,
                "object": "payment_intent",
                "status": "requires_payment_method",
                "metadata": {"order_id": order_id},
                "amount": amount,
                "currency": currency.lower(),
            }
        else:
            obj = {
                "id": reference or "cs_test_" + secrets.token_hex(24),
                "object": "checkout.session",
                "payment_status": "paid" if kind == "paid" else "unpaid",
                "status": "expired" if kind == "cancelled" else "complete",
                "client_reference_id": order_id,
                "metadata": {"order_id": order_id},
                "amount_subtotal": amount,
                "amount_total": amount,
                "currency": currency.lower(),
                "payment_intent": intent,
                "mode": "payment",
            }
        event_id = event_id or "evt_" + secrets.token_hex(12)
        payload = {
            "id": event_id,
            "object": "event",
            "type": self.TYPES[kind],
            "created": at,
            "livemode": False,
            "api_version": "2025-01-27.acacia",
            "pending_webhooks": 1,
            "data": {"object": obj},
        }
        return Delivery(self.provider, kind, _dumps(payload), event_id, self.TYPES[kind], at)

    def signature(self, body: bytes, secret: str, timestamp: int | None = None) -> str:
        t = now() if timestamp is None else timestamp
        return f"t={t},v1={_hmac(secret, f'{t}.'.encode() + body)}"


class PaddleSigner(Signer):
    provider = "paddle"
    header = "Paddle-Signature"
    # transaction.payment_failed is not handled (Paddle lets the customer retry).
    kinds = frozenset({"paid", "failed", "cancelled", "refunded", "partial_refund", "unhandled"})
    closing_kind = "cancelled"
    TYPES: ClassVar[dict[str, str]] = {
        "unhandled": "transaction.created",
        "paid": "transaction.completed",
        "failed": "transaction.payment_failed",
        "cancelled": "transaction.canceled",
        "refunded": "adjustment.created",
        "partial_refund": "adjustment.created",
    }

    def _event(
        self,
        kind: Kind,
        order_id: str,
        amount: int,
        currency: str,
        reference: str,
        event_id: str | None,
        at: int,
    ) -> Delivery:
        transaction = reference or "txn_" + secrets.token_hex(13)
        data: dict[str, Any]
        if kind in {"refunded", "partial_refund"}:
            data = {
                "id": "adj_" + secrets.token_hex(13),
                "action": "refund",
                "type": "full" if kind == "refunded" else "partial",
                "status": "approved",
                "transaction_id": transaction,
                "currency_code": currency,
                "totals": {"subtotal": str(amount), "total": str(amount)},
            }
        else:
            status = {
                "paid": "completed",
                "failed": "past_due",
                "cancelled": "canceled",
                "unhandled": "ready",
            }[kind]
            data = {
                "id": transaction,
                "status": status,
                "currency_code": currency,
                "custom_data": {"order_id": order_id},
                "details": {"totals": {"subtotal": str(amount), "grand_total": str(amount)}},
            }
        event_id = event_id or "evt_" + secrets.token_hex(13)
        payload = {
            "event_id": event_id,
            "event_type": self.TYPES[kind],
            "occurred_at": _iso(at),
            "notification_id": "ntf_" + secrets.token_hex(13),
            "data": data,
        }
        return Delivery(self.provider, kind, _dumps(payload), event_id, self.TYPES[kind], at)

    def signature(self, body: bytes, secret: str, timestamp: int | None = None) -> str:
        ts = now() if timestamp is None else timestamp
        return f"ts={ts};h1={_hmac(secret, f'{ts}:'.encode() + body)}"


_LS_UPDATES = itertools.count(1)


class LemonSqueezySigner(Signer):
    """Lemon Squeezy signs the body alone: no timestamp, hence no staleness check.

    The event's identity is `f"{event_name}:{data.id}:{attributes.updated_at}"`;
    `updated_at` is made unique per built event (microseconds and a counter), so
    two events built apart are two events, and one built event sent twice is a
    duplicate. `event_id` cannot be chosen: the scheme has no such field.
    """

    provider = "lemonsqueezy"
    header = "X-Signature"
    # No cancellation event: a failed order is the closed one.
    kinds = frozenset({"paid", "failed", "refunded", "partial_refund", "unhandled"})
    closing_kind = "failed"
    timestamped = False
    NAMES: ClassVar[dict[str, str]] = {
        "unhandled": "subscription_created",
        "paid": "order_created",
        "failed": "order_created",
        "refunded": "order_refunded",
        "partial_refund": "order_refunded",
    }

    def _event(
        self,
        kind: Kind,
        order_id: str,
        amount: int,
        currency: str,
        reference: str,
        event_id: str | None,
        at: int,
    ) -> Delivery:
        if event_id is not None:
            raise ValueError("Lemon Squeezy events have no event id of their own")
        ls_order = str(int(hashlib.sha256(order_id.encode()).hexdigest()[:12], 16) % 10**9)
        updated = _iso(at + (time.time() % 1) + next(_LS_UPDATES) * 1e-6)
        name = self.NAMES[kind]
        status = {"unhandled": "active"}.get(kind, kind)
        payload = {
            "meta": {"event_name": name, "custom_data": {"order_id": order_id}, "test_mode": True},
            "data": {
                "type": "subscriptions" if kind == "unhandled" else "orders",
                "id": ls_order,
                "attributes": {
                    "store_id": 1,
                    "identifier": str(uuid.uuid4()),
                    "status": status,
                    "subtotal": amount,
                    "total": amount,
                    "currency": currency,
                    "refunded": kind == "refunded",
                    "created_at": _iso(at),
                    "updated_at": updated,
                },
            },
        }
        identity = f"{name}:{ls_order}:{updated}"
        return Delivery(self.provider, kind, _dumps(payload), identity, name, at)

    def signature(self, body: bytes, secret: str, timestamp: int | None = None) -> str:
        return _hmac(secret, body)


SIGNERS: dict[str, type[Signer]] = {
    cls.provider: cls for cls in (StripeSigner, PaddleSigner, LemonSqueezySigner)
}


def signer_for(provider: str) -> Signer:
    return SIGNERS[provider]()


def now() -> int:
    return int(time.time())
