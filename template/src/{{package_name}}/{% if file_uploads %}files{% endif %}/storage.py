"""Where uploaded bytes live: one private directory, random names, nothing else (UP-03).

The directory is UPLOAD_DIR, which nothing serves: files leave only through
`GET /api/files/{id}`, as attachments, after the owner check. Each file is
named by a random UUID (32 hex digits, no extension), so neither the client's
name nor its extension ever reaches the file system, and names cannot be
guessed or collide. Uploads in progress are written to `.incoming/` in the
same directory, then moved into place atomically once they are accepted.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

INCOMING = ".incoming"
STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self.incoming_dir = self.root / INCOMING

    def new_incoming(self) -> tuple[BinaryIO, Path]:
        """An empty private file (mode 0600) for an upload in progress, open for writing."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.incoming_dir.mkdir(mode=0o700, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix="upload-", dir=self.incoming_dir)
        return os.fdopen(descriptor, "wb"), Path(name)

    def keep(self, incoming: Path) -> str:
        """Move an accepted upload into place under a fresh random name; return that name."""
        name = uuid.uuid4().hex
        os.replace(incoming, self.path_of(name))
        return name

    def path_of(self, name: str) -> Path:
        """The path of a stored file; only names this class made are accepted."""
        if not STORAGE_NAME.fullmatch(name):
            raise ValueError("not a storage name")
        return self.root / name

    def open(self, name: str) -> BinaryIO:
        return self.path_of(name).open("rb")

    def remove(self, name: str) -> None:
        self.path_of(name).unlink(missing_ok=True)
