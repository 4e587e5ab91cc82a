"""The error envelope in the API document: every error a route can answer, documented.

Clients and contract fuzzers (schemathesis) read the OpenAPI document to know
what a route may answer. Without this, the document would list only the
success and FastAPI's own 422 shape, which this service never sends.
"""

from __future__ import annotations

from typing import Any

from ..security.envelope import RETRY_AFTER, ErrorEnvelope, ValidationErrorEnvelope
from ..security.errors import default_for


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
