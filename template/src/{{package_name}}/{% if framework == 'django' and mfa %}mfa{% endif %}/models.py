"""A user's TOTP credential and recovery codes.

The TOTP secret is stored encrypted (DATA-01): the column holds a Fernet
token, never the secret. Recovery codes are stored as keyed digests, like
emailed tokens, and each is marked used once redeemed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MfaCredential(models.Model):
    """The user's authenticator secret; MFA is on once `enabled_at` is set."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="mfa_credential",
    )
    secret_encrypted = models.TextField()
    # None until a first code confirms that the user's app holds the secret.
    enabled_at = models.DateTimeField(null=True, blank=True)
    # The newest time step accepted: codes of this step or older never work again.
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "mfa_credentials"

    def __str__(self) -> str:
        return f"MFA credential of {self.pk}"


class RecoveryCode(models.Model):
    """One single-use code for a lost device: only its keyed digest is stored."""

    digest = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_recovery_codes"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "mfa_recovery_codes"

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
