"""Audit entries are only ever inserted: the ORM refuses updates and deletes, and
the migration installs database triggers that refuse them too."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

# Targets are emails (up to 254 characters) and ids; longer ones are cut to fit.
TARGET_LENGTH = 200


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(default=timezone.now)
    # No foreign key: the trail must outlive the accounts it mentions.
    actor_id = models.UUIDField(null=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=TARGET_LENGTH, null=True)
    ip = models.CharField(max_length=64, null=True)
    request_id = models.CharField(max_length=64, null=True)
    detail = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects: ClassVar[models.Manager[AuditEntry]] = AuditEntryQuerySet.as_manager()

    class Meta:
        db_table = "audit_events"
        indexes = (models.Index(fields=["at", "id"], name="ix_audit_events_at_id"),)

    def __str__(self) -> str:
        return f"{self.action} {self.id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")
