"""Encryption of backups with age (https://age-encryption.org), by its own binary.

The server holds only recipients, public keys: it writes backups that it
cannot read. The identity (private key) that decrypts them stays with the
people who restore, off the server. No cryptography is implemented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .archive import BackupError, find_tool, read_magic, run_tool

SUFFIX = ".age"
HEADERS = (b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")
RECIPIENT_PREFIXES = ("age1", "ssh-ed25519 ", "ssh-rsa ")
INSTALL = "install age (Debian and Ubuntu: apt-get install age; https://age-encryption.org)"


def age_binary() -> str:
    return find_tool("age", INSTALL)


def check_recipients(recipients: Sequence[str]) -> None:
    """Refuse a private key, or anything that is not a recipient, before any work is done."""
    for position, recipient in enumerate(recipients, start=1):
        if recipient.upper().startswith("AGE-SECRET-KEY-") or "PRIVATE KEY" in recipient:
            raise BackupError(
                f"BACKUP_AGE_RECIPIENTS entry {position} is a private key: list public keys "
                "only (age1..., ssh-ed25519 ...) and keep the identity off this server"
            )
        if not recipient.startswith(RECIPIENT_PREFIXES):
            raise BackupError(
                f"BACKUP_AGE_RECIPIENTS entry {position} is not an age recipient "
                "(age1... or an SSH public key)"
            )


def is_encrypted(path: Path) -> bool:
    start = read_magic(path, max(len(header) for header in HEADERS))
    return start.startswith(HEADERS)


def encrypt(source: Path, destination: Path, recipients: Sequence[str]) -> None:
    flags = [flag for recipient in recipients for flag in ("--recipient", recipient)]
    run_tool([age_binary(), "--encrypt", *flags, "--output", str(destination), str(source)])


def decrypt(source: Path, destination: Path, identity: Path) -> None:
    if not identity.is_file():
        raise BackupError(f"the age identity file {identity} does not exist")
    run_tool(
        [
            age_binary(),
            "--decrypt",
            "--identity",
            str(identity),
            "--output",
            str(destination),
            str(source),
        ]
    )
