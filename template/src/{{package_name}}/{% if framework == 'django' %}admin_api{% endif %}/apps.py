"""The admin API app: `/api/admin`, its own router behind the admin role check.

Not Django's admin site (`django.contrib.admin` is not installed): a JSON API
under the same session, CSRF and re-authentication rules as every other route.
"""

from __future__ import annotations

from django.apps import AppConfig


class AdminApiConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "admin_api"
    label = "admin_api"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Admin API"
