"""The error envelope's shape, for the API document of either framework.

Clients and contract fuzzers (schemathesis) read the OpenAPI document to know
what a route may answer: every route documents these bodies for its errors.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
