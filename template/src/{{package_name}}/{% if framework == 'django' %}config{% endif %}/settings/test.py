"""Settings for the test suite: fixed, safe values, whatever the machine's `.env` says."""

from __future__ import annotations

from .base import django_settings, load

APP_SETTINGS = load(
    "test",
    _env_file=None,
    environment="test",
    debug=False,
    secret_key="test-secret-key-that-is-long-enough-0123456789",  # noqa: S106 - tests only
    database_url="sqlite:///:memory:",
    allowed_hosts=["testserver", "localhost", "127.0.0.1"],
    cors_allowed_origins=["https://app.example.test"],
    trusted_proxies=[],
    email_backend="memory",
    public_url="http://testserver",
    alert_webhook_url="",
    alert_email_to=[],
)
globals().update(django_settings(APP_SETTINGS))
