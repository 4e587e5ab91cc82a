"""Idempotency keys for checkout (PAY-03).

A client that retries a checkout after a timeout must get the order it
already created, not a second one; a client that reuses a key for another
purchase must be told, not silently given the first order. The key is
stored with a fingerprint of the request body to tell the two apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

HEADER = "Idempotency-Key"
MIN_LENGTH = 8
MAX_LENGTH = 128
# Printable ASCII without spaces: UUIDs, ULIDs and base64 keys all fit, and the
# key can be logged and sent on to the provider as a header unchanged.
PATTERN = r"^[!-~]+$"


def fingerprint(body: Mapping[str, Any]) -> str:
    """A digest of the request body that ignores key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
