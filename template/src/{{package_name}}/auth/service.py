"""Account operations: signup, login, email verification, password reset and change,
re-authentication, logout and deletion.

Each refusal is audited in a transaction of its own, because the request's
transaction rolls back when the refusal is raised. Such side writes (refusals,
rate-limit and lockout counters) come before the request's own writes: SQLite
has one writer at a time, and would make them wait for the request forever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.service import record
from ..core.context import RequestContext
from ..core.database import Database, utcnow
from ..mail.sender import Message
from ..ratelimit.service import RateLimiter
from ..security.errors import AppError, ErrorDetail
from ..security.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from ..security.tokens import new_token, token_digest
from ..settings import Settings
from .lockout import Lockout
from .models import EmailToken, Role, TokenPurpose, User
from .sessions import Authenticated, SessionStore

VERIFY_EMAIL_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)
SIGNUP_ANSWER = "If this address can be registered, a message is on its way to it."
RESET_ANSWER = "If an account uses this address, a reset link is on its way to it."


class Postbox(Protocol):
    """Where services drop email; the web layer delivers it after the response."""

    def post(self, message: Message) -> None: ...


def invalid_credentials() -> AppError:
    return AppError(401, "invalid_credentials", "The email or password is incorrect.")


def policy_error(problems: list[str], field: str) -> AppError:
    details = [ErrorDetail(field=field, issue=problem) for problem in problems]
    return AppError(422, "validation_error", "The password is not allowed.", details=details)


class Accounts:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        sessions: SessionStore,
        limiter: RateLimiter,
        lockout: Lockout,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sessions = sessions
        self.limiter = limiter
        self.lockout = lockout
        self.key = settings.secret_key.get_secret_value()

    # --- helpers ---------------------------------------------------------------

    def _audit_refusal(self, context: RequestContext, action: str, **fields: Any) -> None:
        with self.database.sessions.begin() as session:
            record(session, context, action, **fields)

    def _issue_token(self, db: Session, user: User, purpose: TokenPurpose) -> str:
        token = new_token()
        lifetime = VERIFY_EMAIL_LIFETIME if purpose is TokenPurpose.VERIFY_EMAIL else RESET_LIFETIME
        db.add(
            EmailToken(
                digest=token_digest(token, self.key, purpose),
                user_id=user.id,
                purpose=purpose,
                expires_at=utcnow() + lifetime,
            )
        )
        return token

    def _redeem_token(self, db: Session, token: str, purpose: TokenPurpose) -> User:
        """The token's user, marking the token used; any other case is one generic 400."""
        digest = token_digest(token, self.key, purpose)
        row = db.execute(
            select(EmailToken, User)
            .join(User, User.id == EmailToken.user_id)
            .where(EmailToken.digest == digest, EmailToken.purpose == purpose)
        ).one_or_none()
        if row is None or row[0].used_at is not None or row[0].expires_at <= utcnow():
            raise AppError(400, "invalid_token", "This link is invalid or has expired.")
        email_token, user = row
        email_token.used_at = utcnow()
        return user

    def _link(self, path: str, token: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}{path}?token={token}"

    def _user_by_email(self, db: Session, email: str) -> User | None:
        return db.scalar(select(User).where(User.email == email))

    def _check_password_policy(self, password: str, email: str, field: str) -> None:
        problems = password_problems(password, email)
        if problems:
            raise policy_error(problems, field)

    # --- signup and verification -------------------------------------------------

    def signup(
        self, db: Session, context: RequestContext, postbox: Postbox, email: str, password: str
    ) -> str:
        """Register, or tell the owner of an existing account; the caller sees no difference."""
        self.limiter.check("signup-ip", context.ip, self.settings.rate_limit_signup_ip)
        self._check_password_policy(password, email, "body.password")
        password_hash = hash_password(password)  # also for existing emails: equal work
        existing = self._user_by_email(db, email)
        if existing is None:
            user = User(email=email, password_hash=password_hash)
            try:
                with db.begin_nested():
                    db.add(user)
                    db.flush()
            except IntegrityError:  # registered by a concurrent request
                existing = self._user_by_email(db, email)
        if existing is not None:
            postbox.post(
                Message(
                    email,
                    "Sign-up attempt",
                    "Someone tried to create an account with this address, which already has one.\n"
                    f"If it was you, sign in or reset your password: {self.settings.public_url}",
                )
            )
            record(db, context, "signup_existing_email", actor_id=existing.id, target=email)
            return SIGNUP_ANSWER
        token = self._issue_token(db, user, TokenPurpose.VERIFY_EMAIL)
        postbox.post(
            Message(
                email,
                "Confirm your email address",
                f"Open this link to confirm your address: {self._link('/verify-email', token)}",
            )
        )
        record(db, context, "signup", actor_id=user.id, target=email)
        return SIGNUP_ANSWER

    def verify_email(self, db: Session, context: RequestContext, token: str) -> None:
        user = self._redeem_token(db, token, TokenPurpose.VERIFY_EMAIL)
        user.email_verified = True
        record(db, context, "email_verified", actor_id=user.id, target=user.email)

    # --- login, logout, re-authentication ---------------------------------------

    def login(
        self,
        db: Session,
        context: RequestContext,
        email: str,
        password: str,
        current: Authenticated | None,
    ) -> tuple[User, str]:
        """Check the credentials and open a new session; return the user and the session id.

        Unknown emails verify against a dummy hash and count failures like real
        ones, so status, body and time are the same for both (AUTH-04).
        """
        self.limiter.check("login-ip", context.ip, self.settings.rate_limit_login_ip)
        account = self.limiter.subject(email)
        self.limiter.check("login-account", account, self.settings.rate_limit_login_account)
        self.limiter.ensure_under("login-failures", context.ip, self.settings.login_failures_per_ip)
        user = self._user_by_email(db, email)
        matches = verify_password(user.password_hash if user else dummy_hash(), password)
        if user is None or not matches or self.lockout.is_locked(account):
            locked = self.lockout.record_failure(account)
            self.limiter.count("login-failures", context.ip, self.settings.login_failures_per_ip)
            self._audit_refusal(context, "login_failed", target=email)
            if locked:
                self._audit_refusal(context, "account_locked", target=email)
            raise invalid_credentials()
        self.lockout.clear(account)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        if current is not None:
            self.sessions.destroy(db, current.session)
        session_id = self.sessions.create(db, user)
        record(db, context, "login", actor_id=user.id, target=email)
        return user, session_id

    def logout(self, db: Session, context: RequestContext, auth: Authenticated) -> None:
        self.sessions.destroy(db, auth.session)
        record(db, context, "logout", actor_id=auth.user.id)

    def reauthenticate(
        self, db: Session, context: RequestContext, auth: Authenticated, password: str
    ) -> str:
        """Confirm the password again; returns the rotated session id, now marked recent.

        Failures count towards the lockout, and a locked account cannot step up
        even with the right password, so a stolen session cannot guess it here.
        """
        account = self.limiter.subject(auth.user.email)
        self.limiter.check("login-account", account, self.settings.rate_limit_login_account)
        matches = verify_password(auth.user.password_hash, password)
        if not matches or self.lockout.is_locked(account):
            locked = self.lockout.record_failure(account)
            self._audit_refusal(context, "reauth_failed", actor_id=auth.user.id)
            if locked:
                self._audit_refusal(
                    context, "account_locked", actor_id=auth.user.id, target=auth.user.email
                )
            raise AppError(403, "invalid_credentials", "The password is incorrect.")
        record(db, context, "reauthenticated", actor_id=auth.user.id)
        return self.sessions.rotate(db, auth.session, reauthenticated=True)

    # --- passwords ----------------------------------------------------------------

    def change_password(
        self,
        db: Session,
        context: RequestContext,
        auth: Authenticated,
        current_password: str,
        new_password: str,
    ) -> str:
        """Set a new password, end every session, and return a fresh one for this client."""
        if not verify_password(auth.user.password_hash, current_password):
            self._audit_refusal(context, "password_change_failed", actor_id=auth.user.id)
            raise AppError(403, "invalid_credentials", "The current password is incorrect.")
        self._check_password_policy(new_password, auth.user.email, "body.new_password")
        auth.user.password_hash = hash_password(new_password)
        self.sessions.destroy_all(db, auth.user.id)
        record(db, context, "password_changed", actor_id=auth.user.id)
        return self.sessions.create(db, auth.user)

    def request_password_reset(
        self, db: Session, context: RequestContext, postbox: Postbox, email: str
    ) -> str:
        self.limiter.check("reset-ip", context.ip, self.settings.rate_limit_reset_ip)
        subject = self.limiter.subject(email)
        self.limiter.check("reset-email", subject, self.settings.rate_limit_reset_email)
        user = self._user_by_email(db, email)
        if user is None:
            record(db, context, "password_reset_unknown_email", target=email)
            return RESET_ANSWER
        token = self._issue_token(db, user, TokenPurpose.PASSWORD_RESET)
        postbox.post(
            Message(
                email,
                "Reset your password",
                "Open this link within an hour to choose a new password: "
                f"{self._link('/reset-password', token)}\n"
                "If you did not ask for this, ignore this message.",
            )
        )
        record(db, context, "password_reset_requested", actor_id=user.id, target=email)
        return RESET_ANSWER

    def reset_password(
        self, db: Session, context: RequestContext, token: str, new_password: str
    ) -> None:
        """Redeem a reset token: new password, every other reset link void, every session ended."""
        user = self._redeem_token(db, token, TokenPurpose.PASSWORD_RESET)
        self._check_password_policy(new_password, user.email, "body.new_password")
        # Before this transaction writes: the counters commit in one of their own,
        # which on SQLite (one writer at a time) would otherwise wait for this one.
        self.lockout.clear(self.limiter.subject(user.email))
        user.password_hash = hash_password(new_password)
        db.execute(
            update(EmailToken)
            .where(
                EmailToken.user_id == user.id,
                EmailToken.purpose == TokenPurpose.PASSWORD_RESET,
                EmailToken.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        self.sessions.destroy_all(db, user.id)
        record(db, context, "password_reset", actor_id=user.id, target=user.email)

    # --- account ------------------------------------------------------------------

    def delete_account(self, db: Session, context: RequestContext, auth: Authenticated) -> None:
        ensure_not_last_admin(db, auth.user)
        record(db, context, "account_deleted", actor_id=auth.user.id, target=auth.user.email)
        db.delete(auth.user)

    def create_admin(self, db: Session, email: str, password: str) -> User:
        """The first administrator, made by the `create-admin` command, never by default."""
        if self._user_by_email(db, email) is not None:
            raise AppError(409, "conflict", "An account with this email exists already.")
        problems = password_problems(password, email)
        if problems:
            raise policy_error(problems, "password")
        admin = User(
            email=email, password_hash=hash_password(password), role=Role.ADMIN, email_verified=True
        )
        db.add(admin)
        db.flush()
        record(db, None, "admin_created", actor_id=admin.id, target=email)
        return admin


def ensure_not_last_admin(db: Session, user: User) -> None:
    """Refuse to remove the only administrator: nobody could manage the service afterwards.

    The admin rows are locked (on PostgreSQL) until the transaction ends, so two
    concurrent demotions cannot each see the other admin and both succeed.
    """
    if user.role != Role.ADMIN:
        return
    admins = db.scalars(select(User.id).where(User.role == Role.ADMIN).with_for_update()).all()
    if len(admins) <= 1:
        raise AppError(409, "conflict", "The last administrator cannot be removed or demoted.")
