"""Who may call a route: ninja auth for sessions and admins, and the step-up check.

Routers set `auth=session_auth` (or `admin_auth`) once, so a new route is
protected by where it is declared rather than by remembering a decorator
(AUTHZ-01); a public route must say `auth=None` explicitly.

The general rate limit (300 a minute) is the ratelimit app's middleware, which
runs before any view. The role is read from the database on every request
(Django loads the user afresh), never from the session (AUTHZ-02).
"""

from __future__ import annotations

from django.http import HttpRequest

from ..core.errors import ApiError
from .models import Role, User
from .sessions import current_user, recently_reauthenticated


def not_authenticated() -> ApiError:
    return ApiError(401, "not_authenticated", "Sign in to continue.")


class SessionAuth:
    """ninja auth: the signed-in user of the session cookie, else 401 `not_authenticated`.

    A plain callable rather than ninja's `APIKeyCookie`, so the API document
    declares no security scheme, as the FastAPI backend's does not: a scheme
    would name one cookie (`session` on the development server that serves the
    document) while production uses `__Host-session`, and clients and fuzzers
    would strip the wrong one. ninja's CSRF check is not needed either:
    accounts/csrf.py's middleware checks every unsafe request before any view
    runs, login included.
    """

    def __call__(self, request: HttpRequest) -> User:
        user = current_user(request)
        if user is None:
            raise not_authenticated()
        return user


class AdminAuth(SessionAuth):
    """A signed-in administrator; anyone else signed in gets 403 `forbidden`."""

    def __call__(self, request: HttpRequest) -> User:
        user = super().__call__(request)
        if user.role != Role.ADMIN:
            raise ApiError(403, "forbidden", "Administrators only.")
        return user


class ReauthenticatedAuth(SessionAuth):
    """A signed-in user who confirmed the password in the last minutes, else 403
    `reauth_required`: checked before the body is read, like the session itself."""

    def __call__(self, request: HttpRequest) -> User:
        user = super().__call__(request)
        require_recent_reauth(request)
        return user


session_auth = SessionAuth()
admin_auth = AdminAuth()
reauthenticated_auth = ReauthenticatedAuth()


def request_user(request: HttpRequest) -> User:
    """The user `session_auth` let in: for views and services behind it."""
    user = current_user(request)
    if user is None:
        raise not_authenticated()
    return user


def require_recent_reauth(request: HttpRequest) -> None:
    """Destructive and security actions need a password confirmed minutes ago (AUTH-07)."""
    if not recently_reauthenticated(request):
        raise ApiError(403, "reauth_required", "Confirm your password to continue.")
