"""What an upload answers and a listing shows: the metadata, never the storage name or hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema


class FileOut(Schema):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    created_at: datetime
