"""Checking a request against a rate, answering 429 with Retry-After when it is over."""

from __future__ import annotations

from functools import lru_cache

from ..core.conf import app_settings
from ..core.errors import ApiError
from ..security.ratelimit import CounterStore, Hit, Rate
from ..security.tokens import token_digest
from .store import DatabaseCounterStore, utcnow


class RateLimiter:
    """Fixed-window limits on (scope, subject) pairs, counted in a shared CounterStore.

    Count outside `transaction.atomic()`: a count is its own transaction
    (store.py), so a refused request still counts.
    """

    def __init__(self, counters: CounterStore, key: str) -> None:
        self.counters = counters
        self.key = key

    def subject(self, value: str) -> str:
        """A keyed digest of an identifier (an email, say), so counters hold no personal data."""
        return token_digest(value, self.key, "rate-subject")[:32]

    def count(self, scope: str, subject: str, rate: Rate) -> Hit:
        """Count one event for (scope, subject) without judging it."""
        return self.counters.hit(f"rl:{scope}:{subject}", rate.window)

    def check(self, scope: str, subject: str, rate: Rate) -> None:
        """Count one event; raise 429 once there are more than the rate allows."""
        hit = self.count(scope, subject, rate)
        if hit.count > rate.limit:
            raise too_many(hit)

    def ensure_under(self, scope: str, subject: str, rate: Rate) -> None:
        """Raise 429 when events counted elsewhere (failures, say) have reached the rate."""
        hit = self.counters.peek(f"rl:{scope}:{subject}")
        if hit is not None and hit.count >= rate.limit:
            raise too_many(hit)


def too_many(hit: Hit) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "Too many requests; retry later.",
        headers={"Retry-After": str(hit.retry_after(utcnow()))},
    )


@lru_cache
def counter_store() -> CounterStore:
    """The process's counters (the database; Redis when that store is chosen)."""
    return DatabaseCounterStore()


def limiter() -> RateLimiter:
    """The process's rate limiter, keyed with SECRET_KEY."""
    return RateLimiter(counter_store(), app_settings().secret_key.get_secret_value())
