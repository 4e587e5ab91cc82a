"""Base classes for request and response schemas, and the page shape of list routes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from ..security.text import text_problem

# Page size bounds for every list route (DB-01, VAL-02).
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"


class StrictSchema(Schema):
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


class PageParams(Schema):
    """`?limit=&cursor=` of every list route: use as `params: Query[PageParams]`."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, min_length=1, max_length=200, pattern=CURSOR_PATTERN)


ItemT = TypeVar("ItemT")


class Page(Schema, Generic[ItemT]):
    """`{items, next_cursor}`: one page of a list route, newest first."""

    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
