"""Failed-login counting and account lockout with backoff (AUTH-05).

Counters are keyed by a digest of the submitted email, whether or not an
account has it: unknown and known emails take exactly the same path, so a
lockout says nothing about whether the account exists (AUTH-04). Both
frameworks use it on their shared CounterStore.
"""

from __future__ import annotations

from datetime import timedelta

from .ratelimit import CounterStore, Rate

# How long a lock keeps counting towards the next one.
LEVEL_MEMORY = timedelta(days=1)
MAX_LOCK = timedelta(days=1)


class Lockout:
    """`rule` failures lock an account for `lock_minutes`, doubling on repeats."""

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
