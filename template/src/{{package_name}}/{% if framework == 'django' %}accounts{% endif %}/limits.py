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

from ..core.conf import app_settings
from ..ratelimit.services import counter_store, limiter
from ..security.lockout import Lockout


def account_subject(email: str) -> str:
    """The counters' name for an account: a keyed digest of its (normalised) email."""
    return limiter().subject(email)


def lockout() -> Lockout:
    """The lockout with the configured rule (LOCKOUT_AFTER_FAILURES, LOCKOUT_MINUTES)."""
    settings = app_settings()
    return Lockout(counter_store(), settings.lockout_after_failures, settings.lockout_minutes)
