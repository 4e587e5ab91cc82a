"""One row per live counter; expired rows are purged as the service runs."""

from __future__ import annotations

from django.db import models


class Counter(models.Model):
    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "rate_limit_counters"

    def __str__(self) -> str:
        return self.key
