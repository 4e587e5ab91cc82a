"""Accepting, listing, serving and deleting a user's files (UP-01..04).

An upload is accepted only after every check: its content is an allowed type
whose extension agrees (UP-01), and clamd found nothing in it (UP-02). With
scanning enabled, no verdict (clamd down, slow or failing) means refusal:
503, nothing stored. Accepted bytes move into storage under a random name
and the metadata row is written; a failure between the two removes the
bytes again. Every query is scoped to the owner: another user's file is the
same 404 as a missing one (AUTHZ-03).

The bytes of a file are removed once the deletion of its row is committed,
whether the row goes by itself (`DELETE /api/files/{id}`) or with its owner's
account: the listeners installed on the database's sessions see both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from ..audit.service import record
from ..auth.models import User
from ..core.context import RequestContext
from ..core.database import Database
from ..core.logging import get_logger
from ..core.pagination import paginate
from ..security.clamav import ClamdClient, ScannerError
from ..security.errors import AppError, ErrorDetail
from ..security.filenames import sanitize_filename
from ..security.sniffing import ContentRefusedError, check_file
from ..settings import Settings
from .incoming import Received
from .models import StoredFile
from .storage import FileStorage

log = get_logger(__name__)

SCANNER_RETRY_SECONDS = 30
REMOVED_AFTER_COMMIT = "files_removed_after_commit"


def not_found() -> AppError:
    return AppError(404, "not_found", "The resource does not exist.")


class Files:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        storage: FileStorage,
        scanner: ClamdClient | None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.storage = storage
        self.scanner = scanner
        remove_bytes_after_deletes(database.sessions, storage)

    # --- upload -----------------------------------------------------------------------------

    def store(self, context: RequestContext, owner_id: uuid.UUID, upload: Received) -> StoredFile:
        """Check, scan and keep an upload; AppError (422, 503) when it must be refused."""
        filename = sanitize_filename(upload.filename)
        try:
            content_type = check_file(upload.path, filename, self.settings.upload_allowed_types)
        except ContentRefusedError as refused:
            log.info("upload_refused", reason=str(refused), user_id=str(owner_id))
            detail = ErrorDetail(field="body.file", issue=str(refused))
            raise AppError(
                422,
                "unsupported_file_type",
                "The file's content is not an accepted type, or does not match its name.",
                details=[detail],
            ) from None
        self._scan(context, owner_id, upload, filename)
        storage_name = self.storage.keep(upload.path)
        try:
            with self.database.sessions.begin() as db:
                stored = StoredFile(
                    owner_id=owner_id,
                    filename=filename,
                    content_type=content_type,
                    size=upload.size,
                    sha256=upload.sha256,
                    storage_name=storage_name,
                )
                db.add(stored)
                db.flush()
                record(
                    db,
                    context,
                    "file_uploaded",
                    actor_id=owner_id,
                    target=str(stored.id),
                    filename=filename,
                    content_type=content_type,
                    size=upload.size,
                    sha256=upload.sha256,
                )
        except BaseException:
            self.storage.remove(storage_name)
            raise
        return stored

    def _scan(
        self, context: RequestContext, owner_id: uuid.UUID, upload: Received, filename: str
    ) -> None:
        """Refuse the upload unless clamd says it is clean (UP-02); skipped only when disabled."""
        if self.scanner is None:
            return
        try:
            verdict = self.scanner.scan_file(upload.path)
        except ScannerError as error:
            log.error("upload_scanner_unavailable", error=str(error), user_id=str(owner_id))
            raise AppError(
                503,
                "scanner_unavailable",
                "Uploads are paused: the malware scanner is unavailable. Try again later.",
                headers={"Retry-After": str(SCANNER_RETRY_SECONDS)},
            ) from None
        if not verdict.infected:
            return
        found: dict[str, Any] = {
            "threat": verdict.threat,
            "filename": filename,
            "size": upload.size,
            "sha256": upload.sha256,
        }
        log.warning("upload_malware_detected", user_id=str(owner_id), **found)
        # A session of its own: the refusal is kept although the request fails.
        with self.database.sessions.begin() as db:
            record(db, context, "upload_malware_detected", actor_id=owner_id, **found)
        detail = ErrorDetail(field="body.file", issue="The malware scanner flagged this file.")
        raise AppError(
            422, "malware_detected", "The file was refused: it contains malware.", details=[detail]
        )

    # --- the owner's files -------------------------------------------------------------------

    def list_files(
        self, db: Session, owner_id: uuid.UUID, limit: int, cursor: str | None
    ) -> tuple[Sequence[StoredFile], str | None]:
        query = select(StoredFile).where(StoredFile.owner_id == owner_id)
        return paginate(
            db, query, stamp=StoredFile.created_at, key=StoredFile.id, limit=limit, cursor=cursor
        )

    def get_file(self, db: Session, owner_id: uuid.UUID, file_id: uuid.UUID) -> StoredFile:
        """The owner's file; a foreign file is the same 404 as a missing one (AUTHZ-03)."""
        stored = db.scalar(
            select(StoredFile).where(StoredFile.id == file_id, StoredFile.owner_id == owner_id)
        )
        if stored is None:
            raise not_found()
        return stored

    def open_file(self, stored: StoredFile) -> BinaryIO:
        """The bytes of a stored file, open for reading."""
        try:
            return self.storage.open(stored.storage_name)
        except FileNotFoundError:
            log.error("file_bytes_missing", file_id=str(stored.id))
            raise not_found() from None

    def delete_file(
        self, db: Session, context: RequestContext, owner_id: uuid.UUID, file_id: uuid.UUID
    ) -> None:
        """Delete the row in the request's transaction; its bytes go once that commits."""
        stored = self.get_file(db, owner_id, file_id)
        db.delete(stored)
        record(
            db,
            context,
            "file_deleted",
            actor_id=owner_id,
            target=str(stored.id),
            filename=stored.filename,
            sha256=stored.sha256,
        )


def remove_bytes_after_deletes(sessions: sessionmaker[Session], storage: FileStorage) -> None:
    """Remove stored bytes once a committed transaction deleted their rows.

    Before each flush the storage names of deleted files, and of every file of
    a deleted user (the database removes those rows by cascade), are noted on
    the session; after the commit they are removed; a rollback forgets them.
    """

    @event.listens_for(sessions, "before_flush")
    def note_deleted(session: Session, _context: object, _instances: object) -> None:
        names: set[str] = session.info.setdefault(REMOVED_AFTER_COMMIT, set())
        owners = [row.id for row in session.deleted if isinstance(row, User)]
        names.update(row.storage_name for row in session.deleted if isinstance(row, StoredFile))
        if owners:
            with session.no_autoflush:
                query = select(StoredFile.storage_name).where(StoredFile.owner_id.in_(owners))
                names.update(session.scalars(query))

    @event.listens_for(sessions, "after_commit")
    def remove(session: Session) -> None:
        for name in session.info.pop(REMOVED_AFTER_COMMIT, ()):
            try:
                storage.remove(name)
            except OSError:
                log.exception("file_bytes_not_removed", storage_name=name)

    @event.listens_for(sessions, "after_rollback")
    def forget(session: Session) -> None:
        session.info.pop(REMOVED_AFTER_COMMIT, None)


def make_files(settings: Settings, database: Database) -> Files:
    """Without a scanner only when CLAMAV_ENABLED is off; never in production."""
    scanner = None
    if settings.clamav_enabled:
        scanner = ClamdClient(settings.clamav_address, settings.clamav_timeout_seconds)
    else:
        log.warning("upload_scanning_disabled", environment=settings.environment)
    return Files(settings, database, FileStorage(settings.upload_dir), scanner)
