"""Exception handlers that turn every error into the contract's envelope (ERR-01).

Validation details name the field and the rule broken, never the submitted
value: a rejected password or token must not come back in the response.
Refusals that are security events (401, 403, 404, 429, CSRF, bad signatures)
are reported to the monitor from here, so no route has to remember to (LOG-01).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..security.errors import AppError, ErrorDetail, default_for, envelope
from ..security.events import EventSink, SecurityEvent, kind_of_refusal
from .context import client_ip
from .database import utcnow


def request_id_of(request: Request) -> str:
    request_id: str = request.state.request_id
    return request_id


def report_refusal(request: Request, status: int, code: str) -> None:
    """Hand the monitor the event of a refusal, when it is one; returns at once."""
    kind = kind_of_refusal(status, code)
    if kind is None:
        return
    events: EventSink = request.app.state.monitor
    events.emit(
        SecurityEvent(
            kind=kind,
            at=utcnow(),
            ip=client_ip(request),
            request_id=request_id_of(request),
            # Set once the session is known (auth/dependencies.py); absent before.
            actor_id=getattr(request.state, "actor_id", None),
            detail={
                "method": request.method,
                "path": request.url.path,
                "status": status,
                "code": code,
            },
        )
    )


def _field(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


def validation_details(errors: Sequence[Any]) -> list[ErrorDetail]:
    """Field and message of each Pydantic error, without its `input` or `ctx`."""
    return [{"field": _field(error["loc"]), "issue": str(error["msg"])} for error in errors]


async def handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AppError):  # registered for AppError only
        raise exc
    report_refusal(request, exc.status, exc.code)
    body = envelope(
        exc.status, request_id_of(request), code=exc.code, message=exc.message, details=exc.details
    )
    return JSONResponse(body, status_code=exc.status, headers=dict(exc.headers))


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method the path serves, for the Allow header of a 405 (RFC 9110).

    Starlette names only the methods of the first route that matched the path,
    but a path such as /notes/{id} is served by one route per method. Each
    method is tried against the router, through Starlette's public `matches`.
    """
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404, 405, 413 ...) keep their status but lose their text."""
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allow := allowed_methods(request)):
        headers["Allow"] = allow
    report_refusal(request, exc.status_code, default_for(exc.status_code)[0])
    return JSONResponse(
        envelope(exc.status_code, request_id_of(request)),
        status_code=exc.status_code,
        headers=headers,
    )


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    details = validation_details(exc.errors())
    return JSONResponse(envelope(422, request_id_of(request), details=details), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
