"""The security events admins read: exactly these fields (INJ-02)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ninja import Schema

from ..security.events import Kind


class SecurityEventOut(Schema):
    id: uuid.UUID
    at: datetime
    kind: Kind
    actor_id: uuid.UUID | None
    ip: str | None
    request_id: str | None
    target: str | None
    detail: dict[str, Any]
