"""Every feature's models, imported in one place so that the metadata is complete."""

from __future__ import annotations


def load_all_models() -> None:
    """Import each feature's `models` module for its side effect of registering tables."""
    from .audit import models as audit_models
    from .auth import models as auth_models
    from .notes import models as notes_models
    from .ratelimit import models as ratelimit_models

    del audit_models, auth_models, notes_models, ratelimit_models
