"""Reading stored security events, newest first."""

from __future__ import annotations

from ..core.pagination import paginate
from ..security.events import Kind
from .models import StoredEvent


def security_event_list(
    *, kind: Kind | None, limit: int, cursor: str | None
) -> tuple[list[StoredEvent], str | None]:
    """One page of events, optionally of one kind, through the (kind,) at, id indexes (DB-01)."""
    events = StoredEvent.objects.all()
    if kind is not None:
        events = events.filter(kind=str(kind))
    return paginate(events, stamp="at", limit=limit, cursor=cursor)
