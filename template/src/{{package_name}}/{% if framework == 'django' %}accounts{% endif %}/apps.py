"""The accounts app: the custom user model and every `/api/auth` route."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Make the decoy hash now: made lazily, the first login with an unknown email
        would cost one Argon2 hash more than any other, and could be told apart (AUTH-04)."""
        from .services import warm_up  # here: the models of every app are loaded by now

        warm_up()
