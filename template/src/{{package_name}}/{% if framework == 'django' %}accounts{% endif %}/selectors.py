"""Reads of accounts and emailed tokens (services write, selectors read)."""

from __future__ import annotations

from django.utils import timezone

from ..core.conf import app_settings
from ..security.tokens import token_digest
from .models import EmailToken, User, normalize_email


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email=normalize_email(email)).first()


def email_token_digest(token: str, purpose: str) -> str:
    """The stored form of an emailed token: a keyed digest, bound to its purpose (AUTH-09)."""
    return token_digest(token, app_settings().secret_key.get_secret_value(), purpose)


def live_email_token(token: str, purpose: str) -> EmailToken | None:
    """The unused, unexpired token row for `token`, with its user; None in every other case."""
    return (
        EmailToken.objects.select_related("user")
        .filter(
            digest=email_token_digest(token, purpose),
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
