"""Keyset pagination shared by every list route (DB-01).

A cursor encodes the sort key of the last row seen (security/pagination.py),
so a page is one indexed range query however deep the client pages.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from ..security.pagination import InvalidCursorError, decode_cursor, encode_cursor
from .errors import validation_error

ModelT = TypeVar("ModelT", bound=Model)


def paginate(
    queryset: QuerySet[ModelT],
    *,
    limit: int,
    cursor: str | None,
    stamp: str = "created_at",
    key: str = "id",
) -> tuple[list[ModelT], str | None]:
    """Newest first: one page of rows after the cursor, and the cursor of the next page.

    `stamp` is an aware datetime field and `key` a UUID field that breaks ties.
    A cursor this server did not make is a 422 on `query.cursor`.
    """
    if cursor is not None:
        try:
            after_stamp, after_key = decode_cursor(cursor)
        except InvalidCursorError:
            raise validation_error("query.cursor", "Not a cursor from this API.") from None
        queryset = queryset.filter(
            Q(**{f"{stamp}__lt": after_stamp}) | Q(**{stamp: after_stamp, f"{key}__lt": after_key})
        )
    rows = list(queryset.order_by(f"-{stamp}", f"-{key}")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, stamp), getattr(last, key))
