"""Server-side sessions: creation, lookup with timeouts, rotation, destruction (AUTH-01, AUTH-02).

The browser holds only a random 256-bit id in an HttpOnly cookie; the row is
found by the id's keyed digest. Rotating means a new id and row, and the old
row deleted, so a fixated or stolen pre-login id is worth nothing afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Executable, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..core.database import utcnow
from ..security.tokens import new_token, token_digest
from ..settings import Settings
from .models import AuthSession, User

# last_seen_at is written at most this often, to keep reads from becoming writes.
TOUCH_EVERY = timedelta(seconds=60)
_PURPOSE = "session"


@dataclass(frozen=True)
class Authenticated:
    """The user behind a request, and the session that proved it."""

    user: User
    session: AuthSession


class SessionStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = settings.secret_key.get_secret_value()
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(hours=settings.session_absolute_hours)

    def digest(self, session_id: str) -> str:
        return token_digest(session_id, self.key, _PURPOSE)

    def create(self, db: Session, user: User) -> str:
        """Store a new session for the user and return its id, for the cookie only."""
        session_id = new_token()
        now = utcnow()
        self._purge_dead(db, user.id)
        db.add(
            AuthSession(
                id_digest=self.digest(session_id),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.absolute,
            )
        )
        return session_id

    def load(self, db: Session, session_id: str | None) -> Authenticated | None:
        """The live session for a cookie value; an expired or idle one is deleted."""
        if not session_id or len(session_id) > 128:
            return None
        row = db.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id_digest == self.digest(session_id))
        ).one_or_none()
        if row is None:
            return None
        auth_session, user = row
        now = utcnow()
        this_session = AuthSession.id_digest == auth_session.id_digest
        if now >= auth_session.expires_at or now - auth_session.last_seen_at >= self.idle:
            _write_apart(db, delete(AuthSession).where(this_session))
            db.expunge(auth_session)
            return None
        if now - auth_session.last_seen_at >= TOUCH_EVERY:
            _write_apart(db, update(AuthSession).where(this_session).values(last_seen_at=now))
            set_committed_value(auth_session, "last_seen_at", now)
        return Authenticated(user, auth_session)

    def rotate(self, db: Session, current: AuthSession, *, reauthenticated: bool) -> str:
        """Replace the session with a fresh id, keeping its absolute deadline."""
        session_id = new_token()
        now = utcnow()
        db.add(
            AuthSession(
                id_digest=self.digest(session_id),
                user_id=current.user_id,
                created_at=current.created_at,
                last_seen_at=now,
                expires_at=current.expires_at,
                reauthenticated_at=now if reauthenticated else current.reauthenticated_at,
            )
        )
        db.delete(current)
        return session_id

    def recently_reauthenticated(self, auth_session: AuthSession) -> bool:
        stamp = auth_session.reauthenticated_at
        window = timedelta(minutes=self.settings.reauth_minutes)
        return stamp is not None and utcnow() - stamp < window

    def _purge_dead(self, db: Session, user_id: uuid.UUID) -> None:
        """Delete the user's expired and idle sessions, which nobody may present any more."""
        now = utcnow()
        db.execute(
            delete(AuthSession).where(
                AuthSession.user_id == user_id,
                or_(AuthSession.expires_at <= now, AuthSession.last_seen_at <= now - self.idle),
            )
        )

    @staticmethod
    def destroy(db: Session, auth_session: AuthSession) -> None:
        db.delete(auth_session)

    @staticmethod
    def destroy_all(db: Session, user_id: uuid.UUID) -> None:
        """End every session of the user, on every device."""
        db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


def _write_apart(db: Session, statement: Executable) -> None:
    """Run a write in a short transaction of its own, committed at once.

    The request's transaction rolls back when it answers an error (a 401 for an
    expired session, say), and it must not hold a write lock yet: on SQLite,
    which has one writer at a time, the rate-limit counters and audited refusals
    that later write in transactions of their own would wait for it forever.
    """
    with Session(db.get_bind()) as apart, apart.begin():
        apart.execute(statement)
