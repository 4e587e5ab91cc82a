"""Checking a request against a rate, answering 429 with Retry-After when it is over.

Both frameworks use it as it is: the counters are a CounterStore of the chosen
kind, and AppError becomes the 429 envelope in either framework's error handler.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..security.errors import AppError
from ..security.ratelimit import CounterStore, Hit, Rate
from ..security.tokens import token_digest


class RateLimiter:
    """Fixed-window limits on (scope, subject) pairs, counted in a shared CounterStore."""

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


def too_many(hit: Hit) -> AppError:
    return AppError(
        429,
        "rate_limited",
        "Too many requests; retry later.",
        headers={"Retry-After": str(hit.retry_after(datetime.now(UTC)))},
    )
