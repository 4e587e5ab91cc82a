"""`/api/files`: upload, list, download and delete the signed-in user's own files.

Mounted on the protected router, so the session, the CSRF token and the rate
limit are checked before a byte of the body is read. The upload route reads
the body itself, as a stream (incoming.py), instead of letting the framework
parse the form; its OpenAPI body is declared in openapi.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse

from ..auth.dependencies import CurrentAuth
from ..core.context import Context
from ..core.database import DbSession
from ..core.openapi import error_responses
from ..core.schemas import DEFAULT_LIMIT, Cursor, Limit, Page
from ..security.filenames import content_disposition
from ..settings import Settings
from .incoming import receive_upload
from .multipart import MULTIPART_OVERHEAD_BYTES, Received
from .openapi import DOWNLOAD_ANSWER, UPLOAD_BODY
from .schemas import FileOut
from .service import Files

router = APIRouter(prefix="/files", tags=["files"])

DOWNLOAD_CHUNK_BYTES = 64 * 1024


def upload_body_limit(settings: Settings) -> int:
    """The body limit of the upload route: the file limit plus room for the multipart framing."""
    return settings.upload_max_bytes + MULTIPART_OVERHEAD_BYTES


async def get_files(request: Request) -> Files:
    files: Files = request.app.state.files
    return files


FilesService = Annotated[Files, Depends(get_files)]


async def received_upload(request: Request, files: FilesService) -> AsyncIterator[Received]:
    """The upload streamed to a temporary file, removed after the route unless it was kept."""
    upload = await receive_upload(request, files.storage, files.settings.upload_max_bytes)
    try:
        yield upload
    finally:
        upload.discard()


Upload = Annotated[Received, Depends(received_upload, scope="function")]

DOWNLOAD: dict[int | str, dict[str, Any]] = {200: DOWNLOAD_ANSWER}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses=error_responses(415, 503),
)
def upload_file(
    auth: CurrentAuth, upload: Upload, context: Context, files: FilesService
) -> FileOut:
    return FileOut.model_validate(files.store(context, auth.user.id, upload))


@router.get("")
def list_files(
    auth: CurrentAuth,
    db: DbSession,
    files: FilesService,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[FileOut]:
    rows, next_cursor = files.list_files(db, auth.user.id, limit, cursor)
    return Page[FileOut](
        items=[FileOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/{file_id}", response_class=Response, responses=DOWNLOAD)
def download_file(
    file_id: uuid.UUID, auth: CurrentAuth, db: DbSession, files: FilesService
) -> StreamingResponse:
    """Always an attachment, typed as detected; nosniff and the CSP come from the middleware."""
    stored = files.get_file(db, auth.user.id, file_id)
    handle = files.open_file(stored)
    return StreamingResponse(
        _chunks(handle),
        media_type=stored.content_type,
        headers={
            "Content-Disposition": content_disposition(stored.filename),
            "Content-Length": str(os.fstat(handle.fileno()).st_size),
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(DOWNLOAD_CHUNK_BYTES):
            yield chunk


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_file(
    file_id: uuid.UUID, auth: CurrentAuth, db: DbSession, context: Context, files: FilesService
) -> None:
    files.delete_file(db, context, auth.user.id, file_id)
