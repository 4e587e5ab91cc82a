"""Email delivery after the request, so that its timing says nothing (AUTH-04).

A signup for a registered address and one for a new address both send one
message; if either were sent while the client waited, the time an SMTP relay
takes would tell them apart. Services `post()` a message once the action it
describes is committed (after their `transaction.atomic()` block); it goes to
Django's mail framework (EMAIL_BACKEND, built from the service's settings) on
one background thread, and the response leaves at once.

Backends that only print or keep messages in memory (console in development,
locmem in tests) deliver in the request's thread instead: they take no time
worth hiding, and a test reads the outbox right after the response.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.mail import EmailMessage

from ..mail.sender import Message, Sender

logger = logging.getLogger(__name__)

INSTANT_BACKENDS = frozenset(
    {
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()


class DjangoMailSender:
    """The shared `mail.sender.Sender` protocol on Django's mail framework (EMAIL_BACKEND).

    For callers that deliver on threads of their own (monitoring's alerts):
    `send` raises when delivery fails, so they can retry.
    """

    def send(self, message: Message) -> None:
        EmailMessage(message.subject, message.body, to=[message.to]).send()


def sender() -> Sender:
    """The process's sender: every message of the service goes through EMAIL_BACKEND."""
    return DjangoMailSender()


def post(message: Message) -> None:
    """Send `message` without making the caller wait (call it after the action committed)."""
    if settings.EMAIL_BACKEND in INSTANT_BACKENDS:
        deliver(message)
        return
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        future = _executor.submit(deliver, message)
        _pending.add(future)
    future.add_done_callback(_pending.discard)


def deliver(message: Message) -> None:
    """Send now; a failure is logged (without the body, which holds a token), never raised."""
    try:
        DjangoMailSender().send(message)
    except Exception:
        logger.exception("email delivery failed", extra={"subject": message.subject})


def drain(timeout: float = 10.0) -> None:
    """Wait for queued messages (tests, and a clean shutdown)."""
    with _lock:
        pending = list(_pending)
    wait(pending, timeout=timeout)
