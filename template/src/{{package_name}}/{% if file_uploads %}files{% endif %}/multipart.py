"""The upload's multipart body, parsed as it arrives into a private temporary file.

Both backends feed the body's chunks to `UploadParser` as they read them
(python-multipart's streaming parser) and write what it hands back to disk,
so an upload never sits in memory. The file's bytes are counted on the way:
as soon as they pass the limit the upload is refused with 413 and nothing
more is read (UP-01); the server's body limit for the route is the file
limit plus MULTIPART_OVERHEAD_BYTES for the boundaries and part headers.
Size and SHA-256 are computed on the way. Exactly one part is accepted: a
file, in the field `file`; the client's Content-Type for it is ignored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from ..security.errors import AppError, ErrorDetail
from .storage import FileStorage

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
MULTIPART_OVERHEAD_BYTES = 16 * 1024
MAX_BOUNDARY_LENGTH = 70  # RFC 2046
MAX_PART_HEADERS = 8
MAX_HEADER_BYTES = 4096
READ_CHUNK_BYTES = 64 * 1024


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


def malformed() -> AppError:
    return AppError(400, "bad_request", "The multipart body is malformed.")


def interrupted() -> AppError:
    """The client went away mid-body: an everyday event, not a server error."""
    return AppError(400, "bad_request", "The upload was interrupted.")


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


class UploadParser:
    """One upload's body: `feed` each chunk as it arrives, `finish` at its end.

    AppError (400, 413, 415, 422) as soon as the body shows it must be refused.
    """

    def __init__(self, content_type: str | None, limit: int) -> None:
        self.reader = _Reader(limit)
        self.parser = MultipartParser(
            boundary_of(content_type),
            self.reader.callbacks(),
            max_header_count=MAX_PART_HEADERS,
            max_header_size=MAX_HEADER_BYTES,
        )

    def feed(self, chunk: bytes) -> bytes:
        """Parse a chunk of the body; return the file's bytes found in it."""
        try:
            self.parser.write(chunk)
        except FormParserError:
            raise malformed() from None
        return self.reader.take()

    def finish(self, path: Path) -> Received:
        """The whole body was read: the upload, once the body proves complete."""
        try:
            self.parser.finalize()
        except FormParserError:
            raise malformed() from None
        reader = self.reader
        if reader.filename is None:
            raise invalid(f"The field `{FIELD}` is required.")
        if not reader.ended:
            raise AppError(400, "bad_request", "The multipart body ends before its last boundary.")
        return Received(path, reader.filename, reader.size, reader.digest.hexdigest())


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def receive_stream(
    body: Readable, content_type: str | None, storage: FileStorage, limit: int
) -> Received:
    """Read a blocking body stream (WSGI) into a new temporary file of `storage`.

    The whole body may not pass the file limit plus MULTIPART_OVERHEAD_BYTES
    either, whatever it holds besides the file. The temporary file is removed
    whenever the upload is refused or breaks off.
    """
    parser = UploadParser(content_type, limit)
    sink, path = storage.new_incoming()
    read = 0
    try:
        with sink:
            try:
                while chunk := body.read(READ_CHUNK_BYTES):
                    read += len(chunk)
                    if read > limit + MULTIPART_OVERHEAD_BYTES:
                        raise too_large(limit)
                    sink.write(parser.feed(chunk))
            except OSError:
                raise interrupted() from None
        return parser.finish(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
