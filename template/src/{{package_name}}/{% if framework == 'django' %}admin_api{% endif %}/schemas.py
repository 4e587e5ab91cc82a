"""Admin request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from ninja import Schema

from ..core.schemas import StrictSchema


class RoleIn(StrictSchema):
    """Only the role, and only a known one (AUTHZ-04, VAL-01)."""

    role: Literal["user", "admin"]


class AuditEntryOut(Schema):
    """An audit entry, exactly these fields (INJ-02)."""

    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    target: str | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]
