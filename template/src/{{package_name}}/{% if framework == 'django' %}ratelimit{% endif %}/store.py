"""Counters in the application database, atomic across processes (RATE-02).

Each hit is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement
(SQLite 3.35+ and PostgreSQL) in a transaction of its own: two workers
counting at once can never lose an update, and a count survives a request
that fails or a restart. `durable=True` makes Django refuse a call from inside
another atomic block, whose rollback would take the count with it: count
outside `transaction.atomic()`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils.dateparse import parse_datetime

from ..security.ratelimit import Hit
from .models import Counter

# One hit in this many also purges expired rows, keeping the table small.
PURGE_ONE_IN = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: object) -> datetime:
    """A stamp read back by raw SQL: a datetime (PostgreSQL) or its text (SQLite)."""
    stamp = value if isinstance(value, datetime) else parse_datetime(str(value))
    if stamp is None:  # pragma: no cover - the column holds datetimes only
        raise ValueError(f"not a datetime: {value!r}")
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


class DatabaseCounterStore:
    """`security.ratelimit.CounterStore` on the `rate_limit_counters` table."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def _sql(self) -> tuple[str, str, str, str]:
        quote = connections[self.using].ops.quote_name
        return (
            quote(Counter._meta.db_table),
            quote("key"),
            quote("count"),
            quote("expires_at"),
        )

    def _stamp(self, value: datetime) -> Any:
        return connections[self.using].ops.adapt_datetimefield_value(value)

    def hit(self, key: str, window: timedelta) -> Hit:
        now = utcnow()
        table, key_column, count, expires = self._sql()
        statement = (
            f"INSERT INTO {table} ({key_column}, {count}, {expires}) VALUES (%s, 1, %s) "  # noqa: S608 - quoted names, values bound
            f"ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{count} = CASE WHEN {table}.{expires} <= %s THEN 1 ELSE {table}.{count} + 1 END, "
            f"{expires} = CASE WHEN {table}.{expires} <= %s THEN %s ELSE {table}.{expires} END "
            f"RETURNING {count}, {expires}"
        )
        now_value, ends_value = self._stamp(now), self._stamp(now + window)
        with transaction.atomic(using=self.using, durable=True):
            with connections[self.using].cursor() as cursor:
                cursor.execute(statement, [key, ends_value, now_value, now_value, ends_value])
                counted, ends = cursor.fetchone()
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                Counter.objects.using(self.using).filter(expires_at__lte=now).delete()
        return Hit(int(counted), _aware(ends))

    def peek(self, key: str) -> Hit | None:
        row = (
            Counter.objects.using(self.using)
            .filter(key=key, expires_at__gt=utcnow())
            .values_list("count", "expires_at")
            .first()
        )
        return Hit(row[0], _aware(row[1])) if row else None

    def hold(self, key: str, duration: timedelta) -> None:
        table, key_column, count, expires = self._sql()
        statement = (
            f"INSERT INTO {table} ({key_column}, {count}, {expires}) VALUES (%s, 1, %s) "  # noqa: S608 - quoted names, values bound
            f"ON CONFLICT ({key_column}) DO UPDATE SET {count} = 1, {expires} = %s"
        )
        ends = self._stamp(utcnow() + duration)
        with (
            transaction.atomic(using=self.using, durable=True),
            connections[self.using].cursor() as cursor,
        ):
            cursor.execute(statement, [key, ends, ends])

    def reset(self, *keys: str) -> None:
        with transaction.atomic(using=self.using, durable=True):
            Counter.objects.using(self.using).filter(key__in=keys).delete()
