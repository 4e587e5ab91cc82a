"""API.md "Payments" and the payments spec, over HTTPS against the production server.

Run on every target, including the payments-only ones (marker `payments`),
each with its own provider. The provider is played by the test: its API is a
stub on loopback that records what the server sent (provider_stub.py), and
its webhook deliveries are built and signed here with the provider's real
scheme (webhooks.py). The order's state is read back through the API, the
audit entries through the administrator's audit log.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contract.client import (
    AUDIT_FIELDS,
    Account,
    Browser,
    assert_error,
    assert_rate_limited,
    assert_security_headers,
)
from contract.provider_stub import CHECKOUT_PATHS, PROVIDERS, Failure, StubRequest
from contract.servers import Deployment, Payments
from contract.webhooks import CATALOGUE, Delivery, Kind, Signer, now, signer_for

pytestmark = [pytest.mark.contract, pytest.mark.payments]

NewBrowser = Callable[..., Browser]
Make = Callable[..., Account]
SignIn = Callable[..., Browser]

CHECKOUT = "/api/payments/checkout"
ORDERS = "/api/orders"
AUDIT_LOG = "/api/admin/audit-log"
CHECKOUT_FIELDS = {"order_id", "checkout_url", "status"}
ORDER_FIELDS = {"id", "product_id", "amount", "currency", "status", "created_at"}
RECEIVED = {"received": True}
# The audit actions of the spec that a verified webhook event produces, one per event.
EVENT_ACTIONS = (
    "order_paid",
    "order_failed",
    "order_cancelled",
    "order_refunded",
    "payment_transition_refused",
    "payment_event_ignored",
)
CLOSED_STATUS = {"cancelled": "cancelled", "failed": "failed"}
TOLERANCE = 300  # seconds a signature's timestamp may be off (spec)
CHECKOUT_LIMIT = 10  # a minute per user (API.md "Limits")


def new_key() -> str:
    return "key-" + secrets.token_urlsafe(18)


def checkout(
    client: Browser, key: str | None, product: str = "pro-annual", **kwargs: Any
) -> httpx.Response:
    """POST /api/payments/checkout with the Idempotency-Key header (None: without it)."""
    body = kwargs.pop("body", {"product_id": product})
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(CHECKOUT, body, headers=headers, **kwargs)


def assert_checkout(response: httpx.Response, statuses: set[int] | None = None) -> dict[str, Any]:
    """A checkout answer: 201 (or the given statuses), exactly {order_id, checkout_url, status}."""
    expected = statuses or {201}
    assert response.status_code in expected, f"{response.status_code}: {response.text[:500]}"
    data: dict[str, Any] = response.json()
    assert set(data) == CHECKOUT_FIELDS, data
    uuid.UUID(data["order_id"])
    assert data["checkout_url"].startswith("https://"), data
    assert_security_headers(response)
    assert "no-store" in response.headers.get("cache-control", "")
    return data


def buy(client: Browser, product: str = "pro-annual", key: str | None = None) -> dict[str, Any]:
    """A new pending order of the product (checkout with a fresh key)."""
    data = assert_checkout(checkout(client, key or new_key(), product))
    assert data["status"] == "pending", data
    return data


def assert_order(data: Any) -> None:
    """INJ-02: exactly the public order fields, the amount in minor units."""
    assert isinstance(data, dict) and set(data) == ORDER_FIELDS, data
    uuid.UUID(data["id"])
    assert isinstance(data["amount"], int) and not isinstance(data["amount"], bool), data
    assert data["status"] in {"pending", "paid", "failed", "cancelled", "refunded"}, data


def order_of(client: Browser, order_id: str) -> dict[str, Any]:
    response = client.get(f"{ORDERS}/{order_id}")
    assert response.status_code == 200, response.text
    assert_security_headers(response)
    assert "no-store" in response.headers.get("cache-control", "")
    data: dict[str, Any] = response.json()
    assert_order(data)
    return data


def status_of(client: Browser, order_id: str) -> str:
    status: str = order_of(client, order_id)["status"]
    return status


def list_orders(client: Browser, **params: Any) -> dict[str, Any]:
    response = client.get(ORDERS, params=params)
    assert response.status_code == 200, response.text
    assert_security_headers(response)
    assert "no-store" in response.headers.get("cache-control", "")
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "next_cursor"}, page
    for item in page["items"]:
        assert_order(item)
    return page


def order_ids(client: Browser) -> list[str]:
    return [o["id"] for o in list_orders(client, limit=100)["items"]]


# --- the audit log ---------------------------------------------------------------------------------


def audit(admin: Browser, action: str, order_id: str) -> list[dict[str, Any]]:
    """The audit entries of the action whose target is the order, newest first."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"action": action, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = admin.get(AUDIT_LOG, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        for entry in page["items"]:
            assert set(entry) == AUDIT_FIELDS, entry
            assert entry["action"] == action, entry
        found += [e for e in page["items"] if e["target"] == order_id]
        cursor = page["next_cursor"]
        if not cursor:
            return found
    raise AssertionError(f"the audit log of {action} did not end within 50 pages")


def audit_of_event(admin: Browser, action: str, event_id: str) -> list[dict[str, Any]]:
    """The audit entries of the action about one provider event (for events of no known order)."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"action": action, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = admin.get(AUDIT_LOG, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [e for e in page["items"] if e["detail"].get("event_id") == event_id]
        cursor = page["next_cursor"]
        if not cursor:
            return found
    raise AssertionError(f"the audit log of {action} did not end within 50 pages")


def event_audit(admin: Browser, order_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every webhook-event audit entry of the order, by action (empty actions left out)."""
    entries = {action: audit(admin, action, order_id) for action in EVENT_ACTIONS}
    return {action: found for action, found in entries.items() if found}


def assert_event_entry(
    entry: dict[str, Any], delivery: Delivery, from_status: str | None, **detail: str
) -> None:
    """An audit entry of a webhook event names the provider and the event (spec "Audit actions").

    Applied and refused events also name the order's status before the event
    (`from_status`); ignored events name only their reason (None here).
    """
    expected: dict[str, str] = {
        "provider": delivery.provider,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        **detail,
    }
    if from_status is not None:
        expected["from_status"] = from_status
    got = {key: entry["detail"].get(key) for key in expected}
    assert got == expected, entry
    assert entry["actor_id"] is None, f"a provider event has no user as actor: {entry}"


# --- the provider, as the tests play it ----------------------------------------------------------


@dataclass
class Provider:
    """The deployment's payment provider: its stubbed API, its signer and its webhook sender."""

    payments: Payments
    signer: Signer
    client: Browser
    new_browser: NewBrowser

    @property
    def name(self) -> str:
        return self.payments.provider

    @property
    def secret(self) -> str:
        return self.payments.webhook_secret

    def event(self, kind: Kind, order_id: str, **kwargs: Any) -> Delivery:
        """A delivery of the order, carrying the provider's reference from checkout."""
        kwargs.setdefault("reference", self.payments.stub.checkout_for(order_id).reference)
        return self.signer.event(kind, order_id, **kwargs)

    def send(
        self,
        delivery: Delivery,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        client: Browser | None = None,
    ) -> httpx.Response:
        """POST the delivery, signed (unless `headers` replaces the signed ones), without cookies."""
        sent = self.signer.headers(delivery, secret or self.secret, timestamp=timestamp)
        if headers is not None:
            sent = headers
        return (client or self.client).request(
            "POST",
            self.signer.path,
            content=delivery.body if body is None else body,
            headers=sent,
            csrf=False,
        )

    def deliver(self, kind: Kind, order_id: str, **kwargs: Any) -> Delivery:
        """Build, sign and send one event; the server must answer 200 {"received": true}."""
        delivery = self.event(kind, order_id, **kwargs)
        assert_received(self.send(delivery))
        return delivery


def assert_received(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == 200, f"{where}: {response.status_code} {response.text[:500]}"
    assert response.json() == RECEIVED, response.text
    assert_security_headers(response)


def assert_refused_signature(response: httpx.Response) -> None:
    assert_error(response, 400, "invalid_signature")


@pytest.fixture
def payments(deployment: Deployment) -> Payments:
    assert deployment.payments is not None, f"{deployment.target.id} serves no payments"
    return deployment.payments


@pytest.fixture
def provider(payments: Payments, new_browser: NewBrowser) -> Provider:
    return Provider(payments, signer_for(payments.provider), new_browser(), new_browser)


@pytest.fixture
def other(make_account: Make, sign_in: SignIn) -> Browser:
    """A second signed-in user."""
    return sign_in(make_account("other"))


# --- checkout ------------------------------------------------------------------------------------


def assert_provider_call(
    payments: Payments, request: StubRequest, order_id: str, product: str
) -> None:
    """What the server sent the provider for the order: the spec's call, the catalogue's price."""
    amount, currency = CATALOGUE[product]
    assert request.method == "POST"
    assert request.path.split("?")[0] == CHECKOUT_PATHS[payments.provider], request.path
    assert request.header("authorization") == f"Bearer {payments.api_key}"
    if payments.provider == "stripe":
        assert request.header("idempotency-key") == order_id, request.headers
        form = request.form()
        assert form.get("mode") == "payment", form
        assert form.get("client_reference_id") == order_id, form
        assert form.get("metadata[order_id]") == order_id, form
        assert form.get("payment_intent_data[metadata][order_id]") == order_id, form
        assert form.get("line_items[0][price_data][unit_amount]") == str(amount), form
        assert form.get("line_items[0][price_data][currency]") == currency.lower(), form
        assert form.get("line_items[0][price_data][product]"), form
    elif payments.provider == "paddle":
        body = request.json()
        assert body["custom_data"] == {"order_id": order_id}, body
        (item,) = body["items"]
        assert item["quantity"] == 1, item
        assert item["price"]["unit_price"] == {"amount": str(amount), "currency_code": currency}
        assert item["price"]["product_id"], item
    else:
        assert request.header("content-type") == "application/vnd.api+json", request.headers
        assert request.header("accept") == "application/vnd.api+json", request.headers
        data = request.json()["data"]
        assert data["type"] == "checkouts", data
        assert data["attributes"]["custom_price"] == amount, data
        assert data["attributes"]["checkout_data"]["custom"]["order_id"] == order_id, data
        store = data["relationships"]["store"]["data"]
        assert store == {"type": "stores", "id": payments.store_id}, store
        variant = data["relationships"]["variant"]["data"]
        assert variant["type"] == "variants" and variant["id"], variant


@pytest.mark.checklist("PAY-05", "PAY-03", "INJ-02")
@pytest.mark.parametrize("product", sorted(CATALOGUE))
def test_checkout_creates_a_pending_order_priced_from_the_catalogue(
    product: str, user: Browser, payments: Payments, admin: Browser
) -> None:
    created = buy(user, product)
    order_id = created["order_id"]
    assert created["checkout_url"] == payments.stub.checkout_for(order_id).url
    amount, currency = CATALOGUE[product]
    order = order_of(user, order_id)
    assert {k: order[k] for k in ("id", "product_id", "amount", "currency", "status")} == {
        "id": order_id,
        "product_id": product,
        "amount": amount,
        "currency": currency,
        "status": "pending",
    }
    (call,) = payments.stub.requests_for(order_id)
    assert_provider_call(payments, call, order_id, product)
    (entry,) = audit(admin, "checkout_created", order_id)
    assert entry["actor_id"] == user.me_account.id, entry


@pytest.mark.checklist("PAY-03")
def test_the_same_key_and_body_return_the_same_order(user: Browser, payments: Payments) -> None:
    key = new_key()
    first = buy(user, key=key)
    again = assert_checkout(checkout(user, key), {200, 201})
    assert again == first
    assert order_ids(user) == [first["order_id"]]
    if payments.provider == "stripe":
        keys = {r.header("idempotency-key") for r in payments.stub.requests_for(first["order_id"])}
        assert keys == {first["order_id"]}, "Stripe gets the order id as its idempotency key"


@pytest.mark.checklist("PAY-03", "ERR-01")
def test_the_same_key_with_another_product_is_a_409_conflict(user: Browser) -> None:
    key = new_key()
    first = buy(user, "pro-annual", key=key)
    assert_error(checkout(user, key, "team-annual"), 409, "conflict")
    assert order_ids(user) == [first["order_id"]]
    assert order_of(user, first["order_id"])["product_id"] == "pro-annual"


@pytest.mark.checklist("PAY-03", "VAL-01")
def test_idempotency_keys_must_be_8_to_128_printable_characters(
    user: Browser, payments: Payments
) -> None:
    calls = len(payments.stub.requests)
    for key in (None, "", "k" * 7, "k" * 129, "has space-1234"):
        assert_error(checkout(user, key), 422, "validation_error")
    assert order_ids(user) == [], "a refused checkout created an order"
    assert len(payments.stub.requests) == calls, "a refused checkout reached the provider"
    shortest, longest = buy(user, key="k" * 8), buy(user, key="K" * 128)
    assert shortest["order_id"] != longest["order_id"]


@pytest.mark.checklist("PAY-05", "AUTHZ-04", "VAL-01")
def test_checkout_refuses_a_client_chosen_amount_status_or_currency(
    user: Browser, payments: Payments
) -> None:
    calls = len(payments.stub.requests)
    for extra in ({"amount": 1}, {"status": "paid"}, {"currency": "USD"}, {"order_id": "x"}):
        body = {"product_id": "pro-annual", **extra}
        assert_error(checkout(user, new_key(), body=body), 422, "validation_error")
    assert order_ids(user) == []
    assert len(payments.stub.requests) == calls, "a refused checkout reached the provider"


@pytest.mark.checklist("PAY-05", "VAL-01")
def test_unknown_products_are_422(user: Browser, payments: Payments) -> None:
    calls = len(payments.stub.requests)
    bodies: list[Any] = [
        {"product_id": "free-forever"},
        {"product_id": "PRO-ANNUAL"},
        {"product_id": ""},
        {"product_id": 1},
        {},
    ]
    for body in bodies:
        assert_error(checkout(user, new_key(), body=body), 422, "validation_error")
    assert order_ids(user) == []
    assert len(payments.stub.requests) == calls


@pytest.mark.checklist("PAY-03", "AUTHZ-03")
def test_idempotency_keys_are_per_user(user: Browser, other: Browser) -> None:
    key = new_key()
    mine = buy(user, key=key)
    theirs = buy(other, key=key)
    assert theirs["order_id"] != mine["order_id"]
    assert order_ids(user) == [mine["order_id"]]
    assert order_ids(other) == [theirs["order_id"]]


@pytest.mark.checklist("PAY-02", "AUTHZ-01")
def test_checkout_needs_a_session(browser: Browser, payments: Payments) -> None:
    calls = len(payments.stub.requests)
    assert_error(checkout(browser, new_key()), 401, "not_authenticated")
    assert len(payments.stub.requests) == calls


@pytest.mark.checklist("PAY-02", "AUTH-08")
def test_checkout_without_csrf_is_refused_and_creates_nothing(
    user: Browser, payments: Payments
) -> None:
    calls = len(payments.stub.requests)
    assert_error(checkout(user, new_key(), csrf=False), 403, "csrf_failed")
    wrong = {"X-CSRFToken": secrets.token_urlsafe(32), "Idempotency-Key": new_key()}
    response = user.post(CHECKOUT, {"product_id": "pro-annual"}, headers=wrong, csrf=False)
    assert_error(response, 403, "csrf_failed")
    assert order_ids(user) == []
    assert len(payments.stub.requests) == calls


@pytest.mark.checklist("PAY-03", "RATE-01", "RATE-02")
def test_checkout_is_limited_to_10_a_minute_per_user(make_account: Make, sign_in: SignIn) -> None:
    client = sign_in(make_account("buyer"), keep_alive=False)  # spread over both workers
    for _ in range(CHECKOUT_LIMIT):
        assert_checkout(checkout(client, new_key()))
    assert_rate_limited(checkout(client, new_key()), 60)
    assert len(order_ids(client)) == CHECKOUT_LIMIT
    # Per user: another user at the same address is not limited.
    neighbour = sign_in(make_account("neighbour"), ip=client.ip)
    assert_checkout(checkout(neighbour, new_key()))


@pytest.mark.checklist("PAY-03", "ERR-01")
@pytest.mark.parametrize("failure", ["error", "unreachable"])
def test_a_provider_failure_is_a_502_and_the_same_key_completes_the_order(
    failure: Failure, user: Browser, payments: Payments
) -> None:
    key = new_key()
    with payments.stub.failing(failure):
        failed = checkout(user, key)
    assert_error(failed, 502, "payment_provider_error")
    for secret in (payments.api_key, payments.webhook_secret, payments.stub.url):
        assert secret not in failed.text, "the 502 leaks the provider's settings"
    pending = list_orders(user)["items"]
    assert [o["status"] for o in pending] == ["pending"], pending
    order_id = pending[0]["id"]
    assert payments.stub.requests_for(order_id), "the provider was never asked"
    retried = assert_checkout(checkout(user, key), {200, 201})
    assert retried["order_id"] == order_id
    assert retried["status"] == "pending"
    assert retried["checkout_url"] == payments.stub.checkout_for(order_id).url
    assert order_ids(user) == [order_id]
    if payments.provider == "stripe":
        keys = {r.header("idempotency-key") for r in payments.stub.requests_for(order_id)}
        assert keys == {order_id}, "every attempt passes the same idempotency key to Stripe"


# --- orders --------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTHZ-03", "DB-01", "PAY-05", "VAL-02")
def test_orders_list_only_the_users_own_newest_first_in_pages(
    user: Browser, other: Browser
) -> None:
    older = buy(user, "pro-annual")["order_id"]
    newer = buy(user, "team-annual")["order_id"]
    foreign = buy(other)["order_id"]
    items = list_orders(user)["items"]
    assert [o["id"] for o in items] == [newer, older]
    for item, product in zip(items, ("team-annual", "pro-annual"), strict=True):
        assert (item["product_id"], item["amount"], item["currency"]) == (
            product,
            *CATALOGUE[product],
        )
    first = list_orders(user, limit=1)
    assert [o["id"] for o in first["items"]] == [newer] and first["next_cursor"]
    second = list_orders(user, limit=1, cursor=first["next_cursor"])
    assert [o["id"] for o in second["items"]] == [older]
    assert second["next_cursor"] is None
    assert order_ids(other) == [foreign]
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "not a cursor!"}):
        assert_error(user.get(ORDERS, params=params), 422, "validation_error")


@pytest.mark.checklist("AUTHZ-03", "ERR-01", "PAY-02")
def test_another_users_order_is_404_exactly_like_an_unknown_one(
    user: Browser, other: Browser
) -> None:
    order_id = buy(user)["order_id"]
    headers = {"X-Request-ID": "order-404"}
    theirs = other.get(f"{ORDERS}/{order_id}", headers=headers)
    absent = other.get(f"{ORDERS}/{uuid.uuid4()}", headers=headers)
    assert_error(theirs, 404, "not_found")
    assert_error(absent, 404, "not_found")
    assert theirs.content == absent.content, "a foreign order must look missing"
    for bad in ("1", "abc", "' or 1=1 --"):
        assert_error(user.get(f"{ORDERS}/{bad}"), 422, "validation_error")
    assert order_of(user, order_id)["status"] == "pending"


@pytest.mark.checklist("PAY-02", "AUTHZ-04")
def test_the_client_cannot_mark_an_order_paid(user: Browser, provider: Provider) -> None:
    order_id = buy(user)["order_id"]
    path = f"{ORDERS}/{order_id}"
    for method in ("PATCH", "PUT", "DELETE", "POST"):
        response = user.request(method, path, json_body={"status": "paid"})
        assert_error(response, 405)
    assert_error(user.request("POST", ORDERS, json_body={"status": "paid"}), 405)
    body = {"product_id": "pro-annual", "status": "paid"}
    assert_error(checkout(user, new_key(), body=body), 422, "validation_error")
    # A paid event the user sends without the provider's signature, with session and CSRF.
    forged = provider.event("paid", order_id)
    response = user.request(
        "POST",
        provider.signer.path,
        content=forged.body,
        headers={"Content-Type": "application/json"},
    )
    assert_refused_signature(response)
    assert status_of(user, order_id) == "pending"


# --- webhooks: signatures -------------------------------------------------------------------------


@pytest.mark.checklist("PAY-01", "PAY-02", "PAY-05")
def test_a_signed_paid_event_marks_the_order_paid(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    key = new_key()
    order_id = buy(user, key=key)["order_id"]
    delivery = provider.deliver("paid", order_id)
    assert status_of(user, order_id) == "paid"
    entries = event_audit(admin, order_id)
    assert set(entries) == {"order_paid"}, entries
    (entry,) = entries["order_paid"]
    assert_event_entry(entry, delivery, "pending")
    # The checkout answer for the same key now tells the order's current status.
    again = assert_checkout(checkout(user, key), {200, 201})
    assert (again["order_id"], again["status"]) == (order_id, "paid")


@pytest.mark.checklist("PAY-01")
def test_a_body_changed_by_one_byte_is_refused(user: Browser, provider: Provider) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    signed = provider.signer.headers(delivery, provider.secret)
    amount = str(CATALOGUE["pro-annual"][0]).encode()
    assert delivery.body.count(amount) >= 1
    altered = [
        delivery.body.replace(amount, amount[:-1] + b"1", 1),  # one digit of the amount
        delivery.body + b" ",  # the same JSON, other bytes
        delivery.body[:-1] + b" }",  # one byte inside the JSON
    ]
    for body in altered:
        assert_refused_signature(provider.send(delivery, body=body, headers=signed))
    assert status_of(user, order_id) == "pending"
    # The refused deliveries recorded nothing: the genuine one is still new.
    assert_received(provider.send(delivery))
    assert status_of(user, order_id) == "paid"


@pytest.mark.checklist("PAY-01")
def test_a_missing_malformed_or_wrongly_keyed_signature_is_refused(
    user: Browser, provider: Provider
) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    signer, header = provider.signer, provider.signer.header
    good = signer.signature(delivery.body, provider.secret, delivery.timestamp)
    other_body = provider.event("paid", order_id).body
    json_only = {"Content-Type": "application/json"}
    attempts: list[dict[str, str]] = [
        json_only,
        {**json_only, header: ""},
        {**json_only, header: "nonsense"},
        {
            **json_only,
            header: signer.signature(delivery.body, "not-the-secret", delivery.timestamp),
        },
        {**json_only, header: signer.signature(other_body, provider.secret, delivery.timestamp)},
    ]
    if signer.timestamped:
        # The timestamp is signed: moving it by one second breaks the signature.
        moved = signer.signature(delivery.body, provider.secret, delivery.timestamp).replace(
            f"={delivery.timestamp}", f"={delivery.timestamp + 1}", 1
        )
        attempts.append({**json_only, header: moved})
        # The signature without its timestamp.
        attempts.append({**json_only, header: re.sub(r"^ts?=\d+[,;]", "", good)})
    for headers in attempts:
        assert_refused_signature(provider.send(delivery, headers=headers))
    assert status_of(user, order_id) == "pending"
    if provider.name == "paddle":
        # While a secret rotates Paddle sends one h1 per secret: any matching one will do.
        wrong = signer.signature(delivery.body, "the-old-secret", delivery.timestamp)
        both = f"{wrong};{good.split(';', 1)[1]}"
        assert_received(provider.send(delivery, headers={**json_only, header: both}))
    else:
        assert_received(provider.send(delivery))
    assert status_of(user, order_id) == "paid"


# Only for schemes that sign a timestamp: Lemon Squeezy signs none, and
# test_a_replayed_delivery_changes_nothing covers its replays.
@pytest.mark.timestamped_signatures
@pytest.mark.checklist("PAY-01")
def test_a_signature_older_than_five_minutes_is_refused(user: Browser, provider: Provider) -> None:
    order_id = buy(user)["order_id"]
    stale_at = now() - TOLERANCE - 60
    stale = provider.event("paid", order_id, at=stale_at)
    assert_refused_signature(provider.send(stale))
    fresh = provider.event("paid", order_id)
    assert_refused_signature(provider.send(fresh, timestamp=stale_at))
    if provider.name == "stripe":  # "older or further in the future" (spec)
        assert_refused_signature(provider.send(fresh, timestamp=now() + TOLERANCE + 60))
    assert status_of(user, order_id) == "pending"
    # The same event signed now, within the tolerance, is accepted.
    assert_received(provider.send(stale, timestamp=now() - 30))
    assert status_of(user, order_id) == "paid"


@pytest.mark.checklist("PAY-01", "AUTHZ-01")
def test_only_the_chosen_providers_webhook_route_exists(user: Browser, provider: Provider) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    for name in PROVIDERS:
        if name == provider.name:
            continue
        headers = provider.signer.headers(delivery, provider.secret)
        response = provider.client.request(
            "POST", f"/api/webhooks/{name}", content=delivery.body, headers=headers, csrf=False
        )
        assert_error(response, 404, "not_found")
    assert status_of(user, order_id) == "pending"


@pytest.mark.checklist("PAY-01", "VAL-04")
def test_an_oversized_delivery_is_413_and_changes_nothing(
    user: Browser, provider: Provider
) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    padded = json.loads(delivery.body)
    padded["padding"] = "x" * (1024 * 1024)
    big = dataclasses.replace(delivery, body=json.dumps(padded).encode())
    assert_error(provider.send(big), 413, "payload_too_large")
    assert status_of(user, order_id) == "pending"
    assert_received(provider.send(delivery))
    assert status_of(user, order_id) == "paid"


# --- webhooks: duplicates and replays --------------------------------------------------------------


@pytest.mark.checklist("PAY-03", "PAY-05")
def test_one_delivery_sent_four_times_at_once_is_processed_once(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    headers = provider.signer.headers(delivery, provider.secret)
    senders = [provider.new_browser(ip=provider.client.ip, keep_alive=False) for _ in range(4)]
    start = threading.Barrier(len(senders))
    answers: list[httpx.Response | BaseException] = [RuntimeError("not sent")] * len(senders)

    def send(index: int) -> None:
        start.wait(10)
        try:
            answers[index] = provider.send(delivery, headers=headers, client=senders[index])
        except BaseException as error:  # reported below
            answers[index] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for answer in answers:
        assert isinstance(answer, httpx.Response), repr(answer)
        assert_received(answer)
    assert status_of(user, order_id) == "paid"
    entries = event_audit(admin, order_id)
    assert set(entries) == {"order_paid"} and len(entries["order_paid"]) == 1, entries
    assert_event_entry(entries["order_paid"][0], delivery, "pending")


@pytest.mark.checklist("PAY-03", "PAY-01", "PAY-04")
def test_a_replayed_delivery_changes_nothing(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    """Replayed later, after the order moved on, a delivery is a 200 that changes nothing.

    For Lemon Squeezy, whose signature has no timestamp, this is the replay protection.
    """
    order_id = buy(user)["order_id"]
    paid = provider.event("paid", order_id)
    paid_headers = provider.signer.headers(paid, provider.secret)
    assert_received(provider.send(paid, headers=paid_headers))
    refunded = provider.deliver("refunded", order_id)
    assert status_of(user, order_id) == "refunded"
    replayer = provider.new_browser()  # from elsewhere, a while later
    assert_received(provider.send(paid, headers=paid_headers, client=replayer))
    # Signed anew, as the provider does when it retries: still the same event.
    assert_received(provider.send(paid, timestamp=now(), client=replayer))
    assert status_of(user, order_id) == "refunded"
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {"order_paid": 1, "order_refunded": 1}
    assert_event_entry(entries["order_paid"][0], paid, "pending")
    assert_event_entry(entries["order_refunded"][0], refunded, "paid")


# --- webhooks: the order state machine -------------------------------------------------------------


@pytest.mark.checklist("PAY-04", "PAY-05")
def test_a_refund_before_payment_is_refused_and_audited(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    refund = provider.deliver("refunded", order_id)
    assert status_of(user, order_id) == "pending"
    entries = event_audit(admin, order_id)
    assert set(entries) == {"payment_transition_refused"}, entries
    (entry,) = entries["payment_transition_refused"]
    assert_event_entry(entry, refund, "pending", to_status="refunded")


@pytest.mark.checklist("PAY-04", "PAY-05")
def test_a_closed_order_cannot_become_paid(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    closing = provider.signer.closing_kind
    closed = CLOSED_STATUS[closing]
    order_id = buy(user)["order_id"]
    close = provider.deliver(closing, order_id)
    assert status_of(user, order_id) == closed
    paid = provider.deliver("paid", order_id)
    assert status_of(user, order_id) == closed
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {
        f"order_{closed}": 1,
        "payment_transition_refused": 1,
    }, entries
    assert_event_entry(entries[f"order_{closed}"][0], close, "pending")
    assert_event_entry(entries["payment_transition_refused"][0], paid, closed, to_status="paid")


@pytest.mark.checklist("PAY-04", "PAY-05")
def test_a_paid_event_with_another_amount_or_currency_is_refused(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    amount, currency = CATALOGUE["pro-annual"]
    cheaper = provider.deliver("paid", order_id, amount=amount - 100)
    foreign = provider.deliver("paid", order_id, currency="USD")
    assert status_of(user, order_id) == "pending"
    paid = provider.deliver("paid", order_id, amount=amount, currency=currency)
    assert status_of(user, order_id) == "paid"
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {
        "payment_transition_refused": 2,
        "order_paid": 1,
    }, entries
    refused = {e["detail"].get("event_id"): e for e in entries["payment_transition_refused"]}
    for delivery in (cheaper, foreign):
        assert delivery.event_id in refused, refused
        assert_event_entry(
            refused[delivery.event_id],
            delivery,
            "pending",
            to_status="paid",
            reason="amount_mismatch",
        )
    assert_event_entry(entries["order_paid"][0], paid, "pending")


@pytest.mark.checklist("PAY-04", "PAY-05")
def test_a_paid_order_is_refunded_once_and_never_paid_again(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    provider.deliver("paid", order_id)
    refunded = provider.deliver("refunded", order_id)
    assert status_of(user, order_id) == "refunded"
    again = provider.deliver("refunded", order_id)  # a new event: refunded -> refunded
    repaid = provider.deliver("paid", order_id)
    assert status_of(user, order_id) == "refunded"
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {
        "order_paid": 1,
        "order_refunded": 1,
        "payment_transition_refused": 2,
    }, entries
    assert_event_entry(entries["order_refunded"][0], refunded, "paid")
    refused = {e["detail"].get("event_id"): e for e in entries["payment_transition_refused"]}
    assert_event_entry(refused[again.event_id], again, "refunded", to_status="refunded")
    assert_event_entry(refused[repaid.event_id], repaid, "refunded", to_status="paid")


@pytest.mark.checklist("PAY-04", "PAY-05")
def test_a_partial_refund_leaves_the_order_paid(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    provider.deliver("paid", order_id)
    partial = provider.deliver("partial_refund", order_id)
    assert status_of(user, order_id) == "paid"
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {
        "order_paid": 1,
        "payment_event_ignored": 1,
    }, entries
    assert_event_entry(entries["payment_event_ignored"][0], partial, None, reason="partial_refund")


@pytest.mark.checklist("PAY-05", "PAY-04")
def test_events_that_move_no_order_are_received_and_audited_as_ignored(
    user: Browser, provider: Provider, admin: Browser
) -> None:
    order_id = buy(user)["order_id"]
    unhandled = provider.deliver("unhandled", order_id)
    ignored = [unhandled]
    if provider.name == "paddle":  # the customer may still pay: not final (spec)
        ignored.append(provider.deliver("failed", order_id))
    assert status_of(user, order_id) == "pending"
    entries = event_audit(admin, order_id)
    assert {a: len(e) for a, e in entries.items()} == {"payment_event_ignored": len(ignored)}
    by_event = {e["detail"].get("event_id"): e for e in entries["payment_event_ignored"]}
    for delivery in ignored:
        assert_event_entry(by_event[delivery.event_id], delivery, None, reason="not_handled")
    # A paid event about an order this server never created.
    stranger = str(uuid.uuid4())
    unknown = provider.signer.event("paid", stranger, reference=f"unknown-{secrets.token_hex(8)}")
    assert_received(provider.send(unknown))
    (entry,) = audit_of_event(admin, "payment_event_ignored", unknown.event_id)
    assert_event_entry(entry, unknown, None, reason="unknown_order")
    assert entry["target"] is None, entry


# --- secrets ----------------------------------------------------------------------------------------


@pytest.mark.checklist("ERR-02", "PAY-01")
def test_payment_secrets_never_reach_the_log_or_a_response(
    user: Browser, provider: Provider, deployment: Deployment
) -> None:
    order_id = buy(user)["order_id"]
    delivery = provider.event("paid", order_id)
    wrong = provider.send(delivery, secret="wrong-" + provider.secret)
    assert_refused_signature(wrong)
    right = provider.send(delivery)
    assert_received(right)
    for response in (wrong, right):
        assert provider.secret not in response.text
    log = deployment.server.log_file.read_text(encoding="utf-8", errors="replace")
    for secret in (provider.payments.api_key, provider.secret):
        assert secret not in log, "the server log holds a payment secret"
