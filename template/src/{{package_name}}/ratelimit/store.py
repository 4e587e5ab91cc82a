"""Counters in the application database, atomic across processes (RATE-02).

Each hit is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement in
its own transaction: two workers counting at once can never lose an update,
and a count survives a request that fails or a restart.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from ..core.database import Database, UTCDateTime, utcnow
from ..security.ratelimit import Hit
from .models import Counter

# One hit in this many also purges expired rows, keeping the table small.
PURGE_ONE_IN = 500


class DatabaseCounterStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        dialect = database.engine.dialect.name
        self._insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def hit(self, key: str, window: timedelta) -> Hit:
        now = utcnow()
        expires_at = now + window
        expired = Counter.expires_at <= now
        statement = (
            self._insert(Counter)
            .values(key=key, count=1, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[Counter.key],
                set_={
                    "count": case((expired, 1), else_=Counter.count + 1),
                    "expires_at": case(
                        (expired, literal(expires_at, UTCDateTime())), else_=Counter.expires_at
                    ),
                },
            )
            .returning(Counter.count, Counter.expires_at)
        )
        with self.database.sessions.begin() as session:
            count, ends = session.execute(statement).one()
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                session.execute(delete(Counter).where(Counter.expires_at <= now))
        return Hit(count, ends)

    def peek(self, key: str) -> Hit | None:
        with self.database.sessions.begin() as session:
            row = session.execute(
                select(Counter.count, Counter.expires_at).where(
                    Counter.key == key, Counter.expires_at > utcnow()
                )
            ).one_or_none()
        return Hit(row[0], row[1]) if row else None

    def hold(self, key: str, duration: timedelta) -> None:
        expires_at = utcnow() + duration
        statement = (
            self._insert(Counter)
            .values(key=key, count=1, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[Counter.key], set_={"count": 1, "expires_at": expires_at}
            )
        )
        with self.database.sessions.begin() as session:
            session.execute(statement)

    def reset(self, *keys: str) -> None:
        with self.database.sessions.begin() as session:
            session.execute(delete(Counter).where(Counter.key.in_(keys)))
