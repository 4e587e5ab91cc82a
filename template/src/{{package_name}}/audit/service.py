"""Recording and reading audit events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..core.context import RequestContext
from ..security.redaction import redact
from .models import AuditEvent


def record(
    session: Session,
    context: RequestContext | None,
    action: str,
    *,
    actor_id: uuid.UUID | None = None,
    target: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an event to `session`; it is stored when that session commits.

    Pass the request's session to make the event part of the action it
    describes, or a session of its own for refusals (whose request rolls back).
    """
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target=target,
        ip=context.ip if context else None,
        request_id=context.request_id if context else None,
        detail=redact(detail),
    )
    session.add(event)
    return event


def events_query(action: str | None) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return query
