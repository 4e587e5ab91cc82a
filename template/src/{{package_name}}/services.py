"""The long-lived collaborators of the service, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from .auth.lockout import Lockout
from .auth.service import Accounts
from .auth.sessions import SessionStore
from .core.database import Database
from .mail.sender import Sender, make_sender
from .ratelimit.service import RateLimiter
from .ratelimit.store import DatabaseCounterStore
from .settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    limiter: RateLimiter
    sessions: SessionStore
    mailer: Sender
    accounts: Accounts


def build_services(settings: Settings, database: Database) -> Services:
    counters = DatabaseCounterStore(database)
    limiter = RateLimiter(counters, settings.secret_key.get_secret_value())
    sessions = SessionStore(settings)
    lockout = Lockout(counters, settings)
    return Services(
        settings=settings,
        database=database,
        limiter=limiter,
        sessions=sessions,
        mailer=make_sender(settings),
        accounts=Accounts(settings, database, sessions, limiter, lockout),
    )
