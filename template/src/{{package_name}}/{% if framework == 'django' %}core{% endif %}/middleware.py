"""The outermost layers of every request: ids, headers, host check, body limit, CORS, errors.

`SecurityMiddleware` comes first in MIDDLEWARE, so it sees every response,
including the ones Django makes itself (404 of an unknown path, 405, 500).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import time
from collections.abc import Callable
from functools import partial
from io import BytesIO
from typing import Any

import structlog
from django.conf import settings as django_settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, QueryDict
from django.utils.cache import patch_vary_headers
from ninja.operation import PathView

from ..security.headers import STACK_HEADERS, security_headers
from ..security.hosts import host_allowed
from ..security.request_id import request_id_from
from .conf import app_settings
from .context import REQUEST_ID_ATTRIBUTE, client_ip
from .events import report_refusal
from .logging import get_logger
from .responses import error_code_of, error_response

log = get_logger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponseBase]

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("content-type", "x-csrftoken", "x-request-id", "idempotency-key")
CORS_EXPOSED = "X-Request-ID, Retry-After"
CORS_MAX_AGE = "600"
READ_CHUNK = 64 * 1024


# After a 413, the rest of the refused body is read and dropped (at most this much,
# for at most this long), so that the connection can carry the client's next request.
DRAIN_MAX_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 5.0


class BodyTooLargeError(Exception):
    """The body passed the limit while it was read."""


def drain(stream: Any, sock: Any) -> None:
    """Read and drop what is left of a request body, within DRAIN_MAX_BYTES and DRAIN_SECONDS.

    Gunicorn keeps a connection alive after a response only when the body
    was read to its end, and gives up after 64 KiB; a client that sent its 2
    MiB would find its next request cut off. This runs once the 413 is sent,
    so a client that waits for the answer before sending gets it at once.
    """
    previous = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    try:
        if sock is not None:
            sock.settimeout(DRAIN_SECONDS)
        while drained < DRAIN_MAX_BYTES and time.monotonic() < deadline:
            chunk = stream.read(READ_CHUNK)
            if not chunk:
                break
            drained += len(chunk)
    except (OSError, ValueError):
        return  # the client left, or the stream is closed: the server closes the connection
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)


class BodyRefusedResponse(JsonResponse):
    """The 413 envelope, which drains the refused body after it has been sent."""

    def __init__(
        self, *args: Any, body_stream: Any = None, sock: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.body_stream = body_stream
        self.sock = sock

    def close(self) -> None:
        if self.body_stream is not None:
            drain(self.body_stream, self.sock)
            self.body_stream = None
        super().close()


def too_large(request: HttpRequest) -> HttpResponseBase:
    return error_response(
        request,
        413,
        response_class=partial(
            BodyRefusedResponse,
            body_stream=request.META.get("wsgi.input"),
            sock=request.META.get("gunicorn.socket"),
        ),
    )


def envelope_code(response: HttpResponseBase) -> str | None:
    """The code of an error response in the envelope, or None when it is anything else."""
    if (code := error_code_of(response)) is not None:
        return code
    if not isinstance(response, HttpResponse):
        return None
    if not str(response.get("Content-Type", "")).startswith("application/json"):
        return None
    try:
        body = json.loads(response.content)
        code = body["error"]["code"]
    except (ValueError, TypeError, KeyError):
        return None
    return code if isinstance(code, str) and set(body) == {"error"} else None


class SecurityMiddleware:
    """Adds the request id and security headers to every response and enforces limits.

    - `X-Request-ID`: the client's sane id or a fresh one, also bound to every log line.
    - Host allowlist: an unknown Host is refused before routing (SRV-04).
    - Body limit (VAL-04): a declared Content-Length over the limit is refused
      before the body is read; a chunked body without a length is read up to
      the limit and refused as soon as it passes it. A body longer than a
      false, small Content-Length is never read past that length (WSGI).
      The POST routes of STREAMED_BODY_LIMITS (a file's route) have their own,
      larger limit and read their body themselves, as a stream: it is left
      unread here, and their view counts it as it reads.
    - An error response that Django or a library made itself (404, 405, 500
      ...) is replaced by the envelope of its status: nothing of it leaks (ERR-01).
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        settings = app_settings()
        self.allowed_hosts = settings.allowed_hosts
        self.body_limit = settings.max_json_body_bytes
        # Built by config/settings/base.py at run time, so django-stubs cannot see it.
        limits = getattr(django_settings, "STREAMED_BODY_LIMITS", {})
        self.streamed_limits: dict[str, int] = dict(limits)
        self.headers = security_headers(production=settings.is_production)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        setattr(request, REQUEST_ID_ATTRIBUTE, request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        response: HttpResponseBase | None = None
        try:
            try:
                streamed_limit = self._streamed_limit(request)
                response = self._refuse_early(request, streamed_limit)
                if response is None and streamed_limit is None:
                    self._read_body(request)
                elif response is None:
                    self._leave_body_unread(request)
            except OSError:  # the client went away or broke off its body mid-way
                log.info("request_body_unreadable", path=request.path)
                response = error_response(request, 400, message="The request body is incomplete.")
            if response is None:
                response = self.get_response(request)
            if response.status_code >= 400:
                code = envelope_code(response)
                if code is None:
                    response = self._envelope_of(request, response)
                    code = error_code_of(response) or ""
                report_refusal(request, response.status_code, code)
            self._add_headers(response, request_id)
            return response
        finally:
            log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code if response is not None else 500,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=client_ip(request),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _streamed_limit(self, request: HttpRequest) -> int | None:
        """The body limit of a route that streams its own body; None for every other route."""
        if request.method != "POST":
            return None
        return self.streamed_limits.get(request.path)

    def _refuse_early(
        self, request: HttpRequest, streamed_limit: int | None
    ) -> HttpResponseBase | None:
        if not host_allowed(request.META.get("HTTP_HOST"), self.allowed_hosts):
            return error_response(
                request, 400, code="invalid_host", message="The Host header is not allowed."
            )
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            if not str(declared).isdigit():
                return error_response(request, 400, message="Invalid Content-Length header.")
            if int(declared) > (streamed_limit or self.body_limit):
                return too_large(request)
        elif streamed_limit is not None:
            return None  # the view reads (and counts) a chunked body itself
        elif "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower():
            try:
                self._buffer_chunked_body(request)
            except BodyTooLargeError:
                return too_large(request)
        return None

    @staticmethod
    def _read_body(request: HttpRequest) -> None:
        """Keep the body (within the limit by now) as bytes, before anything parses it.

        Django reads a form body as a stream when something asks for
        `request.POST` first (the CSRF middleware does, for its form field);
        the API's JSON parser could then not read it at all (a 500). Read as
        bytes first, the body serves both.
        """
        if int(request.META.get("CONTENT_LENGTH") or 0) > 0:
            request.body  # noqa: B018 - reading it caches it

    @staticmethod
    def _leave_body_unread(request: HttpRequest) -> None:
        """Keep Django's form parser away from a body that its view streams.

        The CSRF check reads `request.POST` on every POST, for its form field;
        Django would then parse a multipart body through its form parser
        before the session, the token and the rate limit are checked. An empty
        form here leaves the body to the view; the token comes in its header.
        """
        request.POST = QueryDict()

    def _buffer_chunked_body(self, request: HttpRequest) -> None:
        """Read a body sent without a length, up to the limit, and hand it to Django.

        Django reads CONTENT_LENGTH bytes and treats a missing length as an
        empty body; the server (Gunicorn) de-chunks `wsgi.input`.
        """
        stream = request.META["wsgi.input"]
        data = bytearray()
        while chunk := stream.read(READ_CHUNK):
            data += chunk
            if len(data) > self.body_limit:
                raise BodyTooLargeError
        request.META["CONTENT_LENGTH"] = str(len(data))
        # Django's request reads its body from `_stream`, built from wsgi.input.
        request._stream = LimitedStream(BytesIO(bytes(data)), len(data))  # type: ignore[assignment]

    @staticmethod
    def _envelope_of(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        headers = {}
        if response.status_code == 405 and response.has_header("Allow"):
            headers["Allow"] = response["Allow"]
        if response.has_header("Retry-After"):
            headers["Retry-After"] = response["Retry-After"]
        return error_response(request, response.status_code, headers=headers)

    def _add_headers(self, response: HttpResponseBase, request_id: str) -> None:
        for name in STACK_HEADERS:
            if response.has_header(name):
                del response[name]
        for name, value in self.headers:
            response[name] = value
        response["X-Request-ID"] = request_id


def served_methods(view: Callable[..., Any]) -> frozenset[str] | None:
    """The methods a NinjaAPI path serves, or None for a view that is not one.

    Ninja routes a path to a closure over its PathView, which holds one
    operation per method (or group of methods).
    """
    try:
        path_view = inspect.getclosurevars(view).nonlocals.get("self")
    except TypeError:  # not a Python function (a callable object, a builtin)
        return None
    if not isinstance(path_view, PathView):
        return None
    return frozenset(
        method.upper() for operation in path_view.operations for method in operation.methods
    )


class MethodNotAllowedMiddleware:
    """405 with `Allow` for a method the path does not serve, before CSRF or sessions.

    A wrong method is a routing answer: without this, the CSRF check (which
    runs first, in `process_view`) would answer 403 to `PUT /api/health`.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        _args: tuple[Any, ...],
        _kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        methods = served_methods(view)
        if methods is None or request.method in methods:
            return None
        return error_response(request, 405, headers={"Allow": ", ".join(sorted(methods))})


class CorsMiddleware:
    """CORS for the origins in CORS_ALLOWED_ORIGINS only, with credentials (SRV-04).

    A preflight from an allowed origin, for an allowed method and headers, is
    answered here; any other preflight is refused with 400 `cors_refused` and no
    Access-Control-* header, so the browser blocks the request. Actual requests
    from an allowed origin get the Access-Control-Allow-* headers; from other
    origins, none (the browser then hides the answer from the page).
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.origins = frozenset(app_settings().cors_allowed_origins)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        origin = request.META.get("HTTP_ORIGIN")
        requested_method = request.META.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if request.method == "OPTIONS" and origin is not None and requested_method is not None:
            return self._preflight(request, origin, requested_method)
        response = self.get_response(request)
        if origin is not None and origin in self.origins:
            self._allow(response, origin)
            response["Access-Control-Expose-Headers"] = CORS_EXPOSED
        elif self.origins:
            patch_vary_headers(response, ("Origin",))
        return response

    def _preflight(self, request: HttpRequest, origin: str, method: str) -> HttpResponseBase:
        headers = request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        asked = {h.strip().lower() for h in str(headers).split(",") if h.strip()}
        if (
            origin not in self.origins
            or method.upper() not in CORS_METHODS
            or asked - set(CORS_HEADERS)
        ):
            return error_response(
                request,
                400,
                code="cors_refused",
                message="This cross-origin request is not allowed.",
                headers={"Vary": "Origin"},
            )
        response = HttpResponse(status=200)
        self._allow(response, origin)
        response["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
        response["Access-Control-Allow-Headers"] = ", ".join(CORS_HEADERS)
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response

    @staticmethod
    def _allow(response: HttpResponseBase, origin: str) -> None:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        patch_vary_headers(response, ("Origin",))
