"""Structured JSON logs on standard output, with secrets redacted (ERR-02, LOG-01).

Everything, including Django's and Gunicorn's records, goes through one
structlog pipeline, so a collector reads a single JSON-lines stream. Django
calls `configure` at start-up (LOGGING_CONFIG in config/settings/base.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from ..security.redaction import redact

# Loggers that would print on their own (Django's DEFAULT_LOGGING, Gunicorn):
# their records go to the root handler instead, as JSON.
OWN_HANDLERS = ("django", "django.server", "django.request", "gunicorn.error", "gunicorn")


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current `sys.stdout`, so that replacing it (tests, daemons) just works."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current stdout; assignments are ignored."""


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every field, including the rendered exception."""
    redacted: EventDict = redact(event_dict)
    return redacted


def drop_django_request(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Django attaches the request object to its records: it holds cookies, keep it out."""
    event_dict.pop("request", None)
    event_dict.pop("status_code", None)
    return event_dict


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stdout as one redacted JSON object per line."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), drop_django_request],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in OWN_HANDLERS:
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The middleware logs each request itself, without its query string.
    logging.getLogger("gunicorn.access").disabled = True
    logging.getLogger("django.server").disabled = True
    # httpx logs the URL of every request it sends; an alert webhook's URL holds
    # its token. Its warnings and errors still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def configure(logging_settings: Mapping[str, Any]) -> None:
    """Django's LOGGING_CONFIG hook: `LOGGING = {"level": ...}`."""
    configure_logging(str(logging_settings.get("level", "INFO")))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger that picks up the configuration at its first use, not at import."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
