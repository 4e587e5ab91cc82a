"""Security events as rows, for the admin route; the log stream is the complete record."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models

# Long enough for any email address (254 characters).
TARGET_LENGTH = 255


class StoredEvent(models.Model):
    """One `security.events.SecurityEvent`, as the monitor's thread stored it.

    Not `SecurityEvent`, to keep apart the row and the framework-free event it
    was made from. Kept `SECURITY_EVENTS_RETENTION_DAYS` (90 by default), then purged.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    # No foreign key: an event must outlive the account it mentions.
    actor_id = models.UUIDField(null=True, blank=True)
    ip = models.CharField(max_length=64, null=True, blank=True)
    request_id = models.CharField(max_length=64, null=True, blank=True)
    target = models.CharField(max_length=TARGET_LENGTH, null=True, blank=True)
    detail = models.JSONField(default=dict)

    class Meta:
        db_table = "security_events"
        indexes: ClassVar[list[models.Index]] = [
            # Newest first, with or without a kind filter (DB-02); `at` alone serves the purge.
            models.Index(fields=["at", "id"], name="security_events_at_id"),
            models.Index(fields=["kind", "at", "id"], name="security_events_kind_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at.isoformat()}"
