"""Gunicorn, configured from the service's settings, for `<slug> serve` (cli.py).

- X-Forwarded-For and -Proto are believed only from TRUSTED_PROXIES
  (`forwarded_allow_ips`; Gunicorn's default would trust 127.0.0.1).
- No `Server` header names the stack (DATA-03): Gunicorn always writes one, so
  its response class is told not to.
- Access logs stay off: core/middleware.py logs every request as JSON, without
  its query string; Gunicorn's own messages go through the same JSON pipeline.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.config import Config
from gunicorn.http import wsgi as gunicorn_wsgi

from .logging import configure_logging

WORKER_CLASS = "gthread"
THREADS = 4
TIMEOUT_SECONDS = 30
GRACEFUL_TIMEOUT_SECONDS = 10
KEEPALIVE_SECONDS = 5
# Request line and header limits (SRV-03): Gunicorn's largest request line, so that
# an overlong query parameter reaches the application and gets a 422 envelope.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190

_default_headers = gunicorn_wsgi.Response.default_headers


def _headers_without_server(self: Any) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


def hide_server_header() -> None:
    """Drop the `Server: gunicorn` line from every response this process writes."""
    gunicorn_wsgi.Response.default_headers = _headers_without_server


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's own messages (start, worker exits, bad requests) as JSON lines on stdout."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        configure_logging(str(cfg.loglevel).upper())
        self.error_log.handlers[:] = []
        self.error_log.propagate = True
        self.access_log.disabled = True


class Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn with options from the command line, no config file and no argv parsing."""

    def __init__(self, application: str, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from django.utils.module_loading import import_string

        hide_server_header()
        return import_string(self.application)


def gunicorn_options(
    *,
    host: str,
    port: int,
    workers: int,
    trusted_proxies: list[str],
    certfile: str | None,
    keyfile: str | None,
    reload: bool,
    log_level: str,
) -> dict[str, Any]:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "threads": THREADS,
        "timeout": TIMEOUT_SECONDS,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "keepalive": KEEPALIVE_SECONDS,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "forwarded_allow_ips": ",".join(trusted_proxies),
        "certfile": certfile,
        "keyfile": keyfile,
        "reload": reload,
        "accesslog": None,
        "errorlog": "-",
        "logger_class": f"{__name__}.JsonLogger",
        "loglevel": log_level.lower(),
        # The application is loaded in each worker after the fork: no database
        # connection or thread is shared between processes.
        "preload_app": False,
        "proc_name": "service",
        # Gunicorn's runtime control socket (a management interface) stays closed.
        "control_socket_disable": True,
    }
