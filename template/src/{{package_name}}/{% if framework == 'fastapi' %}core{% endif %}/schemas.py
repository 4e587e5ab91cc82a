"""Base classes for request and response schemas, the page shape of list routes,
and the route class that parses JSON bodies strictly."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from fastapi.routing import APIRoute
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


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DuplicateKeyError("a JSON object repeats a key")
    return result


class StrictJSONRequest(Request):
    """A request whose JSON body is UTF-8 and may not repeat a key within one object.

    Python's parser keeps the last of two equal keys, another parser (a proxy,
    a WAF, a log pipeline) may keep the first: refusing the body removes the
    ambiguity. JSON between systems is UTF-8 (RFC 8259), while `json.loads`
    of bytes would also guess UTF-16 and UTF-32; a leading BOM is tolerated,
    as the RFC allows. FastAPI answers either error with 400 in the envelope.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            text = (await self.body()).decode("utf-8-sig")
            self._json = json.loads(text, object_pairs_hook=_unique_keys)
        return self._json


class StrictJSONRoute(APIRoute):
    """Pass as `route_class` to every APIRouter whose routes take a JSON body (VAL-01)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
