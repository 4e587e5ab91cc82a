"""Keyset pagination shared by every list route (DB-01)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..security.errors import AppError, ErrorDetail
from ..security.pagination import InvalidCursorError, decode_cursor, encode_cursor

RowT = TypeVar("RowT")


def paginate(
    db: Session,
    query: Select[RowT],
    *,
    stamp: InstrumentedAttribute[datetime],
    key: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[RowT], str | None]:
    """Newest first: one page of rows after the cursor, and the cursor of the next page."""
    if cursor is not None:
        try:
            after_stamp, after_id = decode_cursor(cursor)
        except InvalidCursorError:
            detail = ErrorDetail(field="query.cursor", issue="Not a cursor from this API.")
            raise AppError(
                422, "validation_error", "The request is not valid.", details=[detail]
            ) from None
        query = query.where(or_(stamp < after_stamp, and_(stamp == after_stamp, key < after_id)))
    rows = db.scalars(query.order_by(stamp.desc(), key.desc()).limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, stamp.key), getattr(last, key.key))
