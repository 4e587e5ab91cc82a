"""Intrusion detection in the application (LOG-02, RATE-03): events counted, alerts raised.

Every count lives in the service's shared counter store (the database, or
Redis), so the processes of a deployment add to the same numbers and an attack
spread over workers is seen whole. A rule fires once its count reaches the
threshold within the window; the same rule for the same subject then stays
quiet for the dedup window, however long the attack goes on.

Framework-free: it reads `SecurityEvent`s and a `CounterStore`, nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .events import Kind, SecurityEvent
from .ratelimit import CounterStore, Hit, Rate
from .tokens import token_digest

# Refusals that a scanner collects while it probes for routes and weak spots.
PROBING = frozenset({Kind.UNAUTHENTICATED, Kind.FORBIDDEN, Kind.NOT_FOUND, Kind.CSRF_FAILED})
SERVICE_WIDE = "service"


@dataclass(frozen=True)
class Rules:
    """Thresholds and windows of the rules; docs/monitoring.md explains each."""

    # Distinct accounts failing to sign in from one address.
    credential_stuffing: Rate
    # Distinct accounts failing to sign in across the service (a few tries each,
    # from many addresses: one password tried against many accounts).
    password_spraying: Rate
    # 401, 403, 404 and CSRF refusals answered to one address.
    scanning: Rate
    # Webhook deliveries refused for their signature, from anywhere.
    signature_failures: Rate
    # 429 answers, service-wide.
    rate_limited: Rate
    # How long an address an administrator used stays known.
    admin_address_memory: timedelta
    # One alert per rule and subject within this long.
    dedup: timedelta


@dataclass(frozen=True)
class Alert:
    rule: str
    summary: str
    count: int
    threshold: int
    window: timedelta
    at: datetime
    ip: str | None = None
    actor_id: uuid.UUID | None = None
    request_id: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def subject(self) -> str:
        """Who the alert is about, for deduplication: an address, an admin, or the service."""
        if self.actor_id is not None:
            return f"{self.actor_id}:{self.ip}"
        return self.ip or SERVICE_WIDE

    def payload(self, service: str, environment: str) -> dict[str, Any]:
        """The JSON body sent to the webhook; `text` is what chat tools display."""
        return {
            "type": "security_alert",
            "id": str(self.id),
            "service": service,
            "environment": environment,
            "rule": self.rule,
            "text": f"[{service}] {self.summary}",
            "summary": self.summary,
            "at": self.at.isoformat(),
            "ip": self.ip,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "request_id": self.request_id,
            "count": self.count,
            "threshold": self.threshold,
            "window_seconds": int(self.window.total_seconds()),
        }


def describe(window: timedelta) -> str:
    """`10 minutes`, `1 hour`: windows as people write them."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


class Detector:
    """Counts each event against the rules it concerns; returns the alerts to send."""

    def __init__(self, counters: CounterStore, rules: Rules, key: str) -> None:
        self.counters = counters
        self.rules = rules
        self.key = key

    def observe(self, event: SecurityEvent) -> list[Alert]:
        """The alerts this event raises, each at most once per dedup window."""
        return [alert for alert in self._raised(event) if self._first_in_window(alert)]

    def _raised(self, event: SecurityEvent) -> Iterator[Alert]:
        if event.kind is Kind.LOGIN_FAILED and event.target:
            yield from self._failed_login(event, event.target)
        elif event.kind in PROBING and event.ip:
            yield from self._scanning(event, event.ip)
        elif event.kind is Kind.SIGNATURE_FAILED:
            yield from self._service_wide(
                event,
                "signature_failures",
                self.rules.signature_failures,
                "webhook deliveries were refused for a missing, wrong or stale signature",
            )
        elif event.kind is Kind.RATE_LIMITED:
            yield from self._service_wide(
                event, "rate_limited", self.rules.rate_limited, "requests were rate limited (429)"
            )
        elif event.kind is Kind.ADMIN_ACTION and event.actor_id and event.ip:
            yield from self._admin_address(event, event.actor_id, event.ip)

    def _failed_login(self, event: SecurityEvent, email: str) -> Iterator[Alert]:
        account = token_digest(email.lower(), self.key, "ids-account")[:32]
        stuffing = self.rules.credential_stuffing
        hit = self._new_member(f"stuffing:{event.ip}", account, stuffing) if event.ip else None
        if hit and hit.count >= stuffing.limit:
            yield self._alert(
                "credential_stuffing",
                f"{hit.count} different accounts failed to sign in from {event.ip} "
                f"within {describe(stuffing.window)}",
                hit,
                stuffing,
                event,
                ip=event.ip,
            )
        spraying = self.rules.password_spraying
        if (hit := self._new_member("spraying", account, spraying)) and hit.count >= spraying.limit:
            yield self._alert(
                "password_spraying",
                f"{hit.count} different accounts failed to sign in across the service "
                f"within {describe(spraying.window)}",
                hit,
                spraying,
                event,
            )

    def _scanning(self, event: SecurityEvent, ip: str) -> Iterator[Alert]:
        rate = self.rules.scanning
        hit = self.counters.hit(f"ids:scanning:{ip}", rate.window)
        if hit.count >= rate.limit:
            yield self._alert(
                "scanning",
                f"{hit.count} requests from {ip} were refused (401, 403 or 404) "
                f"within {describe(rate.window)}",
                hit,
                rate,
                event,
                ip=ip,
            )

    def _admin_address(self, event: SecurityEvent, actor_id: uuid.UUID, ip: str) -> Iterator[Alert]:
        if self._new_admin_address(actor_id, ip):
            yield Alert(
                rule="admin_new_ip",
                summary=f"Administrator {actor_id} acted from a new address {ip}",
                count=1,
                threshold=1,
                window=self.rules.admin_address_memory,
                at=event.at,
                ip=ip,
                actor_id=actor_id,
                request_id=event.request_id,
            )

    def _service_wide(
        self, event: SecurityEvent, rule: str, rate: Rate, what: str
    ) -> Iterator[Alert]:
        hit = self.counters.hit(f"ids:{rule}", rate.window)
        if hit.count >= rate.limit:
            yield self._alert(
                rule, f"{hit.count} {what} within {describe(rate.window)}", hit, rate, event
            )

    def _new_member(self, group: str, member: str, rate: Rate) -> Hit | None:
        """Count `member` into the group once per window; the group's count when it is new."""
        if self.counters.hit(f"ids:{group}:{member}", rate.window).count != 1:
            return None
        return self.counters.hit(f"ids:{group}", rate.window)

    def _new_admin_address(self, actor_id: uuid.UUID, ip: str) -> bool:
        """True when an administrator with a known history acts from an address not seen before.

        Each use renews the memory of the address. An administrator's very first
        action has nothing to compare with: it only starts the history.
        """
        memory = self.rules.admin_address_memory
        address, history = f"ids:admin-ip:{actor_id}:{ip}", f"ids:admin-seen:{actor_id}"
        known = self.counters.peek(address) is not None
        experienced = self.counters.peek(history) is not None
        self.counters.hold(address, memory)
        self.counters.hold(history, memory)
        return experienced and not known

    def _alert(
        self,
        rule: str,
        summary: str,
        hit: Hit,
        rate: Rate,
        event: SecurityEvent,
        ip: str | None = None,
    ) -> Alert:
        return Alert(
            rule=rule,
            summary=summary,
            count=hit.count,
            threshold=rate.limit,
            window=rate.window,
            at=event.at,
            ip=ip,
            request_id=event.request_id,
        )

    def _first_in_window(self, alert: Alert) -> bool:
        key = f"ids:alerted:{alert.rule}:{alert.subject}"
        return self.counters.hit(key, self.rules.dedup).count == 1
