"""A user's TOTP credential and recovery codes.

The TOTP secret is stored encrypted (DATA-01): the column holds a Fernet
token, never the secret. Recovery codes are stored as keyed digests, like
session ids, and each is marked used once redeemed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import Base, utcnow


class MfaCredential(Base):
    __tablename__ = "mfa_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # None until a first code confirms that the user's app holds the secret.
    enabled_at: Mapped[datetime | None]
    # The newest time step accepted: codes of this step or older never work again.
    last_used_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    __tablename__ = "mfa_recovery_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    used_at: Mapped[datetime | None]
