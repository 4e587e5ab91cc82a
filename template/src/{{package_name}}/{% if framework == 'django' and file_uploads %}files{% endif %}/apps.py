"""The files app: a user's uploads, their metadata here and their bytes in UPLOAD_DIR."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete


class FilesConfig(AppConfig):
    # The dotted path is computed, so the app works whatever the package is called.
    name = __package__ or "files"
    label = "files"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Files"

    def ready(self) -> None:
        from .models import StoredFile
        from .services import remove_bytes_after_delete

        # Every deleted row, by itself or with its owner's account (a cascade sends
        # the signal for each row), has its bytes removed once the deletion commits.
        post_delete.connect(
            remove_bytes_after_delete, sender=StoredFile, dispatch_uid="files.remove_bytes"
        )
