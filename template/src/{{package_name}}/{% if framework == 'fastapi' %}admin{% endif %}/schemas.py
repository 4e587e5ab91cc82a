"""Admin request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query

from ..core.schemas import RequestSchema, ResponseSchema


class RoleIn(RequestSchema):
    role: Literal["user", "admin"]


class AuditEventOut(ResponseSchema):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    target: str | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]


ActionFilter = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]
