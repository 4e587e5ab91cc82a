"""An uploaded file's metadata; its bytes live in the storage directory under `storage_name`.

`filename` is the sanitized display name, never a path. `storage_name` is
random and unique, so a row can never point at another row's bytes. The
listing index matches the query that pages a user's files (DB-02).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import Base, UUIDPrimaryKey, utcnow


class StoredFile(UUIDPrimaryKey, Base):
    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_owner_created_id", "owner_id", "created_at", "id"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
