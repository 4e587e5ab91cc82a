"""Checks that a string can be stored and shown safely."""

from __future__ import annotations


def text_problem(value: str) -> str | None:
    """Why the text cannot be stored, or None: NUL bytes and unpaired surrogates are refused."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None
