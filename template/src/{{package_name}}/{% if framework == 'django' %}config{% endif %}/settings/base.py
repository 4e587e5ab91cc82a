"""Django's settings, derived from the service's `Settings` (SRV-01).

Nothing here is read from the environment directly: `Settings` reads it,
validates it and guards production; this module only translates. Each
environment module calls `load()` and `django_settings()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from ...settings import Environment, Settings

# The generated package, e.g. "my_service": Django needs dotted paths.
PACKAGE = __name__.rsplit(".", 3)[0]

HSTS_SECONDS = 63072000  # two years, as security/headers.py sends it
SQLITE_TIMEOUT_SECONDS = 20
SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}
EMAIL_TIMEOUT_SECONDS = 10
# Plain-HTTP probes of an orchestrator inside the network are not redirected.
PROBE_PATHS = [r"^api/health$", r"^api/ready$"]


def load(expected: Environment, **overrides: Any) -> Settings:
    """The service's settings, refused when ENVIRONMENT names another environment.

    DJANGO_SETTINGS_MODULE and ENVIRONMENT must agree: production settings
    must never run with a development module's defaults, nor the reverse.
    `overrides` replace what the environment says (the test settings do).
    """
    settings = Settings(**overrides)
    if settings.environment != expected:
        raise ImproperlyConfigured(
            f"ENVIRONMENT is {settings.environment!r} but the settings module is for "
            f"{expected!r}: set DJANGO_SETTINGS_MODULE={PACKAGE}.config.settings."
            f"{settings.environment} (the service's command does)"
        )
    return settings


def database(url: str) -> dict[str, Any]:
    """DATABASES["default"] from DATABASE_URL (sqlite:///path or postgresql://...)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory:
        name = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name if name == ":memory:" else str(Path(name)),
            "OPTIONS": {
                "timeout": SQLITE_TIMEOUT_SECONDS,
                # Writers queue at BEGIN instead of failing when they meet.
                "transaction_mode": "IMMEDIATE",
                "init_command": SQLITE_PRAGMAS,
            },
        }
    if parts.scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:/// or postgresql:// URL")


def django_settings(app: Settings) -> dict[str, Any]:
    """Every Django setting of the service, for the environment `app` names."""
    production = app.is_production
    secure = app.secure_cookies
    values: dict[str, Any] = {
        "APP_SETTINGS": app,
        "SECRET_KEY": app.secret_key.get_secret_value(),
        "DEBUG": app.debug,
        "ALLOWED_HOSTS": list(app.allowed_hosts),
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            f"{PACKAGE}.accounts",
            f"{PACKAGE}.audit",
            f"{PACKAGE}.notes",
            f"{PACKAGE}.admin_api",
            f"{PACKAGE}.monitoring",
            f"{PACKAGE}.ratelimit",
            f"{PACKAGE}.health",
        ],
        # Outermost first: ids, headers and the envelope wrap everything else.
        "MIDDLEWARE": [
            f"{PACKAGE}.core.middleware.SecurityMiddleware",
            "django.middleware.security.SecurityMiddleware",
            f"{PACKAGE}.core.middleware.CorsMiddleware",
            f"{PACKAGE}.core.middleware.MethodNotAllowedMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            f"{PACKAGE}.accounts.csrf.CsrfMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            f"{PACKAGE}.ratelimit.middleware.DefaultRateLimitMiddleware",
        ],
        "ROOT_URLCONF": f"{PACKAGE}.config.urls",
        "WSGI_APPLICATION": f"{PACKAGE}.config.wsgi.application",
        "DATABASES": {"default": database(app.database_url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        # Only the API's documentation page (outside production) renders a template.
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": False,
                "OPTIONS": {},
            }
        ],
        "USE_I18N": False,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LANGUAGE_CODE": "en-us",
        # Accounts (accounts/): Argon2id first; other hashes are upgraded at login.
        "AUTH_USER_MODEL": "accounts.User",
        "PASSWORD_HASHERS": [
            f"{PACKAGE}.accounts.hashers.Argon2idHasher",
            "django.contrib.auth.hashers.Argon2PasswordHasher",
        ],
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": f"{PACKAGE}.accounts.validators.PasswordPolicyValidator"},
        ],
        # Sessions (AUTH-02): server-side rows, an opaque id in a cookie.
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "SESSION_COOKIE_NAME": "__Host-session" if secure else "session",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        # accounts/sessions.py enforces the idle and absolute timeouts and writes
        # activity back itself; a refused request never sets a cookie.
        "SESSION_COOKIE_AGE": app.session_idle_minutes * 60,
        "SESSION_SAVE_EVERY_REQUEST": False,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
        # CSRF (AUTH-08): the readable `csrftoken` cookie echoed in X-CSRFToken.
        "CSRF_COOKIE_NAME": "csrftoken",
        "CSRF_HEADER_NAME": "HTTP_X_CSRFTOKEN",
        "CSRF_COOKIE_HTTPONLY": False,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": secure,
        "CSRF_COOKIE_PATH": "/",
        "CSRF_USE_SESSIONS": False,
        "CSRF_TRUSTED_ORIGINS": list(app.cors_allowed_origins),
        "CSRF_FAILURE_VIEW": f"{PACKAGE}.accounts.csrf.csrf_failure",
        # Bodies (VAL-04): core/middleware.py refuses larger ones before Django reads them.
        "DATA_UPLOAD_MAX_MEMORY_SIZE": app.max_json_body_bytes,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": app.max_json_body_bytes,
        # Headers (DATA-03): core/middleware.py sends the full set on every response;
        # Django's own middlewares agree with it.
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "no-referrer",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        # X-Forwarded-Proto and -For are believed only from TRUSTED_PROXIES: Gunicorn
        # sets the scheme (forwarded_allow_ips, cli.py) and core/context.py the client
        # address. SECURE_PROXY_SSL_HEADER stays unset: Django would believe the
        # header from anyone.
        "USE_X_FORWARDED_HOST": False,
        "USE_X_FORWARDED_PORT": False,
        # Mail (accounts/postbox.py sends through Django's mail framework).
        "EMAIL_BACKEND": EMAIL_BACKENDS[app.email_backend],
        "DEFAULT_FROM_EMAIL": app.email_from,
        "SERVER_EMAIL": app.email_from,
        "EMAIL_HOST": app.smtp_host,
        "EMAIL_PORT": app.smtp_port,
        "EMAIL_HOST_USER": app.smtp_username,
        "EMAIL_HOST_PASSWORD": app.smtp_password.get_secret_value(),
        "EMAIL_USE_TLS": app.smtp_starttls,
        "EMAIL_TIMEOUT": EMAIL_TIMEOUT_SECONDS,
        "LOGGING_CONFIG": f"{PACKAGE}.core.logging.configure",
        "LOGGING": {"level": app.log_level},
        "SILENCED_SYSTEM_CHECKS": [],
    }
    if production:
        values.update(
            {
                "SECURE_SSL_REDIRECT": True,
                "SECURE_REDIRECT_EXEMPT": PROBE_PATHS,
                "SECURE_HSTS_SECONDS": HSTS_SECONDS,
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                "SECURE_HSTS_PRELOAD": False,
                "SILENCED_SYSTEM_CHECKS": [
                    # The CSRF middleware is accounts.csrf.CsrfMiddleware, a subclass
                    # of Django's that the check does not recognise by name.
                    "security.W003",
                    # HSTS preload is a commitment for the whole domain that its owner
                    # makes with the browsers' list; API.md's header has no `preload`.
                    "security.W021",
                ],
            }
        )
    return values
