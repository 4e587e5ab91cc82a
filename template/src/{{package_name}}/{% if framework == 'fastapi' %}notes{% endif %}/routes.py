"""`/api/notes`: CRUD on the signed-in user's own notes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ..auth.dependencies import CurrentAuth
from ..core.database import DbSession
from ..core.schemas import DEFAULT_LIMIT, Cursor, Limit, Page, StrictJSONRoute
from . import service
from .schemas import NoteIn, NoteOut, NotePatch

router = APIRouter(prefix="/notes", tags=["notes"], route_class=StrictJSONRoute)


@router.get("")
def list_notes(
    auth: CurrentAuth, db: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[NoteOut]:
    notes, next_cursor = service.list_notes(db, auth.user.id, limit, cursor)
    return Page[NoteOut](
        items=[NoteOut.model_validate(note) for note in notes], next_cursor=next_cursor
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_note(body: NoteIn, auth: CurrentAuth, db: DbSession) -> NoteOut:
    return NoteOut.model_validate(service.create_note(db, auth.user.id, body.title, body.body))


@router.get("/{note_id}")
def get_note(note_id: uuid.UUID, auth: CurrentAuth, db: DbSession) -> NoteOut:
    return NoteOut.model_validate(service.get_note(db, auth.user.id, note_id))


@router.patch("/{note_id}")
def update_note(note_id: uuid.UUID, body: NotePatch, auth: CurrentAuth, db: DbSession) -> NoteOut:
    note = service.update_note(db, auth.user.id, note_id, body.title, body.body)
    return NoteOut.model_validate(note)


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_note(note_id: uuid.UUID, auth: CurrentAuth, db: DbSession) -> None:
    service.delete_note(db, auth.user.id, note_id)
