"""Security events as rows, for the admin route; the log stream is the complete record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import Base, UUIDPrimaryKey

# Long enough for any email address (254 characters).
TARGET_LENGTH = 255


class StoredEvent(UUIDPrimaryKey, Base):
    __tablename__ = "security_events"
    # Newest first, with or without a kind filter (DB-02); `at` alone serves the purge.
    __table_args__ = (
        Index("ix_security_events_at_id", "at", "id"),
        Index("ix_security_events_kind_at_id", "kind", "at", "id"),
    )

    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(TARGET_LENGTH))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
