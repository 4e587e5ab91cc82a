"""The mfa app: TOTP credentials, recovery codes and the `/api/auth/mfa` routes."""

from __future__ import annotations

from django.apps import AppConfig


class MfaConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "mfa"
    label = "mfa"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Multi-factor authentication"
