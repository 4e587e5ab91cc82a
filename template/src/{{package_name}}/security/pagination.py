"""Opaque keyset cursors for list routes (DB-01, VAL-02).

A cursor encodes the sort key of the last row seen, so a page is one indexed
range query however deep the client pages; offsets would scan and skip.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

MAX_CURSOR_LENGTH = 200


class InvalidCursorError(ValueError):
    """The cursor was not made by this server."""


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) pair of a cursor; anything malformed raises InvalidCursorError.

    The stamp must be timezone-aware and representable in UTC: the database
    layer refuses naive datetimes, and converting an edge date such as
    0001-01-01T00:00+01:00 to UTC overflows. Either would otherwise be a 500.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, separator, row_id = raw.partition("|")
        if not separator:
            raise InvalidCursorError("not a cursor")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise InvalidCursorError("not a cursor")
        return created_at.astimezone(UTC), uuid.UUID(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
        raise InvalidCursorError("not a cursor") from error
