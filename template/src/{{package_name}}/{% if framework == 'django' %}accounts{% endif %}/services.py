"""Account operations: signup, verification, login, logout, re-authentication, password
change and reset, deletion, and the first administrator.

Status codes, error codes, messages and audit actions are the FastAPI
backend's, so the two generated backends answer and audit alike.

Writes that belong together run in one transaction. Refusals (a failed login,
a wrong re-authentication) are audited and counted *before* the error is
raised and outside any transaction that the error could roll back: the
attempt must leave a trace whatever happens to the request.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from ..audit.services import record
from ..core.conf import app_settings
from ..core.context import client_ip
from ..core.errors import ApiError, ErrorDetail
from ..mail.sender import Message
from ..ratelimit.services import limiter
from ..security.tokens import new_token
from . import postbox, selectors, sessions
from .limits import account_subject, lockout
from .models import EmailToken, Role, TokenPurpose, User, normalize_email
from .validators import password_policy_problems

VERIFY_EMAIL_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)
SIGNUP_ANSWER = "If this address can be registered, a message is on its way to it."
RESET_ANSWER = "If an account uses this address, a reset link is on its way to it."
_DUMMY_PASSWORD = "not-a-real-password-only-for-equal-timing"  # noqa: S105 - a decoy


# --- helpers -------------------------------------------------------------------------------


def invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The email or password is incorrect.")


def invalid_token() -> ApiError:
    return ApiError(400, "invalid_token", "This link is invalid or has expired.")


def policy_error(problems: list[str], field: str) -> ApiError:
    details = [ErrorDetail(field=field, issue=problem) for problem in problems]
    return ApiError(422, "validation_error", "The password is not allowed.", details=details)


def check_password_policy(password: str, user: User, field: str) -> None:
    """422 naming `field` when the password breaks the policy; the password is never echoed."""
    problems = password_policy_problems(password, user)
    if problems:
        raise policy_error(problems, field)


@cache
def _dummy_hash() -> str:
    """A hash made like a real one, so an unknown email costs one Argon2 verification too."""
    return make_password(_DUMMY_PASSWORD)


def warm_up() -> None:
    """Compute what the first request would otherwise compute on its own time."""
    _dummy_hash()


def _needs_rehash(encoded: str) -> bool:
    """True when the hash was made by another hasher or with other parameters (AUTH-03)."""
    preferred = get_hasher("default")
    try:
        hasher = identify_hasher(encoded)
    except ValueError:
        return True
    return hasher.algorithm != preferred.algorithm or preferred.must_update(encoded)


def _audit(
    request: HttpRequest | None,
    action: str,
    *,
    actor: User | None = None,
    target: str | None = None,
) -> None:
    record(action=action, actor=actor, target=target or "", request=request, detail={})


def _link(path: str, token: str) -> str:
    return f"{app_settings().public_url.rstrip('/')}{path}?token={token}"


def _issue_token(user: User, purpose: TokenPurpose) -> str:
    """A new emailed token; only its digest is stored, and it expires (AUTH-09)."""
    token = new_token()
    lifetime = VERIFY_EMAIL_LIFETIME if purpose == TokenPurpose.VERIFY_EMAIL else RESET_LIFETIME
    EmailToken.objects.create(
        digest=selectors.email_token_digest(token, purpose),
        user=user,
        purpose=purpose,
        expires_at=timezone.now() + lifetime,
    )
    return token


def _use_token(email_token: EmailToken) -> None:
    """Mark the token used; a concurrent use of the same token loses (one generic 400)."""
    used = EmailToken.objects.filter(digest=email_token.digest, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if used != 1:
        raise invalid_token()


# --- signup and verification ------------------------------------------------------------------


def signup(request: HttpRequest, email: str, password: str) -> str:
    """Register, or tell the owner of an existing account; the caller sees no difference.

    Both paths hash the password once, write once and post one message, which
    leaves after the response: status, body and time are alike (AUTH-04).
    """
    settings = app_settings()
    limiter().check("signup-ip", client_ip(request), settings.rate_limit_signup_ip)
    email = normalize_email(email)
    check_password_policy(password, User(email=email), "body.password")
    password_hash = make_password(password)  # also for existing emails: equal work
    existing = selectors.user_by_email(email)
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create(email=email, password=password_hash)
                token = _issue_token(user, TokenPurpose.VERIFY_EMAIL)
                _audit(request, "signup", actor=user, target=email)
        except IntegrityError:  # registered by a concurrent request
            existing = selectors.user_by_email(email)
            if existing is None:  # pragma: no cover - another constraint failed
                raise
        else:
            postbox.post(
                Message(
                    email,
                    "Confirm your email address",
                    f"Open this link to confirm your address: {_link('/verify-email', token)}",
                )
            )
            return SIGNUP_ANSWER
    _audit(request, "signup_existing_email", actor=existing, target=email)
    postbox.post(
        Message(
            email,
            "Sign-up attempt",
            "Someone tried to create an account with this address, which already has one.\n"
            f"If it was you, sign in or reset your password: {settings.public_url}",
        )
    )
    return SIGNUP_ANSWER


def verify_email(request: HttpRequest, token: str) -> None:
    email_token = selectors.live_email_token(token, TokenPurpose.VERIFY_EMAIL)
    if email_token is None:
        raise invalid_token()
    with transaction.atomic():
        _use_token(email_token)
        user = email_token.user
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        _audit(request, "email_verified", actor=user, target=user.email)


# --- login, logout, re-authentication -----------------------------------------------------------


def login(request: HttpRequest, email: str, password: str) -> User:
    """Check the credentials and open a new session (rotated id, new CSRF token).

    Unknown emails verify against a dummy hash and count failures like real
    ones, so status, body and time are the same for both (AUTH-04, AUTH-05).
    """
    settings = app_settings()
    limits, locks = limiter(), lockout()
    ip = client_ip(request)
    email = normalize_email(email)
    limits.check("login-ip", ip, settings.rate_limit_login_ip)
    account = account_subject(email)
    limits.check("login-account", account, settings.rate_limit_login_account)
    limits.ensure_under("login-failures", ip, settings.login_failures_per_ip)
    user = selectors.user_by_email(email)
    encoded = user.password if user is not None and user.has_usable_password() else None
    matches = check_password(password, encoded or _dummy_hash()) and encoded is not None
    if user is None or not matches or locks.is_locked(account):
        locked = locks.record_failure(account)
        limits.count("login-failures", ip, settings.login_failures_per_ip)
        _audit(request, "login_failed", target=email)
        if locked:
            _audit(request, "account_locked", target=email)
        raise invalid_credentials()
    locks.clear(account)
    with transaction.atomic():
        if encoded is not None and _needs_rehash(encoded):
            user.set_password(password)
            user.save(update_fields=["password"])
        sessions.start(request, user)
        _audit(request, "login", actor=user, target=email)
    return user


def logout(request: HttpRequest, user: User) -> None:
    _audit(request, "logout", actor=user)
    sessions.end(request)


def reauthenticate(request: HttpRequest, user: User, password: str) -> None:
    """Confirm the password again: the session id rotates and counts as re-authenticated.

    Failures count towards the lockout, and a locked account cannot step up
    even with the right password, so a stolen session cannot guess it here.
    """
    settings = app_settings()
    locks = lockout()
    account = account_subject(user.email)
    limiter().check("login-account", account, settings.rate_limit_login_account)
    matches = check_password(password, user.password)
    if not matches or locks.is_locked(account):
        locked = locks.record_failure(account)
        _audit(request, "reauth_failed", actor=user)
        if locked:
            _audit(request, "account_locked", actor=user, target=user.email)
        raise ApiError(403, "invalid_credentials", "The password is incorrect.")
    _audit(request, "reauthenticated", actor=user)
    sessions.mark_reauthenticated(request)


# --- passwords ------------------------------------------------------------------------------------


def change_password(
    request: HttpRequest, user: User, current_password: str, new_password: str
) -> None:
    """Set a new password, end every session, and open a fresh one for this client."""
    if not check_password(current_password, user.password):
        _audit(request, "password_change_failed", actor=user)
        raise ApiError(403, "invalid_credentials", "The current password is incorrect.")
    check_password_policy(new_password, user, "body.new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # The new hash no longer matches any session's: login() flushes this one too.
        sessions.start(request, user)
        _audit(request, "password_changed", actor=user)


def request_password_reset(request: HttpRequest, email: str) -> str:
    settings = app_settings()
    limits = limiter()
    email = normalize_email(email)
    limits.check("reset-ip", client_ip(request), settings.rate_limit_reset_ip)
    limits.check("reset-email", account_subject(email), settings.rate_limit_reset_email)
    user = selectors.user_by_email(email)
    if user is None:
        _audit(request, "password_reset_unknown_email", target=email)
        return RESET_ANSWER
    with transaction.atomic():
        token = _issue_token(user, TokenPurpose.PASSWORD_RESET)
        _audit(request, "password_reset_requested", actor=user, target=email)
    postbox.post(
        Message(
            email,
            "Reset your password",
            "Open this link within an hour to choose a new password: "
            f"{_link('/reset-password', token)}\n"
            "If you did not ask for this, ignore this message.",
        )
    )
    return RESET_ANSWER


def reset_password(request: HttpRequest, token: str, new_password: str) -> None:
    """Redeem a reset token: new password, every other reset link void, every session ended.

    The policy is checked before the token is used, so a refused password
    leaves the link working for a better one.
    """
    email_token = selectors.live_email_token(token, TokenPurpose.PASSWORD_RESET)
    if email_token is None:
        raise invalid_token()
    user = email_token.user
    check_password_policy(new_password, user, "body.new_password")
    lockout().clear(account_subject(user.email))
    with transaction.atomic():
        _use_token(email_token)
        EmailToken.objects.filter(
            user=user, purpose=TokenPurpose.PASSWORD_RESET, used_at__isnull=True
        ).update(used_at=timezone.now())
        user.set_password(new_password)
        user.session_version = F("session_version") + 1
        user.save(update_fields=["password", "session_version"])
        user.refresh_from_db(fields=["session_version"])
        _audit(request, "password_reset", actor=user, target=user.email)


# --- sessions of other requests -------------------------------------------------------------------


def end_all_sessions(user: User) -> None:
    """End every session of the user on every device (for a role change, say).

    Bumping the version changes the session hash that each session stores, and
    Django flushes a session whose hash no longer matches at its next use. The
    caller's own session ends too; start a new one if the caller stays in.
    """
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])


# --- account --------------------------------------------------------------------------------------


def ensure_not_last_admin(user: User) -> None:
    """Refuse to remove the only administrator: nobody could manage the service afterwards.

    Call inside a transaction: the admin rows stay locked (on PostgreSQL) until
    it ends, so two concurrent removals cannot each see the other admin.
    """
    if user.role != Role.ADMIN:
        return
    admins = list(User.objects.select_for_update().filter(role=Role.ADMIN).values_list("id"))
    if len(admins) <= 1:
        raise ApiError(409, "conflict", "The last administrator cannot be removed or demoted.")


def delete_account(request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        ensure_not_last_admin(user)
        _audit(request, "account_deleted", actor=user, target=user.email)
        user.delete()
    sessions.end(request)


def create_admin(email: str, password: str) -> User:
    """The first administrator, made by the `create-admin` command, never by default."""
    email = normalize_email(email)
    if selectors.user_by_email(email) is not None:
        raise ApiError(409, "conflict", "An account with this email exists already.")
    check_password_policy(password, User(email=email), "password")
    with transaction.atomic():
        admin = User.objects.create_user(email, password, role=Role.ADMIN, email_verified=True)
        _audit(None, "admin_created", actor=admin, target=email)
    return admin
