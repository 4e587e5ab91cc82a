"""Failed-login counting and account lockout with backoff (AUTH-05).

The counters are the shared `CounterStore` of the ratelimit app (database rows,
so every worker process and restart sees the same counts), under the keys the
FastAPI backend uses: `fail:`, `lock:` and `locks:` plus an account digest.

Counters are keyed by a digest of the *submitted* email, whether or not an
account has it: unknown and known emails take exactly the same path, so a lock
says nothing about whether the account exists (AUTH-04).

Count outside `transaction.atomic()`: each count is a durable transaction of
its own (ratelimit/store.py), so a refused request still counts.
"""

from __future__ import annotations

from datetime import timedelta

from ..core.conf import app_settings
from ..ratelimit.services import counter_store, limiter
from ..security.ratelimit import CounterStore, Rate

# How long a lock keeps counting towards the next one (each lock doubles the previous one).
LEVEL_MEMORY = timedelta(days=1)
MAX_LOCK = timedelta(days=1)


def account_subject(email: str) -> str:
    """The counters' name for an account: a keyed digest of its (normalised) email."""
    return limiter().subject(email)


class Lockout:
    """Ten failures in 15 minutes lock an account for 15 minutes, doubling on repeats."""

    def __init__(self, counters: CounterStore, rule: Rate, lock_minutes: int) -> None:
        self.counters = counters
        self.rule = rule
        self.base = timedelta(minutes=lock_minutes)

    def is_locked(self, account: str) -> bool:
        return self.counters.peek(f"lock:{account}") is not None

    def record_failure(self, account: str) -> bool:
        """Count a failure; True when it locked the account.

        Each lock within a day doubles the previous one (15, 30, 60 minutes ...),
        capped at a day, so a patient guesser gets ever fewer tries.
        """
        failures = self.counters.hit(f"fail:{account}", self.rule.window)
        if failures.count < self.rule.limit:
            return False
        level = self.counters.hit(f"locks:{account}", LEVEL_MEMORY).count
        self.counters.hold(f"lock:{account}", min(self.base * 2 ** (level - 1), MAX_LOCK))
        self.counters.reset(f"fail:{account}")
        return True

    def clear(self, account: str) -> None:
        """A successful login or a password reset starts the account afresh."""
        self.counters.reset(f"fail:{account}", f"lock:{account}", f"locks:{account}")


def lockout() -> Lockout:
    """The lockout with the configured rule (LOCKOUT_AFTER_FAILURES, LOCKOUT_MINUTES)."""
    settings = app_settings()
    return Lockout(counter_store(), settings.lockout_after_failures, settings.lockout_minutes)
