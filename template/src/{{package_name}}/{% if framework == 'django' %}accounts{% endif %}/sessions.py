"""Sessions on Django's session framework, with the contract's timeouts (AUTH-01, AUTH-02).

The cookie holds only Django's random session key (32 characters of [a-z0-9],
about 165 bits); the data stays in the database. On top of Django:

- `start` flushes the current session and signs the user in with
  `django.contrib.auth.login`, which issues a new session id (no fixation)
  and rotates the CSRF token; it stamps the sign-in time, from which the
  absolute lifetime counts: no later rotation extends it.
- `current_user` enforces the idle and the absolute timeout itself, whatever
  SESSION_COOKIE_AGE says: an idle or expired session is flushed (its row
  deleted), and activity is recorded at most once a minute, so reads do not
  all become writes. The session's expiry, and the cookie's Max-Age, are set
  to the idle timeout and never reach past the absolute deadline.
- `mark_reauthenticated` rotates the id and stamps the step-up time (AUTH-07).

Sessions of a user end together through the user's session hash
(`User._get_session_auth_hash`): Django flushes any session whose stored hash
no longer matches, at its next use.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user, login, logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from ..core.conf import app_settings
from .models import User

# Session keys (epoch seconds): sign-in, last activity, last re-authentication.
AUTH_AT = "auth_signed_in_at"
SEEN_AT = "auth_seen_at"
REAUTH_AT = "auth_reauthenticated_at"
# Activity is written back at most this often (seconds).
TOUCH_EVERY = 60
# request attribute caching the session's user for the rest of the request
_USER_ATTRIBUTE = "_session_user"


def _idle_seconds() -> int:
    return app_settings().session_idle_minutes * 60


def _absolute_seconds() -> int:
    return app_settings().session_absolute_hours * 3600


def _reauth_seconds() -> int:
    return app_settings().reauth_minutes * 60


def _stamp(request: HttpRequest, key: str) -> float | None:
    value = request.session.get(key)
    return float(value) if isinstance(value, int | float) else None


def _refresh_expiry(request: HttpRequest, now: float) -> None:
    """Idle timeout from now, capped by the absolute deadline; Django sets Max-Age from it."""
    auth_at = _stamp(request, AUTH_AT) or now
    remaining = int(auth_at + _absolute_seconds() - now)
    request.session.set_expiry(max(1, min(_idle_seconds(), remaining)))


def start(request: HttpRequest, user: User) -> None:
    """A new session for `user`: new id, new CSRF token, fresh deadlines, not re-authenticated.

    The current session is flushed first: Django's login() keeps the id when the
    same user signs in again with a valid session, and the contract wants a new
    one at every login.
    """
    request.session.flush()
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session.pop(REAUTH_AT, None)
    _refresh_expiry(request, now)
    setattr(request, _USER_ATTRIBUTE, user)


def end(request: HttpRequest) -> None:
    """Flush the session: its row is deleted, so a copy of the cookie is worth nothing."""
    logout(request)
    setattr(request, _USER_ATTRIBUTE, None)


def current_user(request: HttpRequest) -> User | None:
    """The signed-in user of a live session, or None (then the session is flushed)."""
    if hasattr(request, _USER_ATTRIBUTE):
        cached: User | None = getattr(request, _USER_ATTRIBUTE)
        return cached
    user = _load(request)
    setattr(request, _USER_ATTRIBUTE, user)
    if user is not None:
        # The actor of any security event this request causes (core/events.py).
        request.actor_id = user.id  # type: ignore[attr-defined]
    return user


def _load(request: HttpRequest) -> User | None:
    # AuthenticationMiddleware's lazy `request.user` when installed (one query per
    # request), else the same lookup. Either flushes a session whose stored hash
    # no longer matches the user's.
    found = request.user if hasattr(request, "user") else get_user(request)
    if not isinstance(found, User):
        return None
    now = time.time()
    auth_at, seen_at = _stamp(request, AUTH_AT), _stamp(request, SEEN_AT)
    if (
        auth_at is None
        or seen_at is None
        or now - auth_at >= _absolute_seconds()
        or now - seen_at >= _idle_seconds()
    ):
        request.session.flush()
        request.user = AnonymousUser()
        return None
    if now - seen_at >= TOUCH_EVERY:
        request.session[SEEN_AT] = now
        _refresh_expiry(request, now)
    return found


def mark_reauthenticated(request: HttpRequest) -> None:
    """A new session id, now marked as re-authenticated; the deadlines stay as they were."""
    request.session.cycle_key()
    now = time.time()
    request.session[REAUTH_AT] = now
    request.session[SEEN_AT] = now
    _refresh_expiry(request, now)


def recently_reauthenticated(request: HttpRequest) -> bool:
    stamp = _stamp(request, REAUTH_AT)
    return stamp is not None and time.time() - stamp < _reauth_seconds()
