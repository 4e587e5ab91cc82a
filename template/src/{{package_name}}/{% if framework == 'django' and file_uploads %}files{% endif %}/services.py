"""Accepting and deleting a user's files (UP-01..04).

An upload is accepted only after every check: its content is an allowed type
whose extension agrees (UP-01), and clamd found nothing in it (UP-02). With
scanning enabled, no verdict (clamd down, slow or failing) means refusal:
503, nothing stored. Accepted bytes move into storage under a random name
and the row is written; a failure between the two removes the bytes again.

The bytes of a file are removed once the deletion of its row commits, whether
the row goes by itself (`DELETE /api/files/{id}`) or with its owner's account
(`remove_bytes_after_delete`, connected in apps.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from ..accounts.models import User
from ..audit.services import record
from ..core.conf import app_settings
from ..core.logging import get_logger
from ..security.errors import AppError
from ..security.filenames import sanitize_filename
from .checks import checked_type, make_scanner, malware_detected, scanned
from .models import StoredFile
from .multipart import Received
from .selectors import file_storage

log = get_logger(__name__)


def file_store(*, owner: User, upload: Received, request: HttpRequest) -> StoredFile:
    """Check, scan and keep an upload; AppError (422, 503) when it must be refused."""
    settings = app_settings()
    filename = sanitize_filename(upload.filename)
    try:
        content_type = checked_type(upload, filename, settings.upload_allowed_types)
    except AppError as refused:
        log.info("upload_refused", reason=str(refused.__cause__), user_id=str(owner.pk))
        raise
    _scan(owner=owner, upload=upload, filename=filename, request=request)
    storage = file_storage()
    storage_name = storage.keep(upload.path)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                owner=owner,
                filename=filename,
                content_type=content_type,
                size=upload.size,
                sha256=upload.sha256,
                storage_name=storage_name,
            )
            record(
                action="file_uploaded",
                actor=owner,
                target=str(stored.id),
                request=request,
                detail={
                    "filename": filename,
                    "content_type": content_type,
                    "size": upload.size,
                    "sha256": upload.sha256,
                },
            )
    except BaseException:
        storage.remove(storage_name)
        raise
    return stored


def _scan(*, owner: User, upload: Received, filename: str, request: HttpRequest) -> None:
    """Refuse the upload unless clamd says it is clean (UP-02); skipped only when disabled."""
    scanner = make_scanner(app_settings())
    if scanner is None:
        log.warning("upload_scanning_disabled", environment=app_settings().environment)
        return
    try:
        verdict = scanned(scanner, upload)
    except AppError as unavailable:
        log.error(
            "upload_scanner_unavailable", error=str(unavailable.__cause__), user_id=str(owner.pk)
        )
        raise
    if not verdict.infected:
        return
    found: dict[str, Any] = {
        "threat": verdict.threat,
        "filename": filename,
        "size": upload.size,
        "sha256": upload.sha256,
    }
    log.warning("upload_malware_detected", user_id=str(owner.pk), **found)
    # Outside any transaction: the refusal is kept although the request fails.
    record(
        action="upload_malware_detected",
        actor=owner,
        target=None,
        request=request,
        detail=found,
    )
    raise malware_detected()


def file_delete(*, stored: StoredFile, request: HttpRequest) -> None:
    """Delete the row and audit it in one transaction; its bytes go once that commits."""
    with transaction.atomic():
        record(
            action="file_deleted",
            actor=stored.owner,
            target=str(stored.id),
            request=request,
            detail={"filename": stored.filename, "sha256": stored.sha256},
        )
        stored.delete()


def remove_bytes_after_delete(sender: type[StoredFile], instance: StoredFile, **_: Any) -> None:
    """`post_delete` of a file row: its bytes are removed when (and only if) that commits."""
    transaction.on_commit(partial(_remove_bytes, instance.storage_name))


def _remove_bytes(storage_name: str) -> None:
    try:
        file_storage().remove(storage_name)
    except OSError:
        log.exception("file_bytes_not_removed", storage_name=storage_name)
