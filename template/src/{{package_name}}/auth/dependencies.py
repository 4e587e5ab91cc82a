"""Request guards: who is calling, CSRF, role and recent re-authentication checks.

Routers attach these once, so a new route is protected by where it is
mounted rather than by remembering a decorator (AUTHZ-01).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..core.context import Context
from ..core.database import DbSession
from ..ratelimit.service import RateLimiter
from ..security.csrf import csrf_token_valid
from ..security.errors import AppError
from ..settings import Settings
from .cookies import CSRF_COOKIE, CSRF_HEADER, session_cookie_name
from .models import Role
from .service import Accounts
from .sessions import Authenticated, SessionStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def get_settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


AppSettings = Annotated[Settings, Depends(get_settings_of)]
AccountsService = Annotated[Accounts, Depends(get_accounts)]
Limiter = Annotated[RateLimiter, Depends(get_limiter)]


def get_authenticated(
    request: Request, db: DbSession, settings: AppSettings
) -> Authenticated | None:
    """The session behind the cookie, or None; computed once per request."""
    store: SessionStore = request.app.state.sessions
    return store.load(db, request.cookies.get(session_cookie_name(settings)))


MaybeAuthenticated = Annotated[Authenticated | None, Depends(get_authenticated)]


def require_authenticated(auth: MaybeAuthenticated) -> Authenticated:
    if auth is None:
        raise AppError(401, "not_authenticated", "Sign in to continue.")
    return auth


CurrentAuth = Annotated[Authenticated, Depends(require_authenticated)]


def require_admin(auth: CurrentAuth) -> Authenticated:
    """Role check on the server for every admin route (AUTHZ-02)."""
    if auth.user.role != Role.ADMIN:
        raise AppError(403, "forbidden", "Administrators only.")
    return auth


AdminAuth = Annotated[Authenticated, Depends(require_admin)]


def require_recent_reauth(request: Request, auth: CurrentAuth) -> Authenticated:
    """Destructive and security actions need a password confirmed minutes ago (AUTH-07)."""
    store: SessionStore = request.app.state.sessions
    if not store.recently_reauthenticated(auth.session):
        raise AppError(403, "reauth_required", "Confirm your password to continue.")
    return auth


Reauthenticated = Annotated[Authenticated, Depends(require_recent_reauth)]


def verify_csrf(request: Request, settings: AppSettings) -> None:
    """Unsafe methods must echo the signed `csrftoken` cookie in `X-CSRFToken` (AUTH-08)."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    header = request.headers.get(CSRF_HEADER)
    if not csrf_token_valid(cookie, header, settings.secret_key.get_secret_value()):
        raise AppError(403, "csrf_failed", "The CSRF token is missing or wrong.")


def default_rate_limit(
    settings: AppSettings, limiter: Limiter, auth: MaybeAuthenticated, context: Context
) -> None:
    """The general limit: per user when signed in, else per client address (RATE-02)."""
    subject = f"user:{auth.user.id}" if auth else f"ip:{context.ip}"
    limiter.check("default", subject, settings.rate_limit_default)
