"""The process's counters and rate limiter (the limiter itself is service.py, shared).

Count outside `transaction.atomic()`: a count is its own transaction
(store.py), so a refused request still counts.
"""

from __future__ import annotations

from functools import lru_cache

from ..core.conf import app_settings
from ..security.ratelimit import CounterStore
from .service import RateLimiter
from .store import DatabaseCounterStore


@lru_cache
def counter_store() -> CounterStore:
    """The process's counters, in the database that every worker shares."""
    return DatabaseCounterStore()


def limiter() -> RateLimiter:
    """The process's rate limiter, keyed with SECRET_KEY."""
    return RateLimiter(counter_store(), app_settings().secret_key.get_secret_value())
