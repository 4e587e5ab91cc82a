"""An uploaded file's metadata; its bytes live in the storage directory under `storage_name`.

`filename` is the sanitized display name, never a path. `storage_name` is
random and unique, so a row can never point at another row's bytes. The
listing index matches the query that pages a user's files (DB-02).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class StoredFile(models.Model):
    # A random id, not a counter: ids say nothing about how many files exist.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the (owner, created_at, id) index below starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files", db_index=False
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "files"
        indexes: ClassVar[list[models.Index]] = [
            # One indexed range scan per page of the owner's files, newest first (DB-01, DB-02).
            models.Index(fields=["owner", "created_at", "id"], name="files_owner_created_id"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="files_size_positive"),
        ]

    def __str__(self) -> str:
        return self.filename
