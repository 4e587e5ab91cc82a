"""The security events admins read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from ..core.schemas import ResponseSchema
from ..security.events import Kind


class SecurityEventOut(ResponseSchema):
    id: uuid.UUID
    at: datetime
    kind: Kind
    actor_id: uuid.UUID | None
    ip: str | None
    request_id: str | None
    target: str | None
    detail: dict[str, Any]


# A closed list: an unknown kind is a 422, never an empty page that looks like good news.
KindFilter = Annotated[Kind | None, Query()]
