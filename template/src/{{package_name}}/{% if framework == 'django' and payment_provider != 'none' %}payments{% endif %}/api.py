"""`/api/payments/checkout`, `/api/orders` and the provider's `/api/webhooks/...` route.

Mounted at the API's root (config/api.py), so the routes name their whole
paths. Checkout and orders need a session, like every private route, and
go through the CSRF check. The webhook is public and exempt from CSRF
(accounts/csrf.py): the provider holds neither a session nor a token, and
each delivery is authenticated by its signature instead (PAY-01).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.params import functions as params

from ..accounts.auth import request_user, session_auth
from ..core.schemas import Page, PageParams
from ..security.payments import idempotency
from ..security.payments.orders import OrderStatus
from . import selectors, services
from .provider import PROVIDER
from .schemas import CheckoutIn, CheckoutOut, OrderOut, ReceivedOut

router = Router(auth=session_auth, tags=["payments"])

IdempotencyKey = Annotated[
    str,
    params.Header(
        alias=idempotency.HEADER,
        min_length=idempotency.MIN_LENGTH,
        max_length=idempotency.MAX_LENGTH,
        pattern=idempotency.PATTERN,
        description="Chosen by the client; a retry with the same key and body gets the same order",
    ),
]
# The errors besides those of every route (config/api.py): another body under a used
# key, the provider failing, payments not configured.
CHECKOUT_ERRORS: dict[str, Any] = {
    "responses": {
        "409": {"description": "This Idempotency-Key was already used for another request"},
        "502": {"description": "The payment provider is not answering; retry with the same key"},
        "503": {"description": "Payments are not configured on this server"},
    }
}
PROVIDER_PAYLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The provider's event, signed in its signature header",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/payments/checkout",
    response={201: CheckoutOut, 200: CheckoutOut},
    openapi_extra=CHECKOUT_ERRORS,
)
def checkout(
    request: HttpRequest, payload: CheckoutIn, idempotency_key: IdempotencyKey
) -> Status[CheckoutOut]:
    """201 with a new order; 200 with the order this key created before."""
    order, created = services.checkout(
        request=request,
        user=request_user(request),
        product_id=payload.product_id,
        key=idempotency_key,
    )
    if order.checkout_url is None:
        raise RuntimeError("checkout returned an order without a checkout URL")
    body = CheckoutOut(
        order_id=order.id, checkout_url=order.checkout_url, status=OrderStatus(order.status)
    )
    return Status(201 if created else 200, body)


@router.get("/orders", response=Page[OrderOut])
def list_orders(request: HttpRequest, params: Query[PageParams]) -> Page[OrderOut]:
    orders, next_cursor = selectors.order_list(
        user=request_user(request), limit=params.limit, cursor=params.cursor
    )
    return Page[OrderOut](
        items=[OrderOut.model_validate(order) for order in orders], next_cursor=next_cursor
    )


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: uuid.UUID) -> OrderOut:
    return OrderOut.model_validate(
        selectors.order_get(user=request_user(request), order_id=order_id)
    )


@router.post(
    f"/webhooks/{PROVIDER}",
    auth=None,
    response=ReceivedOut,
    openapi_extra={**PROVIDER_PAYLOAD, "responses": {"400": {"description": "Bad signature"}}},
)
def webhook(request: HttpRequest) -> ReceivedOut:
    """The raw bytes, exactly as received: the signature is computed over them, not over JSON."""
    services.webhook_receive(request=request, body=request.body, headers=request.headers)
    return ReceivedOut(received=True)
