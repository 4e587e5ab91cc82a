"""The monitor behind core/events.py's sink, and `emit` for events of other apps (LOG-01).

Events reach the monitor three ways, all through `core.events.emit`: audited
actions (audit/services.py `record`, once their transaction commits), refusals
(core/events.py `report_refusal`, for every 401, 403, 404 and 429 envelope)
and `emit(kind, request=..., actor=..., target=..., detail=...)` here. Each
costs the request one log line and a queue insert, never a wait (LOG-03):
storing, counting against the detection rules and alerting run on the
monitor's threads (monitor.py).
"""

from __future__ import annotations

import atexit
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connections, transaction
from django.http import HttpRequest
from django.utils import timezone

from ..accounts.models import User
from ..accounts.postbox import sender
from ..audit.services import record
from ..core import events
from ..core.conf import app_settings
from ..core.context import client_ip, request_id
from ..core.logging import get_logger
from ..ratelimit.services import counter_store
from ..security.events import Kind, SecurityEvent
from ..settings import Settings
from .models import TARGET_LENGTH, StoredEvent
from .monitor import Monitor, make_monitor

log = get_logger(__name__)

# Seconds a shutdown waits for queued events and alerts.
SHUTDOWN_SECONDS = 5.0


class DjangoEventStore:
    """`monitor.EventStore` on the ORM; runs on the monitor's thread, in its own transactions."""

    def store(self, events: Sequence[SecurityEvent]) -> None:
        if not events:
            return
        with transaction.atomic():
            StoredEvent.objects.bulk_create([as_row(event) for event in events])

    def purge(self, before: datetime) -> None:
        StoredEvent.objects.filter(at__lt=before).delete()


def as_row(event: SecurityEvent) -> StoredEvent:
    """The row of an event: the same redacted fields as its log line."""
    fields = event.as_record()
    return StoredEvent(
        at=event.at,
        kind=fields["kind"],
        actor_id=event.actor_id,
        ip=event.ip,
        request_id=event.request_id,
        target=event.target[:TARGET_LENGTH] if event.target else None,
        detail=fields["detail"],
    )


def release_connections() -> None:
    """After each batch the worker thread gives back its database connection.

    Django keeps one connection per thread; a daemon thread that kept its own
    for the life of the process would hold it across database restarts.
    """
    connections.close_all()


_monitor: Monitor | None = None
_monitor_lock = threading.Lock()
_shutdown_registered = False


def build_monitor(settings: Settings | None = None) -> Monitor:
    """A monitor on this service's table, counters and mail, from `settings` (default: the
    running ones); tests build one with the alert settings they need."""
    return make_monitor(
        settings or app_settings(),
        DjangoEventStore(),
        counter_store(),
        sender(),
        after_batch=release_connections,
    )


def get_monitor() -> Monitor:
    """The process's monitor, built at its first use (after a fork, in each worker)."""
    global _monitor, _shutdown_registered
    with _monitor_lock:
        if _monitor is None:
            _monitor = build_monitor()
            _monitor.announce(production=app_settings().is_production)
            if not _shutdown_registered:
                # Queued events are stored and alerts sent before the process ends.
                atexit.register(shutdown)
                _shutdown_registered = True
        return _monitor


def install_monitor(monitor: Monitor | None) -> Monitor | None:
    """Replace the process's monitor (tests); returns the previous one, not closed."""
    global _monitor
    with _monitor_lock:
        previous, _monitor = _monitor, monitor
    return previous


def drain(timeout: float) -> bool:
    """Wait until the queued events are stored and counted and the alerts sent (tests:
    before the tables are emptied); True at once when no monitor was built."""
    with _monitor_lock:
        monitor = _monitor
    return monitor is None or monitor.drain(timeout)


def shutdown(timeout: float = SHUTDOWN_SECONDS) -> None:
    """Store the queued events and send the queued alerts, for up to `timeout` seconds."""
    monitor = install_monitor(None)
    if monitor is not None:
        monitor.close(timeout)


class MonitorSink:
    """The `EventSink` monitoring installs in core/events.py at start-up (apps.py).

    It builds the process's monitor at the first event, so that a process that
    never reports one (a management command) starts no thread.
    """

    def emit(self, event: SecurityEvent) -> None:
        """Hand the event to the monitor; never raises into the caller's request."""
        try:
            get_monitor().emit(event)
        except Exception:
            log.exception("security_event_not_emitted", kind=str(event.kind))


def emit(
    kind: Kind,
    *,
    request: HttpRequest | None = None,
    actor: User | uuid.UUID | None = None,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Report a security event now: one JSON log line, then the background work.

    The entry point for code that notices something without an audit entry or
    an error response (those two report themselves: audit/services.py `record`,
    core/events.py `report_refusal`). `request` gives the client address and
    request id; `actor` is who acted, `target` what it was about (an email, an id).
    """
    actor_id = actor.id if isinstance(actor, User) else actor
    events.emit(
        SecurityEvent(
            kind=kind,
            at=timezone.now(),
            ip=client_ip(request) if request is not None else None,
            request_id=request_id(request) if request is not None else None,
            actor_id=actor_id,
            target=target,
            detail=dict(detail or {}),
        )
    )


def record_security_events_read(*, admin: User, request: HttpRequest, kind: Kind | None) -> None:
    """Reading the security events is itself an audited admin action."""
    record(
        action="security_events_read",
        actor=admin,
        target=None,
        request=request,
        detail={"kind_filter": str(kind) if kind else None},
    )
