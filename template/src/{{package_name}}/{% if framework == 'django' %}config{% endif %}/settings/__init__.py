"""One settings module per environment; `cli.py` and `wsgi.py` pick it from ENVIRONMENT.

Every value comes from the service's `Settings` (the environment and `.env`,
the same variable names as the FastAPI backend); base.py turns it into Django's.
"""

from __future__ import annotations

from ...settings import Environment


def module_for(environment: Environment) -> str:
    """The dotted path of the settings module of an environment."""
    return f"{__name__}.{environment}"
