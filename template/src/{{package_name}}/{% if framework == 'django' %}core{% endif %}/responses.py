"""The error envelope as a Django response (ERR-01): the one way error responses are made."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.http import HttpRequest, JsonResponse

from ..security.errors import ErrorDetail, envelope
from .context import request_id


def error_response(
    request: HttpRequest,
    status: int,
    *,
    code: str | None = None,
    message: str | None = None,
    details: Sequence[ErrorDetail] | None = None,
    headers: Mapping[str, str] | None = None,
    response_class: Callable[..., JsonResponse] = JsonResponse,
) -> JsonResponse:
    """`{"error": {code, message, request_id[, details]}}` with the status's safe defaults."""
    body = envelope(status, request_id(request), code=code, message=message, details=details)
    response = response_class(body, status=status)
    # Read by SecurityMiddleware, which reports refusals to the monitor (core/events.py).
    response.error_code = body["error"]["code"]  # type: ignore[attr-defined]
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_code_of(response: object) -> str | None:
    """The envelope code of a response made by `error_response`, else None."""
    code = getattr(response, "error_code", None)
    return code if isinstance(code, str) else None
