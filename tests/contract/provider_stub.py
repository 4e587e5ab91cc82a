"""A stand-in for the payment provider's API: a small threaded HTTP server on loopback.

The production server is started with PAYMENT_API_URL pointing here (plain
http, which the production guard allows only to a loopback address). The stub
answers the one outbound call of the spec, checkout creation, the way the real
provider does, and records every request as it arrived (method, path, headers,
raw body), so that tests can check what the server sent: the idempotency key,
the amount taken from the catalogue, the order id in the metadata.

`stub.failing("error")` makes it answer 500 and `stub.failing("unreachable")`
makes it close connections without answering, until the block ends.

Nothing here imports the generated code or a provider SDK.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl

HOST = "127.0.0.1"
PROVIDERS = ("stripe", "paddle", "lemonsqueezy")
# The path of the checkout-creation call of each provider (relative to PAYMENT_API_URL).
CHECKOUT_PATHS: dict[str, str] = {
    "stripe": "/v1/checkout/sessions",
    "paddle": "/transactions",
    "lemonsqueezy": "/v1/checkouts",
}
Failure = Literal["error", "unreachable"]


@dataclass(frozen=True)
class StubRequest:
    """One request the server sent to the provider, exactly as it arrived."""

    method: str
    path: str
    headers: dict[str, str]  # names lowercased
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body (Stripe) as a flat dict of its bracketed keys."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass(frozen=True)
class Checkout:
    """What the stub answered for one order: the provider's reference and checkout URL."""

    order_id: str
    reference: str
    url: str


def order_id_of(provider: str, request: StubRequest) -> str | None:
    """The order id the server put into a checkout-creation call, where the spec says it goes."""
    try:
        if provider == "stripe":
            return request.form().get("client_reference_id")
        data = request.json()
        if provider == "paddle":
            value = data["custom_data"]["order_id"]
        else:
            value = data["data"]["attributes"]["checkout_data"]["custom"]["order_id"]
        return str(value)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def _answer(provider: str, order_id: str | None) -> tuple[int, dict[str, Any], Checkout | None]:
    """The provider's success answer to a checkout-creation call (spec, "Provider outbound calls")."""
    if provider == "stripe":
        session = "cs_test_" + secrets.token_hex(24)
        url = f"https://checkout.stripe.com/c/pay/{session}"
        body: dict[str, Any] = {
            "id": session,
            "object": "checkout.session",
            "url": url,
            "payment_intent": None,
        }
        status, reference = 200, session
    elif provider == "paddle":
        reference = "txn_" + secrets.token_hex(13)
        url = f"https://pay.paddle.io/hsc_{secrets.token_hex(16)}?_ptxn={reference}"
        body = {
            "data": {"id": reference, "checkout": {"url": url}},
            "meta": {"request_id": str(uuid.uuid4())},
        }
        status = 201
    else:
        reference = str(uuid.uuid4())
        url = f"https://contract-test.lemonsqueezy.com/checkout/custom/{reference}"
        body = {"data": {"type": "checkouts", "id": reference, "attributes": {"url": url}}}
        status = 201
    checkout = Checkout(order_id, reference, url) if order_id else None
    return status, body, checkout


def _error(provider: str) -> dict[str, Any]:
    """The provider's shape of a 500 answer."""
    if provider == "stripe":
        return {"error": {"type": "api_error", "message": "The stub is down on purpose."}}
    if provider == "paddle":
        return {
            "error": {"type": "api_error", "code": "internal_error", "detail": "stub down"},
            "meta": {"request_id": str(uuid.uuid4())},
        }
    return {"errors": [{"status": "500", "title": "Internal Server Error"}]}


class ProviderStub:
    """The provider's API on 127.0.0.1, recording what it receives."""

    def __init__(self, provider: str) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"no stub for payment provider {provider!r}")
        self.provider = provider
        self._lock = threading.Lock()
        self._requests: list[StubRequest] = []
        self._checkouts: dict[str, Checkout] = {}
        # Stripe replays the first answer to a repeated Idempotency-Key; so does the stub.
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self._failure: Failure | None = None
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{provider}-stub", daemon=True
        )

    @property
    def url(self) -> str:
        """PAYMENT_API_URL of the deployment."""
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a loop that never started otherwise
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    # --- what tests read -------------------------------------------------------------------

    @property
    def requests(self) -> list[StubRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, order_id: str) -> list[StubRequest]:
        """The checkout-creation calls that carried this order id."""
        return [r for r in self.requests if order_id_of(self.provider, r) == order_id]

    def checkout_for(self, order_id: str) -> Checkout:
        """The stub's last successful answer for the order (its reference and checkout URL)."""
        with self._lock:
            found = self._checkouts.get(order_id)
        assert found is not None, f"the provider stub created no checkout for order {order_id}"
        return found

    @contextlib.contextmanager
    def failing(self, failure: Failure) -> Iterator[None]:
        """Answer 500 ("error") or drop every connection unanswered ("unreachable") meanwhile."""
        with self._lock:
            self._failure = failure
        try:
            yield
        finally:
            with self._lock:
                self._failure = None

    # --- serving ------------------------------------------------------------------------

    def _handle(self, request: StubRequest) -> tuple[int, dict[str, Any]] | None:
        """The status and JSON body to answer, or None to close the connection unanswered."""
        with self._lock:
            self._requests.append(request)
            failure = self._failure
        if failure == "unreachable":
            return None
        if failure == "error":
            return 500, _error(self.provider)
        if request.method != "POST" or request.path.split("?")[0] != CHECKOUT_PATHS[self.provider]:
            return 404, {"error": {"type": "invalid_request_error", "message": "no such route"}}
        key = request.header("idempotency-key") if self.provider == "stripe" else None
        with self._lock:
            if key is not None and key in self._idempotent:
                return self._idempotent[key]
        order_id = order_id_of(self.provider, request)
        status, body, checkout = _answer(self.provider, order_id)
        with self._lock:
            if checkout is not None:
                self._checkouts[checkout.order_id] = checkout
            if key is not None:
                self._idempotent[key] = (status, body)
        return status, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self) -> None:
                request = StubRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self._read_body(),
                )
                answer = stub._handle(request)
                if answer is None:
                    self.close_connection = True
                    return
                status, body = answer
                payload = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if stub.provider == "stripe":
                    self.send_header("Request-Id", "req_" + secrets.token_hex(7))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the recorded requests are the log

        return Handler
