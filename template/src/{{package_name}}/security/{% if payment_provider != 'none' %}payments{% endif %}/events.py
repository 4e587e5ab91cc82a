"""What a verified webhook becomes: one typed event, whatever the provider.

Verifiers check the signature over the raw bytes before anything parses them;
only then is the body read, and only the fields the order logic needs leave
this module. Anything malformed or unsigned raises `InvalidSignatureError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# A delivery signed longer ago than this (or this far in the future) is refused as stale.
TOLERANCE = timedelta(minutes=5)


class InvalidSignatureError(ValueError):
    """The delivery is not provably from the provider: missing, wrong or stale signature."""


class InvalidEventError(ValueError):
    """A correctly signed delivery whose body is not an event we can read."""


class EventKind(StrEnum):
    """What an event means for an order; OTHER events are recorded and change nothing."""

    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    OTHER = "other"


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider event, reduced to what the order logic needs.

    `order_id` is ours, sent to the provider at checkout and signed back by it;
    `reference` is the provider's id of the payment (used when an event, such
    as a refund, does not carry our order id). `amount` and `currency` are what
    the provider charged, before tax, in minor units.
    """

    provider: str
    event_id: str
    event_type: str
    kind: EventKind
    order_id: uuid.UUID | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    note: str | None = None


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def any_signature_matches(expected: Iterable[str], received: Iterable[str]) -> bool:
    """Constant-time check of every pair, so timing tells nothing about which part differed."""
    found = False
    for mine in expected:
        for theirs in received:
            found |= hmac.compare_digest(mine.encode(), theirs.encode())
    return found


def require_fresh(signed_at: int, now: datetime) -> None:
    """Refuse a signature timestamp outside the tolerance, in the past or the future."""
    if abs(now.timestamp() - signed_at) > TOLERANCE.total_seconds():
        raise InvalidSignatureError("the signature timestamp is outside the tolerance")


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name; a missing one is a missing signature."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise InvalidSignatureError(f"the {name} header is missing")


def usable_secrets(secrets: Iterable[str]) -> list[str]:
    """The configured secrets, without blanks; none at all means nothing can verify."""
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise InvalidSignatureError("no webhook secret is configured")
    return usable


def load_object(body: bytes) -> dict[str, Any]:
    """The JSON object of a verified body."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidEventError("the body is not JSON") from error
    if not isinstance(data, dict):
        raise InvalidEventError("the body is not a JSON object")
    return data


def field(data: Mapping[str, Any], *path: str) -> Any:
    """A nested field, or None when any step is missing or not an object."""
    value: Any = data
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def text_field(data: Mapping[str, Any], *path: str) -> str | None:
    value = field(data, *path)
    return value if isinstance(value, str) and value else None


def required_text(data: Mapping[str, Any], *path: str) -> str:
    value = text_field(data, *path)
    if value is None:
        raise InvalidEventError(f"the event has no {'.'.join(path)}")
    return value


def minor_units(value: Any) -> int | None:
    """An amount in minor units, sent as a number or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def order_id_of(value: Any) -> uuid.UUID | None:
    """Our order id as the provider echoes it; anything else means "not one of ours"."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
