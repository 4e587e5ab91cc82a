"""Random tokens and their keyed hashes.

Session ids and emailed tokens are stored only as HMAC-SHA256 digests keyed
with SECRET_KEY: a copy of the database alone lets nobody log in or reset a
password. The tokens are 256-bit random values, so a fast hash is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str, key: str, purpose: str) -> str:
    """Keyed digest of a token; `purpose` keeps digests of one kind useless as another."""
    message = f"{purpose}\x00{token}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison, so that timing reveals nothing about a secret."""
    return hmac.compare_digest(a.encode(), b.encode())
