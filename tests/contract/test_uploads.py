"""API.md "Files" (UP-01..04), over HTTPS against the production server and a real clamd.

The harness starts a clamd of its own for each target (tests/clamav.py, with a
signature for the EICAR test file), gives the server its address and an
UPLOAD_DIR, and lets the tests stop clamd and look into that directory: what
is on disk after a refused upload is part of the rule. Every file sent here is
built byte by byte below; a request goes out exactly as written, multipart
framing included, so that hostile file names reach the server as given.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import ssl
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from contract.client import Browser, assert_error, assert_security_headers
from contract.servers import Deployment

pytestmark = [pytest.mark.contract, pytest.mark.uploads]

FILES = "/api/files"
FILE_FIELDS = {"id", "filename", "content_type", "size", "created_at"}
STORAGE_NAME = re.compile(r"[0-9a-f]{32}")
MIB = 1024 * 1024
LIMIT = 10 * MIB  # API.md: "Size limit 10 MiB (configurable)", the default here
BOUNDARY = "contract-upload-boundary"

# --- files ------------------------------------------------------------------------------------


def png(width: int = 3, height: int = 2) -> bytes:
    """A valid greyscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(x % 256 for x in range(width)) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


TEXT = "Minutes of the meeting\n- caf\u00e9 at ten \u2713\n".encode()
# The EICAR test file (https://www.eicar.org), joined at run time.
EICAR = b"".join((rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$", b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"))
ELF_EXECUTABLE = (
    b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(40)
)
WINDOWS_EXECUTABLE = b"MZ\x90\x00\x03" + bytes(55) + b"\x40\x00\x00\x00PE\x00\x00" + bytes(64)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="9"/></svg>\n'


def multipart(
    content: bytes,
    filename: bytes,
    part_type: bytes = b"application/octet-stream",
    field: bytes = b"file",
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of one part and its Content-Type; the name goes out as given."""
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="'
        + field
        + b'"; filename="'
        + filename
        + b'"\r\nContent-Type: '
        + part_type
        + b"\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(
    client: Browser, content: bytes, filename: str | bytes, part_type: bytes = b"image/png"
) -> httpx.Response:
    name = filename.encode() if isinstance(filename, str) else filename
    body, headers = multipart(content, name, part_type)
    return client.request("POST", FILES, content=body, headers=headers)


# --- what is on disk ---------------------------------------------------------------------------


def upload_dir(deployment: Deployment) -> Path:
    assert deployment.upload_dir is not None, "the target has no uploads"
    return deployment.upload_dir


def files_on_disk(deployment: Deployment) -> set[Path]:
    """Every file under the server's UPLOAD_DIR, unfinished uploads included."""
    root = upload_dir(deployment)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def assert_nothing_new_on_disk(deployment: Deployment, before: set[Path]) -> None:
    assert files_on_disk(deployment) == before, "a refused upload left a file behind"


def audit_actions(admin: Browser, action: str) -> list[dict[str, Any]]:
    response = admin.get("/api/admin/audit-log", params={"action": action, "limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- UP-01 and UP-03: in by content, out as an attachment ----------------------------------------


@pytest.mark.checklist("UP-01", "UP-03")
def test_a_png_is_kept_under_a_random_name_and_comes_back_byte_identical_as_an_attachment(
    user: Browser, deployment: Deployment
) -> None:
    image = png(width=40, height=30)
    before = files_on_disk(deployment)
    created = upload(user, image, "r\u00e9sum\u00e9 photo.png", b"text/html")
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == FILE_FIELDS
    uuid.UUID(body["id"])
    assert body["filename"] == "r\u00e9sum\u00e9 photo.png"
    assert body["content_type"] == "image/png", "the type comes from the content, not the client"
    assert body["size"] == len(image)

    (stored,) = files_on_disk(deployment) - before
    assert stored.parent == upload_dir(deployment)
    assert STORAGE_NAME.fullmatch(stored.name), f"not a random name: {stored.name}"
    assert stored.read_bytes() == image

    downloaded = user.get(f"{FILES}/{body['id']}")
    assert downloaded.status_code == 200
    assert downloaded.content == image
    assert hashlib.sha256(downloaded.content).digest() == hashlib.sha256(image).digest()
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    exact = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)
    assert exact, f"no RFC 5987 filename* in {disposition!r}"
    assert unquote(exact[1]) == "r\u00e9sum\u00e9 photo.png"
    assert 'filename="' in disposition, "an ASCII fallback for older clients"
    assert_security_headers(downloaded)


@pytest.mark.checklist("UP-01")
@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (ELF_EXECUTABLE, "holiday.png"),
        (WINDOWS_EXECUTABLE, "invoice.pdf"),
        (WINDOWS_EXECUTABLE, "readme.txt"),
        (png()[:33] + ELF_EXECUTABLE, "photo.png"),
        (png() + b"PK\x03\x04" + bytes(26) + b"PK\x05\x06" + bytes(18), "photo.png"),
        (HTML, "page.txt"),
        (SVG, "drawing.txt"),
        (png(), "photo.jpg"),
        (TEXT, "notes.html"),
    ],
    ids=[
        "executable-named-png",
        "executable-named-pdf",
        "executable-named-txt",
        "png-header-on-an-executable",
        "png-zip-polyglot",
        "html-named-txt",
        "svg-named-txt",
        "png-named-jpg",
        "text-named-html",
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(
    user: Browser, deployment: Deployment, content: bytes, filename: str
) -> None:
    before = files_on_disk(deployment)
    assert_error(upload(user, content, filename), 422)
    assert_nothing_new_on_disk(deployment, before)


# --- UP-02: scanned before it is kept, failing closed ---------------------------------------------


@pytest.mark.checklist("UP-02", "ERR-03")
def test_the_eicar_test_file_is_refused_as_malware_audited_and_not_stored(
    user: Browser, admin: Browser, deployment: Deployment
) -> None:
    before = files_on_disk(deployment)
    refused = upload(user, EICAR, "eicar.txt", b"text/plain")
    assert_error(refused, 422, "malware_detected")
    assert_nothing_new_on_disk(deployment, before)
    assert user.get(FILES).json() == {"items": [], "next_cursor": None}
    request_id = refused.headers["x-request-id"]
    events = [
        e for e in audit_actions(admin, "upload_malware_detected") if e["request_id"] == request_id
    ]
    assert len(events) == 1, events
    assert events[0]["actor_id"] == user.me_account.id


@pytest.mark.checklist("UP-02")
def test_with_clamd_stopped_an_upload_is_refused_with_503_and_nothing_is_stored(
    user: Browser, deployment: Deployment
) -> None:
    assert deployment.clamd is not None
    before = files_on_disk(deployment)
    with deployment.clamd.stopped():
        refused = upload(user, png(), "photo.png")
        assert_error(refused, 503, "scanner_unavailable")
        assert int(refused.headers["retry-after"]) > 0
        assert_nothing_new_on_disk(deployment, before)
    assert upload(user, png(), "photo.png").status_code == 201, "clamd is back: uploads work again"


# --- UP-01: the size limit, while the body streams -----------------------------------------------------


@pytest.mark.checklist("UP-01", "VAL-04")
def test_an_11_mib_upload_is_413_and_leaves_nothing_on_disk(
    user: Browser, deployment: Deployment
) -> None:
    before = files_on_disk(deployment)
    assert_error(
        upload(user, b"a" * (11 * MIB), "big.txt", b"text/plain"), 413, "payload_too_large"
    )
    assert_nothing_new_on_disk(deployment, before)


def stream_until_answered(
    deployment: Deployment, client: Browser, head: bytes, chunks: Iterator[bytes]
) -> tuple[int, bytes, int]:
    """POST a chunked body over TLS until the server answers; (status, body, bytes sent).

    The server may answer before the body ends: between two chunks the client
    looks for an answer (a non-blocking read of application data; TLS records
    such as session tickets are not one) and stops sending as soon as there is
    one, or when the server stops reading.
    """
    parts = urlsplit(deployment.base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    request = (
        f"POST {FILES} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookies}\r\n"
        f"X-CSRFToken: {client.cookies['csrftoken']}\r\nX-Forwarded-For: {client.ip}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    sent = 0
    answer = b""
    with (
        socket.create_connection((host, port), timeout=30) as plain,
        deployment.tls().wrap_socket(plain, server_hostname=host) as tls,
    ):
        tls.sendall(request + b"%x\r\n%s\r\n" % (len(head), head))
        for chunk in chunks:
            tls.setblocking(False)
            with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLWantWriteError):
                answer = tls.recv(65536)
            tls.settimeout(5)
            if answer:
                break
            try:
                tls.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (OSError, ssl.SSLError):  # reset, or the server stopped reading
                break
            sent += len(chunk)
        tls.settimeout(30)
        with contextlib.suppress(OSError, ssl.SSLError):  # read to the server's close
            while received := tls.recv(65536):
                answer += received
    head_part, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1]) if head_part else 0
    return status, body, sent


@pytest.mark.checklist("UP-01", "VAL-04")
def test_a_1_gib_upload_is_cut_off_at_the_limit_while_it_streams(
    user: Browser, deployment: Deployment
) -> None:
    """No Content-Length: the server counts the file as it arrives and stops reading at 10 MiB."""
    before = files_on_disk(deployment)
    head = multipart(b"", b"huge.txt")[0].split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    piece = b"a" * (256 * 1024)
    status, body, sent = stream_until_answered(
        deployment, user, head, (piece for _ in range(1024 * MIB // len(piece)))
    )
    print("SENT", sent)
    assert status == 413, body[:300]
    assert b'"payload_too_large"' in body
    # What the client got out before the answer: the limit, plus what sockets buffer.
    assert sent < 64 * MIB, f"{sent} bytes went out before the server refused"
    assert_nothing_new_on_disk(deployment, before)


# --- UP-04: names -------------------------------------------------------------------------------------


@pytest.mark.checklist("UP-04", "UP-03")
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"../../etc/passwd", "passwd"),
        (b"/etc/hosts.txt", "hosts.txt"),
        (b"..\\..\\..\\windows\\win.txt", "win.txt"),
        (b"notes\x00.txt", "notes.txt"),
        (b"..", "file"),
    ],
    ids=["traversal", "absolute", "windows-traversal", "nul", "dot-dot"],
)
def test_a_traversal_name_is_stored_safely_under_a_random_name(
    user: Browser, deployment: Deployment, raw: bytes, shown: str
) -> None:
    before = files_on_disk(deployment)
    workdir = upload_dir(deployment).parent
    around = {p for p in workdir.rglob("*") if p.is_file()} - before
    created = upload(user, TEXT, raw, b"text/plain")
    assert created.status_code == 201, created.text
    assert created.json()["filename"] == shown
    (stored,) = files_on_disk(deployment) - before
    assert stored.parent == upload_dir(deployment)
    assert STORAGE_NAME.fullmatch(stored.name)
    assert stored.read_bytes() == TEXT
    now_around = {p for p in workdir.rglob("*") if p.is_file()} - files_on_disk(deployment)
    new_elsewhere = {p for p in now_around - around if p.name != "server.log"}
    assert not new_elsewhere, f"written outside UPLOAD_DIR: {new_elsewhere}"
    disposition = user.get(f"{FILES}/{created.json()['id']}").headers["content-disposition"]
    assert disposition.endswith(f"filename*=UTF-8''{quote(shown, safe='')}"), disposition


# --- UP-03: owners only; delete removes the bytes ------------------------------------------------------


@pytest.mark.checklist("UP-03", "AUTHZ-03")
def test_another_users_file_is_404_exactly_like_a_missing_one(
    user: Browser,
    make_account: Callable[..., Any],
    sign_in: Callable[..., Browser],
    deployment: Deployment,
) -> None:
    created = upload(user, png(), "private.png")
    assert created.status_code == 201, created.text
    intruder = sign_in(make_account("intruder"))
    foreign = f"{FILES}/{created.json()['id']}"
    missing = f"{FILES}/{uuid.uuid4()}"
    for method in ("GET", "DELETE"):
        theirs = assert_error(intruder.request(method, foreign), 404, "not_found")
        absent = assert_error(intruder.request(method, missing), 404, "not_found")
        assert theirs["message"] == absent["message"]
    assert intruder.get(FILES).json() == {"items": [], "next_cursor": None}
    assert user.get(foreign).content == png()


@pytest.mark.checklist("UP-03")
def test_deleting_a_file_removes_its_bytes_and_lists_are_paged(
    user: Browser, deployment: Deployment
) -> None:
    before = files_on_disk(deployment)
    ids = []
    for n in range(3):
        created = upload(user, TEXT, f"note-{n}.txt", b"text/plain")
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    first = user.get(FILES, params={"limit": 2}).json()
    assert [item["id"] for item in first["items"]] == ids[:0:-1]
    assert all(set(item) == FILE_FIELDS for item in first["items"])
    second = user.get(FILES, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in second["items"]] == ids[:1]
    assert second["next_cursor"] is None
    assert len(files_on_disk(deployment) - before) == 3
    for file_id in ids:
        assert user.delete(f"{FILES}/{file_id}").status_code == 204
        assert_error(user.get(f"{FILES}/{file_id}"), 404, "not_found")
    assert files_on_disk(deployment) == before, "a deleted file's bytes stayed on disk"
