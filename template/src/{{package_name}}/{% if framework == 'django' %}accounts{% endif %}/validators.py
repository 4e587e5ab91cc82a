"""The contract's password rules as a Django password validator (AUTH-03).

The rules themselves live in the framework-free `security/passwords.py`, shared
with every backend the template generates, so the policy cannot drift between
them. Messages never repeat the password: they are safe to return and to log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError

from ..security.passwords import MAX_LENGTH, MIN_LENGTH, password_problems

if TYPE_CHECKING:
    from django.contrib.auth.password_validation import PasswordValidator

    from .models import User


class PasswordPolicyValidator:
    """12 to 128 characters, not a common password, not containing the email's local part."""

    def validate(self, password: str, user: object | None = None) -> None:
        email = getattr(user, "email", None)
        problems = password_problems(password, email if isinstance(email, str) else "")
        if problems:
            raise ValidationError(
                [ValidationError(problem, code="password_policy") for problem in problems]
            )

    def get_help_text(self) -> str:
        return (
            f"Use {MIN_LENGTH} to {MAX_LENGTH} characters; common passwords and your "
            "email address are refused."
        )


def password_policy_problems(password: str, user: User) -> list[str]:
    """Reasons to refuse the password under AUTH_PASSWORD_VALIDATORS, the shared policy always
    among them (a settings module that forgot it cannot switch the contract's rules off)."""
    validators: list[PasswordValidator] = list(get_default_password_validators())
    if not any(isinstance(validator, PasswordPolicyValidator) for validator in validators):
        validators.append(PasswordPolicyValidator())
    try:
        validate_password(password, user, password_validators=validators)
    except ValidationError as error:
        return [str(message) for message in error.messages]
    return []
