"""The monitor: the one place security events go (LOG-01), and the background work after.

A request only pays for one log line and a queue insert. Storing the event,
counting it against the detection rules (LOG-02, RATE-03) and delivering
alerts (LOG-03) happen on two daemon threads per process: one for events,
one for alerts, so that a hanging alert receiver delays no event. Both queues
are bounded: when one is full the newest item is dropped and that is logged,
never waited for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Generic, TypeVar

from .. import SERVICE_NAME
from ..core.database import Database, utcnow
from ..core.logging import get_logger
from ..mail.sender import Sender
from ..security.detection import Alert, Detector, Rules
from ..security.events import ROUTINE, UNSOLICITED, Kind, SecurityEvent
from ..security.ratelimit import CounterStore
from ..settings import Settings
from . import service
from .alerts import Channel, DeliveryError, EmailChannel, WebhookChannel

log = get_logger(__name__)

T = TypeVar("T")

EVENT_QUEUE_SIZE = 10_000
ALERT_QUEUE_SIZE = 100
EVENT_BATCH = 100
# An idle thread looks for a stop request this often.
POLL_SECONDS = 0.5
# Rows kept per kind and client address a minute for kinds anyone can cause at will
# (security/events.py UNSOLICITED): a flood fills the log stream, not the database.
STORED_PER_CLIENT_MINUTE = 30
PURGE_EVERY_SECONDS = 3600.0
# At most one "dropped" log line a second while a queue overflows.
DROP_LOG_SECONDS = 1.0


class BackgroundQueue(Generic[T]):
    """A bounded queue drained in batches by one daemon thread, started by the first item."""

    def __init__(
        self, name: str, handle: Callable[[list[T]], None], *, capacity: int, batch: int = 1
    ) -> None:
        self.name = name
        self._handle = handle
        self._batch = batch
        self._items: queue.Queue[T] = queue.Queue(capacity)
        self._pending = 0
        self._state = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def submit(self, item: T) -> bool:
        """Queue the item without waiting; False when the queue is full."""
        with self._state:
            try:
                self._items.put_nowait(item)
            except queue.Full:
                return False
            self._pending += 1
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name=self.name, daemon=True
                )
                self._thread.start()
        return True

    def _run(self, stop: threading.Event) -> None:
        while True:
            try:
                batch = [self._items.get(timeout=POLL_SECONDS)]
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            while len(batch) < self._batch:
                try:
                    batch.append(self._items.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle(batch)
            except Exception:
                log.exception("monitor_task_failed", worker=self.name)
            finally:
                with self._state:
                    self._pending -= len(batch)
                    self._state.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued item is handled; False when the timeout came first."""
        with self._state:
            return self._state.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float) -> bool:
        """Let the queue drain for up to `timeout`, then let the thread end.

        The thread is not joined: a delivery stuck in its timeouts must not hold
        up the shutdown of the service. A later item starts a new thread.
        """
        drained = self.wait_idle(timeout)
        with self._state:
            self._stop.set()
            self._thread = None
        return drained


class DropCounter:
    """Counts items a full queue refused, and logs them at most once a second."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.count = 0
        self._last_log = 0.0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1
            now = time.monotonic()
            if now - self._last_log < DROP_LOG_SECONDS:
                return
            self._last_log = now
            dropped = self.count
        log.error("monitor_queue_full", dropped=self.what, total_dropped=dropped)


class Monitor:
    """The service's event sink (security/events.py `EventSink`)."""

    def __init__(
        self,
        database: Database,
        counters: CounterStore,
        detector: Detector,
        channels: Sequence[Channel],
        retention: timedelta,
    ) -> None:
        self.database = database
        self.counters = counters
        self.detector = detector
        self.channels = list(channels)
        self.retention = retention
        self._events = BackgroundQueue(
            "security-events", self._process, capacity=EVENT_QUEUE_SIZE, batch=EVENT_BATCH
        )
        self._alerts = BackgroundQueue("security-alerts", self._deliver, capacity=ALERT_QUEUE_SIZE)
        self._dropped_events = DropCounter("security_event")
        self._dropped_alerts = DropCounter("security_alert")
        self._next_purge = 0.0

    def announce(self, *, production: bool) -> None:
        """Say at startup where alerts go; in production, warn when nowhere but the logs."""
        channels = [channel.name for channel in self.channels]
        log.info("security_monitor_started", alert_channels=channels)
        if production and not channels:
            log.warning(
                "alerts_not_configured",
                detail="set ALERT_WEBHOOK_URL or ALERT_EMAIL_TO; alerts reach only the log stream",
            )

    # --- the request's side: returns at once ----------------------------------------

    def emit(self, event: SecurityEvent) -> None:
        """Log the event now; store, count and alert in the background."""
        write_log(event)
        if not self._events.submit(event):
            self._dropped_events.add()

    # --- the event thread ---------------------------------------------------------------

    def _process(self, events: list[SecurityEvent]) -> None:
        try:
            service.store(self.database, [event for event in events if self._worth_storing(event)])
        except Exception:
            log.exception("security_events_not_stored", count=len(events))
        for event in events:
            try:
                alerts = self.detector.observe(event)
            except Exception:
                log.exception("security_event_not_counted", kind=str(event.kind))
                continue
            for alert in alerts:
                self._raise(alert)
        self._purge_now_and_then()

    def _worth_storing(self, event: SecurityEvent) -> bool:
        if event.kind not in UNSOLICITED or not event.ip:
            return True
        key = f"ids:stored:{event.kind}:{event.ip}"
        return self.counters.hit(key, timedelta(minutes=1)).count <= STORED_PER_CLIENT_MINUTE

    def _raise(self, alert: Alert) -> None:
        """Record the alert as an event of its own, then hand it to the alert thread."""
        event = SecurityEvent(
            kind=Kind.ALERT_RAISED,
            at=alert.at,
            ip=alert.ip,
            request_id=alert.request_id,
            actor_id=alert.actor_id,
            target=alert.rule,
            detail={
                "alert_id": str(alert.id),
                "rule": alert.rule,
                "summary": alert.summary,
                "count": alert.count,
                "threshold": alert.threshold,
                "window_seconds": int(alert.window.total_seconds()),
            },
        )
        write_log(event)
        if self.channels and not self._alerts.submit(alert):
            self._dropped_alerts.add()
        try:
            service.store(self.database, [event])
        except Exception:
            log.exception("security_events_not_stored", count=1)

    def _purge_now_and_then(self) -> None:
        """Forget events older than the retention, once an hour per process."""
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY_SECONDS
        try:
            service.purge(self.database, utcnow() - self.retention)
        except Exception:
            log.exception("security_events_not_purged")

    # --- the alert thread ---------------------------------------------------------------

    def _deliver(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            for channel in self.channels:
                try:
                    channel.deliver(alert)
                except DeliveryError as error:
                    reason = str(error)
                except Exception as error:  # noqa: BLE001 - any failure is logged, never raised
                    # Only the type: an error's text may quote the receiver's URL.
                    reason = type(error).__name__
                else:
                    log.info("alert_delivered", channel=channel.name, rule=alert.rule)
                    continue
                log.error(
                    "alert_delivery_failed",
                    channel=channel.name,
                    rule=alert.rule,
                    alert_id=str(alert.id),
                    reason=reason,
                )

    # --- tests and shutdown ---------------------------------------------------------------

    def drain(self, timeout: float) -> bool:
        """Wait until every event is stored and counted and every alert is sent or failed."""
        deadline = time.monotonic() + timeout
        events_done = self._events.wait_idle(timeout)
        return events_done and self._alerts.wait_idle(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float) -> None:
        """Finish the queued work for up to `timeout` seconds, then stop the threads."""
        deadline = time.monotonic() + timeout
        self._events.stop(timeout)
        self._alerts.stop(max(0.0, deadline - time.monotonic()))


def write_log(event: SecurityEvent) -> None:
    """One JSON line per event: `event` is always `security_event`, `kind` says which."""
    if event.kind in ROUTINE:
        log.info("security_event", **event.as_record())
    else:
        log.warning("security_event", **event.as_record())


def make_monitor(
    settings: Settings, database: Database, counters: CounterStore, mailer: Sender
) -> Monitor:
    rules = Rules(
        credential_stuffing=settings.alert_credential_stuffing,
        password_spraying=settings.alert_spraying,
        scanning=settings.alert_scanning,
        signature_failures=settings.alert_signature_failures,
        rate_limited=settings.alert_rate_limited,
        admin_address_memory=timedelta(days=settings.alert_admin_ip_memory_days),
        dedup=timedelta(minutes=settings.alert_dedup_minutes),
    )
    channels: list[Channel] = []
    if url := settings.alert_webhook_url.get_secret_value():
        channels.append(
            WebhookChannel(
                url,
                timeout_seconds=settings.alert_timeout_seconds,
                attempts=settings.alert_attempts,
                service=SERVICE_NAME,
                environment=settings.environment,
            )
        )
    if settings.alert_email_to:
        channels.append(
            EmailChannel(
                mailer,
                settings.alert_email_to,
                service=SERVICE_NAME,
                environment=settings.environment,
            )
        )
    detector = Detector(counters, rules, settings.secret_key.get_secret_value())
    return Monitor(
        database,
        counters,
        detector,
        channels,
        timedelta(days=settings.security_events_retention_days),
    )
