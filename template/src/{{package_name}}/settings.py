"""Settings from the environment (and `.env`), and the production guard (SRV-01).

The guard exists because most breaches of new services start with a
development default that reached production: debug on, an example secret,
a wildcard host. The service refuses to start instead, naming every problem.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .security.ratelimit import Rate

Environment = Literal["development", "test", "production"]

MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "password", "example"})
LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

CommaList = Annotated[list[str], NoDecode]
# NoDecode: pydantic-settings would otherwise read a dataclass-typed variable as JSON,
# and "10/minute" is not JSON.
RateSetting = Annotated[
    Rate, NoDecode, BeforeValidator(lambda v: Rate.parse(v) if isinstance(v, str) else v)
]


class ConfigurationError(Exception):
    """Raised when the settings are unsafe for the environment; lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class Settings(BaseSettings):
    """Every setting the service reads; names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = "development"
    debug: bool = False
    secret_key: SecretStr = SecretStr("")
    database_url: str = ""
    allowed_hosts: CommaList = Field(default_factory=lambda: list(LOCAL_HOSTS))
    cors_allowed_origins: CommaList = Field(default_factory=list)
    trusted_proxies: CommaList = Field(default_factory=list)
    cookie_secure: bool | None = None
    max_json_body_bytes: int = Field(default=1024 * 1024, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Sessions (AUTH-02) and step-up re-authentication (AUTH-07)
    session_idle_minutes: int = Field(default=30, gt=0)
    session_absolute_hours: int = Field(default=12, gt=0)
    reauth_minutes: int = Field(default=5, gt=0)

    # Email: links in messages point at PUBLIC_URL, the front end users see.
    public_url: str = "http://localhost:8000"
    email_backend: Literal["console", "smtp", "memory"] = "console"
    email_from: str = "no-reply@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True

    # Rate limits (RATE-01) and account lockout (AUTH-05)
    rate_limit_default: RateSetting = Rate.parse("300/minute")
    rate_limit_login_ip: RateSetting = Rate.parse("10/minute")
    rate_limit_login_account: RateSetting = Rate.parse("5/minute")
    rate_limit_signup_ip: RateSetting = Rate.parse("5/hour")
    rate_limit_reset_ip: RateSetting = Rate.parse("5/hour")
    rate_limit_reset_email: RateSetting = Rate.parse("3/hour")
    login_failures_per_ip: RateSetting = Rate.parse("50/15minutes")
    lockout_after_failures: RateSetting = Rate.parse("10/15minutes")
    lockout_minutes: int = Field(default=15, gt=0)

    @field_validator("allowed_hosts", "cors_allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure in production unless explicitly (and fatally) turned off."""
        return self.is_production if self.cookie_secure is None else self.cookie_secure

    @property
    def api_docs_enabled(self) -> bool:
        return not self.is_production

    def problems(self) -> list[str]:
        """Every reason this configuration must not run, in a stable order."""
        found = []
        secret = self.secret_key.get_secret_value()
        if not secret:
            found.append("SECRET_KEY is missing")
        elif self.is_production:
            if len(secret) < MIN_SECRET_LENGTH:
                found.append(f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
            if secret.lower() in PLACEHOLDER_SECRETS or "change-me" in secret.lower():
                found.append("SECRET_KEY is an example value")
        if not self.database_url:
            found.append("DATABASE_URL is missing")
        if not self.is_production:
            return found
        if self.debug:
            found.append("DEBUG is on")
        if not self.secure_cookies:
            found.append("COOKIE_SECURE is off: cookies would travel over plain HTTP")
        if not self.allowed_hosts or "*" in self.allowed_hosts:
            found.append("ALLOWED_HOSTS must list the service's host names, without '*'")
        if self.email_backend != "smtp":
            found.append("EMAIL_BACKEND must be smtp: other backends do not deliver mail")
        if not self.public_url.startswith("https://"):
            found.append("PUBLIC_URL must be an https:// address")
        if "*" in self.cors_allowed_origins:
            found.append("CORS_ALLOWED_ORIGINS must list origins, without '*'")
        if any(not origin.startswith("https://") for origin in self.cors_allowed_origins):
            found.append("CORS_ALLOWED_ORIGINS must use https:// origins only")
        return found

    def check(self) -> None:
        """Raise ConfigurationError when `problems()` finds anything."""
        found = self.problems()
        if found:
            raise ConfigurationError(found)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
