"""`/api/files`: upload, list, download and delete the signed-in user's own files.

The session, the CSRF token and the rate limit are checked before a byte of
the upload's body is read: core/middleware.py leaves the body of this route
unread (up to its own limit, STREAMED_BODY_LIMITS) and the view streams it to
disk itself (files/multipart.py), so Django never parses the form and
nothing of the file sits in memory. Its OpenAPI body is declared from
files/openapi.py.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Status

from ..accounts.auth import request_user, session_auth
from ..core.conf import app_settings
from ..core.schemas import Page, PageParams
from ..security.errors import default_for
from ..security.filenames import content_disposition
from . import selectors, services
from .multipart import Readable, receive_stream
from .openapi import DOWNLOAD_ANSWER, UPLOAD_BODY
from .schemas import FileOut

router = Router(auth=session_auth, tags=["files"])

UPLOAD_ERRORS = {status: {"description": default_for(status)[1]} for status in (415, 503)}


def body_stream(request: HttpRequest) -> Readable:
    """The body as the server delivers it: a chunked body from the server's de-chunked
    input (Django reads a body without a length as empty), any other through Django."""
    if "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower():
        stream: Readable = request.META["wsgi.input"]
        return stream
    return request


@router.post(
    "",
    response={201: FileOut},
    openapi_extra={"requestBody": UPLOAD_BODY, "responses": UPLOAD_ERRORS},
)
def upload_file(request: HttpRequest) -> Status[FileOut]:
    upload = receive_stream(
        body_stream(request),
        request.META.get("CONTENT_TYPE"),
        selectors.file_storage(),
        app_settings().upload_max_bytes,
    )
    try:
        stored = services.file_store(owner=request_user(request), upload=upload, request=request)
    finally:
        upload.discard()
    return Status(201, FileOut.model_validate(stored))


@router.get("", response=Page[FileOut])
def list_files(request: HttpRequest, params: Query[PageParams]) -> Page[FileOut]:
    rows, next_cursor = selectors.file_list(
        owner=request_user(request), limit=params.limit, cursor=params.cursor
    )
    return Page[FileOut](
        items=[FileOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


DOWNLOAD: dict[str, Any] = {"responses": {200: DOWNLOAD_ANSWER}}


def served_type(content_type: str) -> str:
    """The stored type; text was checked to be UTF-8 at upload, and says so."""
    return f"{content_type}; charset=utf-8" if content_type.startswith("text/") else content_type


@router.get("/{file_id}", openapi_extra=DOWNLOAD)
def download_file(request: HttpRequest, file_id: uuid.UUID) -> FileResponse:
    """Always an attachment, typed as detected; nosniff and the CSP come from the middleware."""
    stored = selectors.file_get(owner=request_user(request), file_id=file_id)
    handle = selectors.file_open(stored=stored)
    response = FileResponse(handle, content_type=served_type(stored.content_type))
    # FileResponse would name the file after its storage name: the header is ours.
    response["Content-Disposition"] = content_disposition(stored.filename)
    response["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
    return response


@router.delete("/{file_id}", response={204: None})
def delete_file(request: HttpRequest, file_id: uuid.UUID) -> Status[None]:
    stored = selectors.file_get(owner=request_user(request), file_id=file_id)
    services.file_delete(stored=stored, request=request)
    return Status(204, None)
