"""Base classes for request and response schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestSchema(BaseModel):
    """Input schemas reject unknown fields (VAL-01), so a client cannot slip in `role`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseSchema(BaseModel):
    """Output schemas list exactly what leaves the server (INJ-02)."""

    model_config = ConfigDict(from_attributes=True)
