"""Users and single-use emailed tokens.

The user has no username and no Django permission flags: the API knows two
roles, checked on the server for every request (AUTHZ-02), and nothing else.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

_SESSION_HASH_SALT = "accounts.User.session_auth_hash"


class Role(models.TextChoices):
    USER = "user", "User"
    ADMIN = "admin", "Administrator"


class TokenPurpose(models.TextChoices):
    VERIFY_EMAIL = "verify_email", "Verify email"
    PASSWORD_RESET = "password_reset", "Password reset"


def normalize_email(email: str) -> str:
    """Emails are compared lowercased and trimmed, so Alice@ and alice@ are one account."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    """Creates users with a hashed password; the only way code should make one."""

    def create_user(
        self,
        email: str,
        password: str | None,
        role: str = Role.USER,
        email_verified: bool = False,
        **extra: Any,
    ) -> User:
        """A new saved user; `password=None` makes one that cannot sign in."""
        user = self.model(
            email=normalize_email(email), role=role, email_verified=email_verified, **extra
        )
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


class User(AbstractBaseUser):
    """An account. `password` holds Django's Argon2id hash; `{user}` never exposes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    email_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped to end every session of the user at once (services.end_all_sessions).
    session_version = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        db_table = "users"
        indexes: ClassVar[list[models.Index]] = [
            # Keyset pages of the admin user list sort by (created_at, id) (DB-01, DB-02).
            models.Index(fields=["created_at", "id"], name="users_created_at_id"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(role__in=["user", "admin"]), name="users_role_known"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Normalise the email on every save, so no path can store a second spelling."""
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def mfa_enabled(self) -> bool:
        """Part of the API's user shape; always false while the project has no one-time codes."""
        return False

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Sessions carry this hash; when it changes, Django flushes them on their next use.

        It covers the password hash, the role and a version counter, so a password
        change, a reset, a role change or an explicit `end_all_sessions` ends
        every other session of the user (AUTH-02), without a list of sessions per
        user; the counter also keeps a role changed back from reviving old sessions.
        """
        return salted_hmac(
            _SESSION_HASH_SALT,
            f"{self.password}\x00{self.role}\x00{self.session_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class EmailToken(models.Model):
    """A verification or reset token sent by email: only its keyed digest is stored (AUTH-09)."""

    digest = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    purpose = models.CharField(max_length=32, choices=TokenPurpose.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_email_tokens"

    def __str__(self) -> str:
        return f"{self.purpose} token of {self.user_id}"
