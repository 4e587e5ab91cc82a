"""A note belongs to exactly one user; the listing index matches the query that pages it."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20_000


class Note(models.Model):
    """`body` is stored already sanitized (services.py); `title` is plain text."""

    # A random id, not a counter: ids say nothing about how many notes exist.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the (owner, created_at, id) index below starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "notes"
        indexes: ClassVar[list[models.Index]] = [
            # One indexed range scan per page of the owner's notes, newest first (DB-01, DB-02).
            models.Index(fields=["owner", "created_at", "id"], name="notes_owner_created_id"),
        ]

    def __str__(self) -> str:
        return self.title
