"""Time-based one-time passwords computed here, as an authenticator app would (RFC 6238).

Independent of the generated code: HMAC-SHA1 over the 30-second step counter
(RFC 4226's HOTP with dynamic truncation to 6 digits), from the base32 secret
that `POST /api/auth/mfa/setup` hands out.

The server accepts the current step and one step either side, and each step
at most once per user (AUTH-06, docs/mfa.md). `Authenticator` remembers the
last step it gave out and gives the next unused one inside that window, so a
test gets up to three codes at once without sleeping; only a fourth within the
same 30 seconds waits for the next step.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # docs/mfa.md: "the current 30-second step and one step either side"
# A past step is not handed out this close to the moment it leaves the server's window.
MARGIN_SECONDS = 5.0


def hotp(secret: str, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: HMAC-SHA1 of the counter, dynamically truncated."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    (number,) = struct.unpack(">I", digest[offset : offset + 4])
    return str((number & 0x7FFFFFFF) % 10**digits).zfill(digits)


def step_at(moment: float) -> int:
    return int(moment // STEP_SECONDS)


def totp(secret: str, moment: float | None = None) -> str:
    """RFC 6238: the code of the step that holds `moment` (now by default)."""
    return hotp(secret, step_at(time.time() if moment is None else moment))


def code_outside_window(secret: str, now: float | None = None) -> str:
    """A well-formed 6-digit code that matches no step the server would accept now."""
    current = step_at(time.time() if now is None else now)
    accepted = {hotp(secret, s) for s in range(current - 2, current + 3)}
    candidate = 0
    while f"{candidate:06d}" in accepted:
        candidate += 1
    return f"{candidate:06d}"


@dataclass(frozen=True)
class OtpauthUri:
    """The parts of an `otpauth://totp/<issuer>:<account>?secret=...` URI."""

    kind: str
    label: str
    parameters: dict[str, str]

    @property
    def account(self) -> str:
        return self.label.split(":", 1)[-1].strip()

    @property
    def issuer(self) -> str | None:
        prefix = self.label.split(":", 1)[0] if ":" in self.label else None
        return self.parameters.get("issuer", prefix)


def parse_otpauth_uri(uri: str) -> OtpauthUri:
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth", uri
    query = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=True).items()}
    return OtpauthUri(parts.netloc, unquote(parts.path.lstrip("/")), query)


@dataclass
class Authenticator:
    """The app on a user's phone: the secret, and the last step whose code it gave out."""

    secret: str
    last_step: int | None = None
    waited: float = field(default=0.0)

    def code_for(self, step: int) -> str:
        """The code of `step`, remembered as used."""
        self.last_step = step if self.last_step is None else max(self.last_step, step)
        return hotp(self.secret, step)

    def current(self) -> str:
        """The code of the current step (whether used or not): what the app shows now."""
        return self.code_for(step_at(time.time()))

    def fresh_step(self) -> int | None:
        """The oldest step the server accepts now that no code was given out for, if any."""
        now = time.time()
        current = step_at(now)
        left_in_step = STEP_SECONDS - (now - current * STEP_SECONDS)
        oldest = current - DRIFT_STEPS
        if left_in_step < MARGIN_SECONDS:
            # The previous step leaves the window in a moment: not worth the race.
            oldest += 1
        for step in range(oldest, current + DRIFT_STEPS + 1):
            if self.last_step is None or step > self.last_step:
                return step
        return None

    def _wait_for_fresh_step(self) -> int:
        step = self.fresh_step()
        while step is None:
            pause = STEP_SECONDS - time.time() % STEP_SECONDS + 0.05
            self.waited += pause
            time.sleep(pause)
            step = self.fresh_step()
        return step

    def peek(self) -> str:
        """The code `next_code` would give, not marked used: for a try the server must refuse."""
        return hotp(self.secret, self._wait_for_fresh_step())

    def next_code(self) -> str:
        """A code the server has not seen from this user, waiting for a new step if needed."""
        return self.code_for(self._wait_for_fresh_step())

    def has_fresh_code(self) -> bool:
        return self.fresh_step() is not None
