"""Rates such as `10/minute`, and the fixed-window counting they rely on (RATE-01)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*")


@dataclass(frozen=True)
class Rate:
    """At most `limit` events per `window`."""

    limit: int
    window: timedelta

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Parse `10/minute`, `5/hour` or `10/15minutes`; anything else raises ValueError."""
        match = _RATE.fullmatch(text)
        if not match or int(match[1]) < 1:
            raise ValueError(f"not a rate: {text!r} (expected e.g. '10/minute')")
        periods = int(match[2] or 1)
        if periods < 1:
            raise ValueError(f"not a rate: {text!r}")
        return cls(int(match[1]), timedelta(seconds=periods * _UNITS[match[3]]))

    def __str__(self) -> str:
        return f"{self.limit}/{int(self.window.total_seconds())}seconds"


@dataclass(frozen=True)
class Hit:
    """The state of one counter right after it was incremented."""

    count: int
    expires_at: datetime

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends, at least 1 (the Retry-After value)."""
        return max(1, math.ceil((self.expires_at - now).total_seconds()))


class CounterStore(Protocol):
    """Counters shared by every process of the service (RATE-02).

    A window starts at a key's first hit and ends `window` later; the next hit
    after that starts a new one. Every operation is atomic in the store.
    """

    def hit(self, key: str, window: timedelta) -> Hit:
        """Add one to the key's counter and return the new state."""
        ...

    def peek(self, key: str) -> Hit | None:
        """The current state, or None when the key has no live window."""
        ...

    def hold(self, key: str, duration: timedelta) -> None:
        """Set the key to 1 for `duration`, replacing any current window (used for locks)."""
        ...

    def reset(self, *keys: str) -> None:
        """Forget the keys."""
        ...
