"""Where the web layer hands security events (LOG-01): the monitor, once it is installed.

The monitoring app installs its sink at start-up (`install_sink`); until then,
and in processes without one (management commands), events are only logged.
Refusals (401, 403, 404, 429, CSRF) are reported from one place, the
SecurityMiddleware, for every error response made by `responses.error_response`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.http import HttpRequest

from ..security.events import EventSink, SecurityEvent, kind_of_refusal
from .context import client_ip, request_id
from .logging import get_logger

log = get_logger(__name__)

_sink: EventSink | None = None


def install_sink(sink: EventSink | None) -> None:
    """Make `sink` receive every event of this process (None: log only)."""
    global _sink  # one sink per process, set once at start-up
    _sink = sink


def current_sink() -> EventSink | None:
    return _sink


def emit(event: SecurityEvent) -> None:
    """Hand an event to the sink; returns at once (the sink must not block)."""
    sink = _sink
    if sink is None:
        log.info("security_event", **event.as_record())
        return
    sink.emit(event)


def actor_of(request: HttpRequest) -> uuid.UUID | None:
    """The signed-in user of the request, when it is known, without failing."""
    actor = getattr(request, "actor_id", None)
    if isinstance(actor, uuid.UUID):
        return actor
    user = getattr(request, "user", None)
    try:
        if user is not None and user.is_authenticated and isinstance(user.pk, uuid.UUID):
            return user.pk
    except Exception:  # noqa: BLE001 - a broken session must not turn a refusal into a 500
        return None
    return None


def report_refusal(request: HttpRequest, status: int, code: str) -> None:
    """Hand the monitor the event of a refusal, when it is one."""
    kind = kind_of_refusal(status, code)
    if kind is None:
        return
    emit(
        SecurityEvent(
            kind=kind,
            at=datetime.now(UTC),
            ip=client_ip(request),
            request_id=request_id(request),
            actor_id=actor_of(request),
            detail={"method": request.method, "path": request.path, "status": status, "code": code},
        )
    )
