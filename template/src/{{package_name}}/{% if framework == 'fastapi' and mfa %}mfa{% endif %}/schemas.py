"""Bodies of the MFA routes: the secret is shown once at setup, recovery codes once at enable."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..core.schemas import RequestSchema, ResponseSchema

# A 6-digit TOTP code or a recovery code (10 hex characters, hyphen and spaces allowed).
Code = Annotated[str, Field(min_length=6, max_length=32)]


class CodeIn(RequestSchema):
    code: Code


class SetupOut(ResponseSchema):
    secret: str
    otpauth_uri: str


class RecoveryCodesOut(ResponseSchema):
    recovery_codes: list[str]
