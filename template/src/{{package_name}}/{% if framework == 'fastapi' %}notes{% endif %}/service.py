"""Note operations, always scoped to the owner: another user's note is simply not found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.database import utcnow
from ..core.pagination import paginate
from ..security.errors import AppError
from ..security.html import sanitize_html
from .models import Note


def not_found() -> AppError:
    return AppError(404, "not_found", "The resource does not exist.")


def get_note(db: Session, owner_id: uuid.UUID, note_id: uuid.UUID) -> Note:
    """The owner's note; a foreign note is the same 404 as a missing one (AUTHZ-03)."""
    note = db.scalar(select(Note).where(Note.id == note_id, Note.owner_id == owner_id))
    if note is None:
        raise not_found()
    return note


def list_notes(
    db: Session, owner_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[Sequence[Note], str | None]:
    query = select(Note).where(Note.owner_id == owner_id)
    return paginate(db, query, stamp=Note.created_at, key=Note.id, limit=limit, cursor=cursor)


def create_note(db: Session, owner_id: uuid.UUID, title: str, body: str) -> Note:
    """Body HTML is sanitized before it is stored (VAL-03)."""
    now = utcnow()
    note = Note(
        owner_id=owner_id, title=title, body=sanitize_html(body), created_at=now, updated_at=now
    )
    db.add(note)
    db.flush()
    return note


def update_note(
    db: Session, owner_id: uuid.UUID, note_id: uuid.UUID, title: str | None, body: str | None
) -> Note:
    note = get_note(db, owner_id, note_id)
    if title is not None:
        note.title = title
    if body is not None:
        note.body = sanitize_html(body)
    note.updated_at = utcnow()
    db.flush()
    return note


def delete_note(db: Session, owner_id: uuid.UUID, note_id: uuid.UUID) -> None:
    db.delete(get_note(db, owner_id, note_id))
