"""The deployment's alert webhook: a small threaded HTTP server on loopback.

The production server is started with ALERT_WEBHOOK_URL pointing here (plain
http, which the production guard allows only to a loopback address), with a
random token in the path as chat webhooks have, and with ALERT_EMAIL_TO
naming a mailbox of the harness's SMTP sink. Every POST is kept as it
arrived, for the tests to wait for and read.

`receiver.hanging()` makes it take requests and not answer until the block
ends: a receiver that is up but stuck.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
ALERT_MAILBOX = "security-alerts@example.test"
# What the deployment waits for one attempt (ALERT_TIMEOUT_SECONDS), and how many it makes.
ALERT_TIMEOUT_SECONDS = 5
ALERT_ATTEMPTS = 3
# How long a hanging request is held at most, should a test never end its block.
HANG_LIMIT_SECONDS = 120

Alert = dict[str, Any]


class AlertReceiver:
    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(24)
        self._alerts: list[Alert] = []
        self._raw: list[bytes] = []
        self._condition = threading.Condition()
        self._released = threading.Event()
        self._released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver._keep(self.path, self.rfile.read(length))
                receiver._released.wait(HANG_LIMIT_SECONDS)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                del format, args

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/alerts/{self.token}"

    @property
    def settings(self) -> dict[str, str]:
        """The environment of the production server."""
        return {
            "ALERT_WEBHOOK_URL": self.url,
            "ALERT_EMAIL_TO": ALERT_MAILBOX,
            "ALERT_TIMEOUT_SECONDS": str(ALERT_TIMEOUT_SECONDS),
            "ALERT_ATTEMPTS": str(ALERT_ATTEMPTS),
        }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def _keep(self, path: str, body: bytes) -> None:
        alert: Alert = json.loads(body) if path == f"/alerts/{self.token}" else {"path": path}
        with self._condition:
            self._alerts.append(alert)
            self._raw.append(body)
            self._condition.notify_all()

    @property
    def raw(self) -> list[bytes]:
        """Every body received, as it arrived."""
        with self._condition:
            return list(self._raw)

    def alerts(self, matching: Callable[[Alert], bool]) -> list[Alert]:
        with self._condition:
            return [alert for alert in self._alerts if matching(alert)]

    def wait_for(
        self, matching: Callable[[Alert], bool], count: int = 1, timeout: float = 30.0
    ) -> list[Alert]:
        """The first `count` alerts that match, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [alert for alert in self._alerts if matching(alert)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} matching alert(s) within {timeout}s, got {len(found)}"
                    )
                self._condition.wait(remaining)

    @contextlib.contextmanager
    def hanging(self) -> Iterator[None]:
        """Take requests and answer none of them until the block ends."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()
