"""Django's configuration: settings built from `settings.Settings`, URLs, WSGI and the API."""
