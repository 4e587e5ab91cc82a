"""Writing notes: the only code that stores a note body, so none escapes sanitizing (VAL-03)."""

from __future__ import annotations

from django.utils import timezone

from ..accounts.models import User
from ..security.html import sanitize_html
from .models import Note


def note_create(*, owner: User, title: str, body: str) -> Note:
    """Store a new note for `owner`; owner and dates come from the server (AUTHZ-04)."""
    now = timezone.now()
    return Note.objects.create(
        owner=owner, title=title, body=sanitize_html(body), created_at=now, updated_at=now
    )


def note_update(*, note: Note, title: str | None, body: str | None) -> Note:
    """Change what was sent (None: unchanged); the body is sanitized again."""
    if title is not None:
        note.title = title
    if body is not None:
        note.body = sanitize_html(body)
    note.updated_at = timezone.now()
    note.save(update_fields=["title", "body", "updated_at"])
    return note


def note_delete(*, note: Note) -> None:
    note.delete()
