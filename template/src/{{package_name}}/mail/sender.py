"""Email backends: console for development, SMTP for production, memory for tests.

Messages are sent after the response (a background task), so the time a
request takes never says whether an email went out (AUTH-04).
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from ..settings import Settings


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class ConsoleSender:
    """Prints messages to stdout, bypassing the logs: development only (the guard says so)."""

    def send(self, message: Message) -> None:
        sys.stdout.write(f"--- email to {message.to}: {message.subject}\n{message.body}\n---\n")


class MemorySender:
    """Keeps messages in a list that tests read."""

    def __init__(self) -> None:
        self.outbox: list[Message] = []

    def send(self, message: Message) -> None:
        self.outbox.append(message)


class SmtpSender:
    """Delivers through an SMTP relay, with STARTTLS and certificate checks when enabled."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.settings.email_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=10) as smtp:
            if self.settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.smtp_username:
                password = self.settings.smtp_password.get_secret_value()
                smtp.login(self.settings.smtp_username, password)
            smtp.send_message(email)


def make_sender(settings: Settings) -> Sender:
    if settings.email_backend == "smtp":
        return SmtpSender(settings)
    if settings.email_backend == "memory":
        return MemorySender()
    return ConsoleSender()
