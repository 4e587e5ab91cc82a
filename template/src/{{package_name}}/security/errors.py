"""The error envelope of the HTTP contract, and the exception that carries it.

Every error response has the same shape so that clients need one parser and
nothing about the server's internals can leak through an ad-hoc message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict


class ErrorDetail(TypedDict):
    field: str
    issue: str


class ErrorBody(TypedDict, total=False):
    code: str
    message: str
    request_id: str
    details: list[ErrorDetail]


class Envelope(TypedDict):
    error: ErrorBody


# Safe default code and message per status, used when nothing more precise is known.
STATUS_DEFAULTS: Mapping[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "The resource does not exist."),
    405: ("method_not_allowed", "This method is not allowed on this resource."),
    406: ("not_acceptable", "The requested representation is not available."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "The content type is not supported."),
    422: ("validation_error", "The request is not valid."),
    429: ("rate_limited", "Too many requests; retry later."),
    500: ("internal_error", "An internal error occurred."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
}


def default_for(status: int) -> tuple[str, str]:
    """Code and message for a status; unknown 4xx and 5xx fall back to a generic pair."""
    if status in STATUS_DEFAULTS:
        return STATUS_DEFAULTS[status]
    return STATUS_DEFAULTS[400] if status < 500 else STATUS_DEFAULTS[500]


def envelope(
    status: int,
    request_id: str,
    *,
    code: str | None = None,
    message: str | None = None,
    details: Sequence[ErrorDetail] | None = None,
) -> Envelope:
    """Build the body of an error response.

    `details` is kept only on 422, the one status whose contract allows it.
    """
    default_code, default_message = default_for(status)
    body: ErrorBody = {
        "code": code or default_code,
        "message": message or default_message,
        "request_id": request_id,
    }
    if status == 422:
        body["details"] = list(details or [])
    return {"error": body}


@dataclass
class AppError(Exception):
    """An expected failure that maps to one contract error.

    Raise it from services; the framework adapter turns it into the envelope.
    """

    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    details: Sequence[ErrorDetail] = ()

    def __str__(self) -> str:
        return f"{self.status} {self.code}"
