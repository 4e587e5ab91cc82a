"""The notes app: the example resource that shows ownership, sanitizing and paging."""

from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "notes"
    label = "notes"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Notes"
