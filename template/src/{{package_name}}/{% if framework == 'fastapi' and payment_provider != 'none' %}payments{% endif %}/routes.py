"""`/api/payments/checkout`, `/api/orders` and the provider's `/api/webhooks/...` route.

`router` is mounted behind the session and CSRF checks like every private
route. `webhook_router` is public and exempt from CSRF: the provider cannot
hold a session, and each delivery is authenticated by its signature instead.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status

from ..auth.dependencies import CurrentAuth
from ..core.context import Context
from ..core.database import DbSession
from ..core.openapi import error_responses
from ..core.schemas import DEFAULT_LIMIT, Cursor, Limit, Page, StrictJSONRoute
from ..security.payments import idempotency
from .provider import PROVIDER
from .schemas import CheckoutIn, CheckoutOut, OrderOut, ReceivedOut
from .service import Payments

router = APIRouter(tags=["payments"], route_class=StrictJSONRoute)
webhook_router = APIRouter(tags=["payments"])


async def get_payments(request: Request) -> Payments:
    payments: Payments = request.app.state.payments
    return payments


PaymentsService = Annotated[Payments, Depends(get_payments)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias=idempotency.HEADER,
        min_length=idempotency.MIN_LENGTH,
        max_length=idempotency.MAX_LENGTH,
        pattern=idempotency.PATTERN,
        description="Chosen by the client; a retry with the same key and body gets the same order",
    ),
]

REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"model": CheckoutOut, "description": "The order created earlier with this key"}
}


@router.post(
    "/payments/checkout",
    status_code=status.HTTP_201_CREATED,
    responses={**REPLAYED, **error_responses(409, 502, 503)},
)
def checkout(
    body: CheckoutIn,
    idempotency_key: IdempotencyKey,
    response: Response,
    auth: CurrentAuth,
    context: Context,
    payments: PaymentsService,
) -> CheckoutOut:
    order, created = payments.checkout(context, auth.user.id, body.product_id, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    if order.checkout_url is None:
        raise RuntimeError("checkout returned an order without a checkout URL")
    return CheckoutOut(order_id=order.id, checkout_url=order.checkout_url, status=order.status)


@router.get("/orders")
def list_orders(
    auth: CurrentAuth,
    db: DbSession,
    payments: PaymentsService,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[OrderOut]:
    orders, next_cursor = payments.list_orders(db, auth.user.id, limit, cursor)
    return Page[OrderOut](
        items=[OrderOut.model_validate(order) for order in orders], next_cursor=next_cursor
    )


@router.get("/orders/{order_id}")
def get_order(
    order_id: uuid.UUID, auth: CurrentAuth, db: DbSession, payments: PaymentsService
) -> OrderOut:
    return OrderOut.model_validate(payments.get_order(db, auth.user.id, order_id))


async def raw_body(request: Request) -> bytes:
    """The bytes exactly as received: signatures are computed over them, not over parsed JSON."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
PROVIDER_PAYLOAD = {
    "requestBody": {
        "required": True,
        "description": "The provider's event, signed in its signature header",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@webhook_router.post(
    f"/webhooks/{PROVIDER}", responses=error_responses(400), openapi_extra=PROVIDER_PAYLOAD
)
def webhook(
    body: RawBody, request: Request, context: Context, payments: PaymentsService
) -> ReceivedOut:
    payments.receive(context, body, request.headers)
    return ReceivedOut(received=True)
