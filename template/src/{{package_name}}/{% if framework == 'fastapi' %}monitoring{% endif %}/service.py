"""Stored security events: written in batches by the monitor, paged for admins, purged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from ..audit.service import record
from ..auth.models import User
from ..core.context import RequestContext
from ..core.database import Database
from ..core.pagination import paginate
from ..security.events import Kind, SecurityEvent
from .models import TARGET_LENGTH, StoredEvent


def store(database: Database, events: Sequence[SecurityEvent]) -> None:
    """Insert the events in one transaction of their own."""
    if not events:
        return
    with database.sessions.begin() as db:
        db.add_all(as_row(event) for event in events)


def as_row(event: SecurityEvent) -> StoredEvent:
    fields = event.as_record()
    target = event.target[:TARGET_LENGTH] if event.target else None
    return StoredEvent(
        at=event.at,
        kind=fields["kind"],
        actor_id=event.actor_id,
        ip=event.ip,
        request_id=event.request_id,
        target=target,
        detail=fields["detail"],
    )


def purge(database: Database, before: datetime) -> None:
    """Delete the events older than `before`."""
    with database.sessions.begin() as db:
        db.execute(delete(StoredEvent).where(StoredEvent.at < before))


class SqlEventStore:
    """The monitor's `EventStore` (monitor.py) on this service's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def store(self, events: Sequence[SecurityEvent]) -> None:
        store(self.database, events)

    def purge(self, before: datetime) -> None:
        purge(self.database, before)


def events_query(kind: Kind | None) -> Select[StoredEvent]:
    query = select(StoredEvent)
    if kind is not None:
        query = query.where(StoredEvent.kind == str(kind))
    return query


def read_events(
    db: Session,
    context: RequestContext,
    admin: User,
    limit: int,
    cursor: str | None,
    kind: Kind | None,
) -> tuple[Sequence[StoredEvent], str | None]:
    """A page of security events, newest first; reading them is audited."""
    events = paginate(
        db, events_query(kind), stamp=StoredEvent.at, key=StoredEvent.id, limit=limit, cursor=cursor
    )
    record(
        db,
        context,
        "security_events_read",
        actor_id=admin.id,
        kind_filter=str(kind) if kind else None,
    )
    return events
