"""Base classes for request and response schemas, and the page shape of list routes."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..security.text import text_problem

# Page size bounds for every list route (DB-01, VAL-02).
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class RequestSchema(BaseModel):
    """Input schemas reject unknown fields (VAL-01), so a client cannot slip in `role`.

    Strings are refused when they hold NUL or unpaired surrogates: databases
    reject those, and a 500 must never be the answer to bad input.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str) and (problem := text_problem(value)):
            raise ValueError(problem)
        return value


class ResponseSchema(BaseModel):
    """Output schemas list exactly what leaves the server (INJ-02)."""

    model_config = ConfigDict(from_attributes=True)


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
