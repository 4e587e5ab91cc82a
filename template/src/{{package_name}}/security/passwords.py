"""Password hashing (Argon2id) and the password policy (AUTH-03).

Parameters follow OWASP's minimum for Argon2id (19 MiB, 2 iterations, 1 lane).
Hashes made with other parameters are upgraded at the next successful login.
The policy is length plus a list of common passwords, as NIST SP 800-63B
recommends, not composition rules that push people to predictable patterns.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128
# A local part shorter than this would forbid too many ordinary passwords.
MIN_LOCAL_PART_CHECKED = 3

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; a malformed hash is a mismatch, not a crash."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both paths cost the same."""
    return HASHER.hash("not-a-real-password-only-for-equal-timing")


@cache
def common_passwords() -> frozenset[str]:
    data = files(__package__).joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problems(password: str, email: str) -> list[str]:
    """Reasons the password is refused; empty when it is acceptable.

    Messages never repeat the password, so they are safe to return and log.
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("This password is too common.")
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in lowered:
        problems.append("The password must not contain your email address.")
    return problems
