"""The session and CSRF cookies, named and flagged as the contract says (AUTH-01).

In production the session cookie is `__Host-session`: the prefix makes the
browser refuse it unless it is Secure, has Path=/ and no Domain, so no
sibling subdomain can plant or overwrite it.
"""

from __future__ import annotations

from fastapi import Response

from ..settings import Settings

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"


def session_cookie_name(settings: Settings) -> str:
    return "__Host-session" if settings.secure_cookies else "session"


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, httponly: bool
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=settings.secure_cookies,
        httponly=httponly,
        samesite="lax",
    )


def set_session_cookie(response: Response, settings: Settings, session_id: str) -> None:
    _set_cookie(response, settings, session_cookie_name(settings), session_id, httponly=True)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def set_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    """Readable by the page's script (not HttpOnly): it must copy it into X-CSRFToken."""
    _set_cookie(response, settings, CSRF_COOKIE, token, httponly=False)
