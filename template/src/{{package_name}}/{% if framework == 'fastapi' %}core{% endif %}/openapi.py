"""The error envelope in the API document: every error a route can answer, documented.

Clients and contract fuzzers (schemathesis) read the OpenAPI document to know
what a route may answer. Without this, the document would list only the
success and FastAPI's own 422 shape, which this service never sends.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..security.errors import default_for


class ErrorDetailOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Where the problem is, e.g. `body.email`")
    issue: str = Field(description="What is wrong; never the submitted value")


class ErrorOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z]+(_[a-z]+)*$", description="A stable snake_case code")
    message: str = Field(description="Human readable, safe text")
    request_id: str = Field(description="Also in the X-Request-ID header")


class ValidationErrorOut(ErrorOut):
    details: list[ErrorDetailOut]


class ErrorEnvelope(BaseModel):
    """`{"error": {code, message, request_id}}`: the body of every error but 422."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorOut


class ValidationErrorEnvelope(BaseModel):
    """The 422 body: the envelope with `details`, one entry per invalid field."""

    model_config = ConfigDict(extra="forbid")

    error: ValidationErrorOut


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given statuses, each with the envelope's schema."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "model": ValidationErrorEnvelope if status == 422 else ErrorEnvelope,
            "description": default_for(status)[1],
        }
        if status == 429:
            entry["headers"] = RETRY_AFTER
        responses[status] = entry
    return responses


# What any route may answer before it runs: a refused Host or Content-Length (400),
# a body over the limit (413), an unexpected failure (500).
TRANSPORT_ERRORS = (400, 413, 500)
# What the routes under /api answer besides: sessions, CSRF and roles, missing rows,
# invalid input and the rate limit.
API_ERRORS = (*TRANSPORT_ERRORS, 401, 403, 404, 422, 429)
