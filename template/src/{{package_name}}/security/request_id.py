"""Request ids: accept a sane client id so traces join up, otherwise make one."""

from __future__ import annotations

import re
import uuid

_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(header_value: str | None) -> str:
    """Return the client's id when it is at most 64 safe characters, else a fresh one.

    A client-chosen id ends up in logs, so anything that could forge log lines
    or carry markup is replaced rather than escaped.
    """
    if header_value is not None and _SANE.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex
