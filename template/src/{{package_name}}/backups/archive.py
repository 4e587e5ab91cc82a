"""Backup files on disk: names, private permissions, SHA-256 sidecars and retention.

A backup is complete once its sidecar `<name>.sha256` exists, written last. The
sidecar has `sha256sum`'s format, so `sha256sum -c` checks a copy anywhere,
without this service and without the age identity: the checksum is of the file
as stored, encrypted when it is. It detects damage and truncation; it cannot
stop someone who may rewrite both files, which is why the backup store should
refuse overwrites and deletions (docs/backups.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

CHECKSUM_SUFFIX = ".sha256"
# Fixed width, so that names sort in time order: 20250101T093000.123456Z.
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
TIMESTAMP = r"\d{8}T\d{6}\.\d{6}Z"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup or restore failed or was refused; the message says why and what to do."""


def backup_name(prefix: str, extension: str, now: datetime) -> str:
    return f"{prefix}-{now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}{extension}"


def checksum_path(backup: Path) -> Path:
    return backup.with_name(backup.name + CHECKSUM_SUFFIX)


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def read_magic(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


@contextmanager
def staging(directory: Path) -> Iterator[Path]:
    """A private (0700) folder inside `directory` for a backup being made.

    Inside the backup directory, so that the finished file moves into place
    atomically; removed with whatever it still holds, on success or failure.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".incomplete-", dir=directory) as folder:
        yield Path(folder)


def publish(staged: Path, directory: Path) -> Path:
    """Make a staged backup private (0600), write its sidecar, move both into place."""
    target = directory / staged.name
    sidecar = checksum_path(target)
    if target.exists() or sidecar.exists():
        raise BackupError(f"{target} exists already: backups are never overwritten")
    staged.chmod(0o600)
    staged_sidecar = checksum_path(staged)
    descriptor = os.open(staged_sidecar, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(f"{sha256_of(staged)}  {staged.name}\n")
    os.replace(staged, target)
    os.replace(staged_sidecar, sidecar)
    return target


def verify_checksum(backup: Path) -> None:
    """Refuse a backup that is missing, lacks its sidecar, or differs from it."""
    if not backup.is_file():
        raise BackupError(f"{backup} does not exist")
    sidecar = checksum_path(backup)
    try:
        recorded = sidecar.read_text(encoding="ascii").split(maxsplit=1)[0].lower()
    except FileNotFoundError:
        raise BackupError(
            f"{sidecar.name} is missing: without its checksum the backup cannot be trusted"
        ) from None
    except (UnicodeDecodeError, IndexError):
        recorded = ""
    if not SHA256_HEX.fullmatch(recorded):
        raise BackupError(f"{sidecar.name} does not hold a SHA-256 checksum")
    if sha256_of(backup) != recorded:
        raise BackupError(
            f"{backup.name} does not match its checksum: it is damaged, truncated or "
            "altered. Nothing was restored; use another copy or an older backup"
        )


def prune(directory: Path, prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` complete backups of this service in `directory`."""
    if keep < 1:
        raise ValueError("keep at least the newest backup")
    pattern = re.compile(rf"{re.escape(prefix)}-{TIMESTAMP}\.[\w.]+{re.escape(CHECKSUM_SUFFIX)}")
    sidecars = sorted(p for p in directory.iterdir() if pattern.fullmatch(p.name))
    removed = []
    for sidecar in sidecars[: max(len(sidecars) - keep, 0)]:
        backup = sidecar.with_name(sidecar.name.removesuffix(CHECKSUM_SUFFIX))
        backup.unlink(missing_ok=True)
        sidecar.unlink()
        removed.append(backup)
    return removed


def find_tool(name: str, install: str) -> str:
    """The full path of an external tool, or a refusal that says how to install it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed here: {install}")
    return found


def run_tool(argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
    """Run one of the external tools (pg_dump, age, ...); its own error message on failure."""
    done = subprocess.run(  # noqa: S603 - a tool found on PATH, arguments built here, no shell
        list(argv),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")
