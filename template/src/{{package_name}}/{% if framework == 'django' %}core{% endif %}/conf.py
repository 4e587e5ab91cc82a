"""The service's own settings (`settings.Settings`), as Django's configuration holds them."""

from __future__ import annotations

from django.conf import settings as django_settings

from ..settings import Settings


def app_settings() -> Settings:
    """The `Settings` that `config/settings/` built Django's settings from (`APP_SETTINGS`)."""
    value = django_settings.APP_SETTINGS
    if not isinstance(value, Settings):  # pragma: no cover - a broken settings module
        raise TypeError("APP_SETTINGS is not the service's Settings")
    return value
