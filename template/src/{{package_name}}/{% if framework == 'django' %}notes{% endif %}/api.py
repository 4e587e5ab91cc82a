"""`/api/notes`: CRUD on the signed-in user's own notes; thin views over services and selectors."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from ..accounts.auth import request_user, session_auth
from ..core.schemas import Page, PageParams
from . import selectors, services
from .schemas import NoteIn, NoteOut, NotePatch

router = Router(auth=session_auth, tags=["notes"])


@router.get("", response=Page[NoteOut])
def list_notes(request: HttpRequest, params: Query[PageParams]) -> Page[NoteOut]:
    notes, next_cursor = selectors.note_list(
        owner=request_user(request), limit=params.limit, cursor=params.cursor
    )
    return Page[NoteOut](
        items=[NoteOut.model_validate(note) for note in notes], next_cursor=next_cursor
    )


@router.post("", response={201: NoteOut})
def create_note(request: HttpRequest, payload: NoteIn) -> Status[NoteOut]:
    note = services.note_create(owner=request_user(request), title=payload.title, body=payload.body)
    return Status(201, NoteOut.model_validate(note))


@router.get("/{note_id}", response=NoteOut)
def get_note(request: HttpRequest, note_id: uuid.UUID) -> NoteOut:
    return NoteOut.model_validate(selectors.note_get(owner=request_user(request), note_id=note_id))


@router.patch("/{note_id}", response=NoteOut)
def update_note(request: HttpRequest, note_id: uuid.UUID, payload: NotePatch) -> NoteOut:
    note = selectors.note_get(owner=request_user(request), note_id=note_id)
    note = services.note_update(note=note, title=payload.title, body=payload.body)
    return NoteOut.model_validate(note)


@router.delete("/{note_id}", response={204: None})
def delete_note(request: HttpRequest, note_id: uuid.UUID) -> Status[None]:
    services.note_delete(note=selectors.note_get(owner=request_user(request), note_id=note_id))
    return Status(204, None)
