"""The monitoring app: security events, their table, detection and alerts."""

from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "monitoring"
    label = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Security monitoring"

    def ready(self) -> None:
        """Every security event of the process goes to the monitor from now on (LOG-01)."""
        from ..core.events import install_sink
        from .services import MonitorSink

        install_sink(MonitorSink())
