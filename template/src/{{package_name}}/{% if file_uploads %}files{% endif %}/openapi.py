"""The upload route's request body and the download's answer, as the API document shows them.

Neither backend lets its framework parse the upload (it streams, multipart.py),
so each declares the multipart body itself, from here.
"""

from __future__ import annotations

from typing import Any

from ..security.sniffing import KNOWN_TYPES
from .multipart import FIELD

UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FIELD],
                "properties": {
                    FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "PNG, JPEG, PDF or UTF-8 text, recognised by content",
                    }
                },
                "additionalProperties": False,
            }
        }
    },
}
DOWNLOAD_ANSWER: dict[str, Any] = {
    "description": "The file's bytes as an attachment, with the type detected at upload",
    "headers": {
        "Content-Disposition": {
            "description": "`attachment` with the file's name (RFC 6266 `filename*`)",
            "schema": {"type": "string"},
        }
    },
    "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in KNOWN_TYPES},
}
