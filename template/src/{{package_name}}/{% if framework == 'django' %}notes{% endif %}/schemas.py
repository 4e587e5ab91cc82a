"""Note bodies: what a client may send (title, body) and exactly what it gets back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..core.schemas import StrictSchema
from .models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH

Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_LENGTH)]
Body = Annotated[str, Field(max_length=BODY_MAX_LENGTH)]


class NoteIn(StrictSchema):
    """A new note; `body` may hold HTML, which is sanitized before it is stored (VAL-03)."""

    title: Title
    body: Body = ""


class NotePatch(StrictSchema):
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


class NoteOut(Schema):
    """Exactly the public fields of a note: never the owner (INJ-02)."""

    id: uuid.UUID
    title: str
    body: str
    created_at: datetime
    updated_at: datetime
