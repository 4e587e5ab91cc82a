"""Every feature's models, imported in one place so that metadata is complete."""

from __future__ import annotations


def load_all_models() -> None:
    """Import each feature's `models` module for its side effect of registering tables."""
