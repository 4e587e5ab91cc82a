"""The outermost layer of every request: ids, headers, host check, body limit, last-resort errors.

Written as plain ASGI rather than `BaseHTTPMiddleware` so that it costs little
and sees every response, including the ones Starlette produces itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..security.errors import envelope
from ..security.headers import STACK_HEADERS, security_headers
from ..security.hosts import host_allowed
from ..security.request_id import request_id_from
from .logging import get_logger

log = get_logger(__name__)

BodyLimit = Callable[[Scope], int]


def error_response(
    status: int, request_id: str, code: str | None = None, message: str | None = None
) -> JSONResponse:
    return JSONResponse(
        envelope(status, request_id, code=code, message=message), status_code=status
    )


class SecurityMiddleware:
    """Adds the request id and security headers to every response and enforces limits.

    - `X-Request-ID`: the client's sane id or a fresh one, also bound to every log line.
    - Host allowlist: an unknown Host is refused before routing (SRV-04).
    - Body limit: a declared Content-Length over the limit is refused before the
      body is read; a body without (or lying about) its length is counted while
      it streams and refused as soon as it passes the limit (VAL-04).
    - An exception nothing else handled becomes a 500 envelope; its text is
      logged, never sent (ERR-01).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: list[str],
        production: bool,
        body_limit: BodyLimit,
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(production=production)
        ]
        # Ours replace any the app set; the stack-naming ones are dropped.
        self.replaced = frozenset(name for name, _ in self.headers) | {
            b"x-request-id",
            *(name.encode("latin-1") for name in STACK_HEADERS),
        }
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_headers = Headers(scope=scope)
        request_id = request_id_from(request_headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        # Inner layers that only see headers (CORS preflight) read the effective id.
        scope["headers"] = [
            *(item for item in scope["headers"] if item[0] != b"x-request-id"),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [
                    *(item for item in message["headers"] if item[0] not in self.replaced),
                    *self.headers,
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            early = self._refuse_early(scope, request_headers, request_id)
            if early is not None:
                await early(scope, receive, send_with_headers)
                return
            limited_receive = self._limited_receive(receive, self.body_limit(scope))
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if not response_started:
                await error_response(500, request_id)(scope, receive, send_with_headers)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=(scope.get("client") or ("-",))[0],
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _refuse_early(self, scope: Scope, headers: Headers, request_id: str) -> Response | None:
        if not host_allowed(headers.get("host"), self.allowed_hosts):
            return error_response(
                400, request_id, code="invalid_host", message="The Host header is not allowed."
            )
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return error_response(400, request_id, message="Invalid Content-Length header.")
            if int(declared) > self.body_limit(scope):
                return error_response(413, request_id)
        return None

    @staticmethod
    def _limited_receive(receive: Receive, limit: int) -> Receive:
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPException from body parsing unchanged,
                    # so this reaches the error handlers as a 413 envelope.
                    raise HTTPException(status_code=413)
            return message

        return limited


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered in the error envelope."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        return JSONResponse(
            envelope(
                400,
                request_headers.get("x-request-id", ""),
                code="cors_refused",
                message="This cross-origin request is not allowed.",
            ),
            status_code=400,
            headers={"Vary": "Origin"},
        )
