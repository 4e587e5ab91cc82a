"""Reading notes, always through the owner: another user's note is simply not found."""

from __future__ import annotations

import uuid

from ..accounts.models import User
from ..core.errors import ApiError
from ..core.pagination import paginate
from .models import Note


def not_found() -> ApiError:
    """The one answer for a note that is missing *or* someone else's (AUTHZ-03)."""
    return ApiError(404, "not_found", "The resource does not exist.")


def note_get(*, owner: User, note_id: uuid.UUID) -> Note:
    """The owner's note; the owner is part of the query, so a foreign row is never loaded."""
    note = Note.objects.filter(owner=owner, id=note_id).first()
    if note is None:
        raise not_found()
    return note


def note_list(*, owner: User, limit: int, cursor: str | None) -> tuple[list[Note], str | None]:
    """One page of the owner's notes, newest first, and the cursor of the next (DB-01)."""
    return paginate(Note.objects.filter(owner=owner), limit=limit, cursor=cursor)
