"""Opening a checkout at the provider: the one outbound call of payments.

Each provider module implements `CheckoutGateway`; the service sees only
this interface, and tests replace nothing but the provider's HTTP server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from .catalogue import Product

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CheckoutRequest:
    order_id: uuid.UUID
    product: Product
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class Checkout:
    url: str
    reference: str


class ProviderError(RuntimeError):
    """The provider did not open a checkout; the order stays pending and can be retried."""


class CheckoutGateway(Protocol):
    def create(self, request: CheckoutRequest) -> Checkout:
        """Open a checkout that charges the product's catalogue price for this order."""
        ...
