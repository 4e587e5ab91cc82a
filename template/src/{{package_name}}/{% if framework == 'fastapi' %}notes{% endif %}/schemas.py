"""Note bodies: what a client may send (title, body) and exactly what it gets back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..core.schemas import RequestSchema, ResponseSchema

Title = Annotated[str, Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(max_length=20_000)]


class NoteIn(RequestSchema):
    title: Title
    body: Body = ""


class NotePatch(RequestSchema):
    """Only title and body can change; owner, ids and dates are the server's (AUTHZ-04)."""

    # Optional but never null: the API document says so (SkipJsonSchema), the validator enforces it.
    title: Title | SkipJsonSchema[None] = None
    body: Body | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> NotePatch:
        if "title" in self.model_fields_set and self.title is None:
            raise ValueError("title cannot be null")
        if "body" in self.model_fields_set and self.body is None:
            raise ValueError("body cannot be null")
        return self


class NoteOut(ResponseSchema):
    id: uuid.UUID
    title: str
    body: str
    created_at: datetime
    updated_at: datetime
