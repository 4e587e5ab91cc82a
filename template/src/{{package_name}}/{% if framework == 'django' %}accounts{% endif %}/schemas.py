"""Request and response bodies of the auth routes (VAL-01, INJ-02).

Requests are `StrictSchema`s: an unknown field is a 422, never ignored.
`UserOut` lists the public fields of an account and nothing else.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from ..core.schemas import StrictSchema
from ..security.passwords import MAX_LENGTH, MIN_LENGTH
from .models import normalize_email

# One rule for the validator and the API document, written with explicit
# character classes: `\s` means different things in Python, Rust (Pydantic's
# pattern engine) and the JSON Schema tools that read the document.
_SPACES = " \t\n\r\f\v"
_SPACE = r"[ \t\n\r\f\v]"
_ADDRESS = r"[^@ \t\n\r\f\v]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
_EMAIL = re.compile(_ADDRESS)
# Surrounding spaces are stripped, not refused.
EMAIL_PATTERN = f"^{_SPACE}*{_ADDRESS}{_SPACE}*$"


def _normalize_email(value: str) -> str:
    """Emails are compared lowercased, so that Alice@ and alice@ are one account."""
    value = value.strip(_SPACES)
    if not _EMAIL.fullmatch(value):
        raise ValueError("Enter a valid email address.")
    return normalize_email(value)


Email = Annotated[
    str, Field(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(_normalize_email)
]
# Long enough for any passphrase, short enough that hashing it cannot be a weapon.
Password = Annotated[str, Field(min_length=1, max_length=1024)]
# A password being set: the policy's length bounds, in the API document too (AUTH-03).
NewPassword = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
Token = Annotated[str, Field(min_length=1, max_length=200)]


class Credentials(StrictSchema):
    email: Email
    password: Password


class SignupIn(StrictSchema):
    email: Email
    password: NewPassword


class EmailIn(StrictSchema):
    email: Email


class TokenIn(StrictSchema):
    token: Token


class ResetConfirmIn(StrictSchema):
    token: Token
    new_password: NewPassword


class PasswordChangeIn(StrictSchema):
    current_password: Password
    new_password: NewPassword


class ReauthIn(StrictSchema):
    password: Password


class UserOut(Schema):
    """Exactly the public fields of an account: no hash, secret or internal flag."""

    id: uuid.UUID
    email: str
    role: Literal["user", "admin"]
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime


class DetailOut(Schema):
    detail: str


class CsrfOut(Schema):
    csrf_token: str
