"""Redaction of secrets from anything that is logged (ERR-02).

Logs travel to collectors that many people can read; a password, a session
cookie or a reset token in a log line is a credential leak.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

_SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|cookie|authori[sz]ation|session|csrf|api[-_]?key"
    r"|private[-_]?key|otp|recovery[-_]?code|signature|credential|dsn|database[-_]?url",
    re.IGNORECASE,
)
# `key=value` pairs inside free text, such as a query string or an error message.
_SENSITIVE_PAIR = re.compile(
    r"(?P<key>[\w-]*(?:pass(?:word|wd)?|secret|token|session|csrf|api[-_]?key|otp)[\w-]*)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>[^\s&;,]+)",
    re.IGNORECASE,
)
# Credentials embedded in a URL, e.g. postgresql://user:password@host/db.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)


def is_sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key))


def redact_text(text: str) -> str:
    """Mask `key=value` secrets and URL credentials in free text."""
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)
    return _SENSITIVE_PAIR.sub(rf"\g<key>\g<sep>{REDACTED}", text)


def redact(value: Any) -> Any:
    """Return a copy of a log value with every secret masked, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and is_sensitive_key(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
