"""Filling `.env` from `.env.example`: shared by generation and by updates.

`.env.example` is template-owned and lists every setting with a safe value or
the placeholder `change-me`. `.env` is the project's own (copier's
`_skip_if_exists`), so an update never rewrites it; instead `sync_env.py`
appends the settings that a newer template version (or a newly chosen feature,
such as MFA's ENCRYPTION_KEYS) introduced. Both use `fill`, so a secret is made
the same way whether the project is new or updated.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping

PLACEHOLDER = "change-me"
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)\}")
SECRET_BYTES = 48


def settings_of(text: str) -> dict[str, str]:
    """The NAME=value pairs of an env file, comments and blank lines left out."""
    return dict(_pairs(text))


def fill(example: str, known: Mapping[str, str], *, only_missing: bool) -> list[str]:
    """The lines of `.env.example` with a fresh secret for each placeholder.

    `${NAME}` refers to a value set above (a password inside a URL, say), taken
    from `known` (an existing `.env`) or from this fill. With `only_missing`,
    settings already in `known` and the comments before them are left out, so
    that the result can be appended to an existing `.env`.
    """
    values = dict(known)
    lines: list[str] = []
    comments: list[str] = []
    for line in example.splitlines():
        name, value = _pair(line)
        if name is None:
            comments.append(line)
            continue
        if only_missing and name in known:
            comments = []
            continue
        if value == PLACEHOLDER:
            value = secrets.token_urlsafe(SECRET_BYTES)
        value = REFERENCE.sub(lambda match: values.get(match[1], match[0]), value)
        values[name] = value
        lines += [*comments, f"{name}={value}"]
        comments = []
    return lines if only_missing else [*lines, *comments]


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        name, value = _pair(line)
        if name is not None:
            yield name, value


def _pair(line: str) -> tuple[str | None, str]:
    if line.startswith("#"):
        return None, ""
    name, sep, value = line.partition("=")
    return (name.strip(), value) if sep and name.strip() else (None, "")
