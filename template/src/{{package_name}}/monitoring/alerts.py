"""Where alerts go (LOG-03): an alert webhook (a JSON POST) and/or email.

Both run on the monitor's alert thread, never on a request's: a receiver that
is down or hangs costs that thread its timeouts and retries, and nobody waits.
An alert webhook's URL often carries a token in its path (chat tools work that
way), so neither the URL nor an error text that may quote it is ever logged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import httpx

from ..mail.sender import Message, Sender
from ..security.detection import Alert

# Retried answers: the receiver is busy or failing, not refusing this alert.
RETRIED_STATUSES = frozenset({408, 425, 429})
FIRST_BACKOFF_SECONDS = 0.5


class DeliveryError(Exception):
    """An alert did not reach its channel; the message is safe to log (no URL)."""


class Channel(Protocol):
    name: str

    def deliver(self, alert: Alert) -> None:
        """Deliver or raise; the caller logs the failure."""
        ...


class AlertWebhook:
    """POSTs the alert as JSON, with a timeout per attempt and bounded retries with backoff."""

    name = "alert_webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float,
        attempts: int,
        service: str,
        environment: str,
        backoff_seconds: float = FIRST_BACKOFF_SECONDS,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.service = service
        self.environment = environment
        self.backoff_seconds = backoff_seconds
        self.client = httpx.Client(
            timeout=timeout_seconds, headers={"User-Agent": f"{service} security alerts"}
        )

    def deliver(self, alert: Alert) -> None:
        body = alert.payload(self.service, self.environment)
        reason = "not attempted"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            try:
                response = self.client.post(self.url, json=body)
            except httpx.HTTPError as error:
                reason = type(error).__name__
                continue
            if response.is_success:
                return
            reason = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in RETRIED_STATUSES:
                break
        raise DeliveryError(f"{reason} after {attempt} attempt(s)")


class AlertEmail:
    """Sends the alert through the service's own mail backend."""

    name = "alert_email"

    def __init__(
        self, sender: Sender, recipients: Sequence[str], *, service: str, environment: str
    ) -> None:
        self.sender = sender
        self.recipients = list(recipients)
        self.service = service
        self.environment = environment

    def deliver(self, alert: Alert) -> None:
        facts = alert.payload(self.service, self.environment)
        lines = [alert.summary, ""]
        lines += [
            f"{name}: {facts[name]}"
            for name in ("rule", "environment", "at", "ip", "actor_id", "request_id", "count")
            if facts[name] is not None
        ]
        lines += ["", "The security events behind it: GET /api/admin/security-events"]
        for recipient in self.recipients:
            self.sender.send(
                Message(
                    recipient, f"[{self.service}] Security alert: {alert.rule}", "\n".join(lines)
                )
            )
