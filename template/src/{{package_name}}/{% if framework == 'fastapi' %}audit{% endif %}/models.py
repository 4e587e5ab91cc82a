"""Audit events are only ever inserted: the ORM refuses updates and deletes, and
the migration installs database triggers that refuse them too."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from ..core.database import Base, UUIDPrimaryKey, utcnow

# Targets are emails (up to 254 characters) and ids; longer ones are cut to fit.
TARGET_LENGTH = 200


class AuditEvent(UUIDPrimaryKey, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at_id", "at", "id"),)

    at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: the trail must outlive the accounts it mentions.
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(TARGET_LENGTH))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper: Mapper[AuditEvent], _connection: object, _target: AuditEvent) -> None:
    raise AppendOnlyError("audit events are append-only")
