"""Reading files, always through the owner: another user's file is simply not found (AUTHZ-03)."""

from __future__ import annotations

import uuid
from typing import BinaryIO

from ..accounts.models import User
from ..core.conf import app_settings
from ..core.errors import ApiError
from ..core.logging import get_logger
from ..core.pagination import paginate
from .models import StoredFile
from .storage import FileStorage

log = get_logger(__name__)


def not_found() -> ApiError:
    """The one answer for a file that is missing *or* someone else's (AUTHZ-03)."""
    return ApiError(404, "not_found", "The resource does not exist.")


def file_storage() -> FileStorage:
    """UPLOAD_DIR, as the settings of the moment name it."""
    return FileStorage(app_settings().upload_dir)


def file_get(*, owner: User, file_id: uuid.UUID) -> StoredFile:
    """The owner's file; the owner is part of the query, so a foreign row is never loaded."""
    stored = StoredFile.objects.filter(owner=owner, id=file_id).first()
    if stored is None:
        raise not_found()
    return stored


def file_list(
    *, owner: User, limit: int, cursor: str | None
) -> tuple[list[StoredFile], str | None]:
    """One page of the owner's files, newest first, and the cursor of the next (DB-01)."""
    return paginate(StoredFile.objects.filter(owner=owner), limit=limit, cursor=cursor)


def file_open(*, stored: StoredFile) -> BinaryIO:
    """The bytes of a stored file, open for reading."""
    try:
        return file_storage().open(stored.storage_name)
    except FileNotFoundError:
        log.error("file_bytes_missing", file_id=str(stored.id))
        raise not_found() from None
