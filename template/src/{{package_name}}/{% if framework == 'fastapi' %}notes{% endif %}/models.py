"""A note belongs to exactly one user; the listing index matches the query that pages it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import Base, UUIDPrimaryKey, utcnow


class Note(UUIDPrimaryKey, Base):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_owner_created_id", "owner_id", "created_at", "id"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
