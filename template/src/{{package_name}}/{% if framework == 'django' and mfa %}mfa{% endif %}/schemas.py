"""Bodies of the MFA routes: the secret is shown once at setup, recovery codes once at enable."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from ..core.schemas import StrictSchema

# A 6-digit TOTP code or a recovery code (10 hex characters, hyphen and spaces allowed).
Code = Annotated[str, Field(min_length=6, max_length=32)]
# A code of the authenticator app only: what re-authentication takes instead of the password.
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class CodeIn(StrictSchema):
    code: Code


class SetupOut(Schema):
    secret: str
    otpauth_uri: str


class RecoveryCodesOut(Schema):
    recovery_codes: list[str]


class MfaRequiredOut(Schema):
    """A correct password for an account with MFA: send the code to /api/auth/mfa/verify."""

    mfa_required: Literal[True]
