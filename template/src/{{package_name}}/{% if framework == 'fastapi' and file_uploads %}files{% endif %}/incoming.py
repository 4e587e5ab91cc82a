"""Receiving `POST /api/files`: the multipart body, streamed into a private temporary file.

The body is parsed as it arrives (python-multipart's streaming parser) and
the file's bytes go to disk with a running count: as soon as they pass
UPLOAD_MAX_BYTES the request is refused with 413 and nothing more is read,
so an oversized upload never reaches memory or disk beyond the limit
(UP-01). SecurityMiddleware caps the whole body too, at the file limit plus
MULTIPART_OVERHEAD_BYTES for the boundaries and part headers. Size and
SHA-256 are computed on the way. Exactly one part is accepted: a file, in
the field `file`; the client's Content-Type for it is ignored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from ..security.errors import AppError, ErrorDetail
from .storage import FileStorage

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
MULTIPART_OVERHEAD_BYTES = 16 * 1024
MAX_BOUNDARY_LENGTH = 70  # RFC 2046
MAX_PART_HEADERS = 8
MAX_HEADER_BYTES = 4096


@dataclass(frozen=True)
class Received:
    """An upload on disk, not yet checked: where it is, the client's name, size and SHA-256."""

    path: Path
    filename: str
    size: int
    sha256: str

    def discard(self) -> None:
        """Remove the temporary file (a no-op once the upload was moved into storage)."""
        self.path.unlink(missing_ok=True)


def invalid(issue: str) -> AppError:
    detail = ErrorDetail(field=f"body.{FIELD}", issue=issue)
    return AppError(422, "validation_error", "The request is not valid.", details=[detail])


def too_large(limit: int) -> AppError:
    return AppError(413, "payload_too_large", f"The file is larger than {limit} bytes.")


class _Reader:
    """python-multipart's callbacks: one part, its headers, its data counted and hashed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts = 0
        self.headers: dict[bytes, bytes] = {}
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.filename: str | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.pending = bytearray()
        self.ended = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_data,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > 1:
            raise invalid(f"Send exactly one part: the file, in the field `{FIELD}`.")

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[bytes(self.header_name).strip().lower()] = bytes(self.header_value).strip()
        self.header_name.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        kind, options = parse_options_header(self.headers.get(b"content-disposition"))
        if kind != b"form-data" or options.get(b"name") != FIELD.encode():
            raise invalid(f"Send the file in the field `{FIELD}`; no other field is accepted.")
        if b"filename" not in options:
            raise invalid(f"The field `{FIELD}` must be a file, with a file name.")
        self.filename = options[b"filename"].decode("utf-8", errors="replace")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.size + (end - start) > self.limit:
            raise too_large(self.limit)
        chunk = data[start:end]
        self.size += len(chunk)
        self.digest.update(chunk)
        self.pending += chunk

    def end(self) -> None:
        self.ended = True

    def take(self) -> bytes:
        chunk = bytes(self.pending)
        self.pending.clear()
        return chunk


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not 0 < len(boundary) <= MAX_BOUNDARY_LENGTH:
        raise AppError(
            415,
            "unsupported_media_type",
            f"Send the file as multipart/form-data, in the field `{FIELD}`.",
        )
    return boundary


async def receive_upload(request: Request, storage: FileStorage, limit: int) -> Received:
    """Stream the request's file part into a new temporary file of `storage`."""
    boundary = boundary_of(request.headers.get("content-type"))
    reader = _Reader(limit)
    parser = MultipartParser(
        boundary,
        reader.callbacks(),
        max_header_count=MAX_PART_HEADERS,
        max_header_size=MAX_HEADER_BYTES,
    )
    sink, path = await run_in_threadpool(storage.new_incoming)
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if reader.pending:
                    await run_in_threadpool(sink.write, reader.take())
            parser.finalize()
        except FormParserError:
            raise AppError(400, "bad_request", "The multipart body is malformed.") from None
        except ClientDisconnect:  # the client gave up: an everyday event, not a server error
            raise AppError(400, "bad_request", "The upload was interrupted.") from None
        finally:
            sink.close()
        if reader.filename is None:
            raise invalid(f"The field `{FIELD}` is required.")
        if not reader.ended:
            raise AppError(400, "bad_request", "The multipart body ends before its last boundary.")
        return Received(path, reader.filename, reader.size, reader.digest.hexdigest())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
