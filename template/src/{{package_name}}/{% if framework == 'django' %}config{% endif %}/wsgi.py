"""The WSGI application that Gunicorn serves (`<slug> serve`, cli.py).

It refuses to start, naming every problem, when the settings are unsafe for
their environment (the production guard of settings.py, SRV-01).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from ..settings import get_settings
from .settings import module_for

_settings = get_settings()
_settings.check()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", module_for(_settings.environment))

application = get_wsgi_application()
