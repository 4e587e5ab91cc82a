"""The payments app: orders and the provider events already processed."""

from __future__ import annotations

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Payments"
