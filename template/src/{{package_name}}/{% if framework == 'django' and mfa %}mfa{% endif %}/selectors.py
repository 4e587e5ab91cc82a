"""Reads of MFA credentials and recovery codes (services write, selectors read)."""

from __future__ import annotations

from ..accounts.models import User
from ..core.conf import app_settings
from ..security import totp
from ..security.tokens import token_digest
from .models import MfaCredential

_RECOVERY_PURPOSE = "mfa-recovery-code"


def credential_for_update(user: User) -> MfaCredential | None:
    """The user's credential, its row locked until the transaction ends (call inside one):
    two requests with the same code cannot both see the step unused."""
    return MfaCredential.objects.select_for_update().filter(user=user).first()


def recovery_code_digest(code: str) -> str:
    """The stored form of a recovery code: a keyed digest of what the user types, normalised."""
    key = app_settings().secret_key.get_secret_value()
    return token_digest(totp.normalize_recovery_code(code), key, _RECOVERY_PURPOSE)
