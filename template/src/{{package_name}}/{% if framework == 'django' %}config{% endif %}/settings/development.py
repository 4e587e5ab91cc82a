"""Settings for ENVIRONMENT=development (base.py says where each value comes from)."""

from __future__ import annotations

from .base import django_settings, load

APP_SETTINGS = load("development")
globals().update(django_settings(APP_SETTINGS))
