"""Recording and reading audit events.

An audited action that is also a security event (a sign-in, a lockout, a
password or admin change; security/events.py `AUDITED`) is handed to the monitor
once its transaction commits: a rolled-back action never shows in the stream.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..core.context import RequestContext
from ..core.database import utcnow
from ..security.events import AUDITED, EventSink, SecurityEvent
from ..security.redaction import redact
from .models import TARGET_LENGTH, AuditEvent

# session.info key of the security events waiting for their transaction to commit.
PENDING_EVENTS = "pending_security_events"


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
    if target is not None:
        target = target[:TARGET_LENGTH]
    audit_event = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        target=target,
        ip=context.ip if context else None,
        request_id=context.request_id if context else None,
        detail=redact(detail),
    )
    session.add(audit_event)
    kind = AUDITED.get(action)
    if kind is not None and context is not None and context.events is not None:
        security_event = SecurityEvent(
            kind=kind,
            at=audit_event.at,
            ip=context.ip,
            request_id=context.request_id,
            actor_id=actor_id,
            target=target,
            detail={"action": action, **audit_event.detail},
        )
        pending: list[tuple[EventSink, SecurityEvent]] = session.info.setdefault(PENDING_EVENTS, [])
        pending.append((context.events, security_event))
    return audit_event


@event.listens_for(Session, "after_commit")
def _report_committed(session: Session) -> None:
    for sink, security_event in session.info.pop(PENDING_EVENTS, []):
        sink.emit(security_event)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint rolled back leaves the outer transaction's events pending.
    if not transaction.nested:
        session.info.pop(PENDING_EVENTS, None)


def events_query(action: str | None) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return query
