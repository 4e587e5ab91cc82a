"""CSRF tokens for the double-submit cookie pattern, signed (AUTH-08).

The browser must echo the readable `csrftoken` cookie in the `X-CSRFToken`
header: another site can make the browser send the cookie but cannot read it.
Tokens are signed with SECRET_KEY, so a value planted in the cookie by a
sibling subdomain is refused unless this server issued it.
"""

from __future__ import annotations

from .tokens import new_token, same, token_digest

_PURPOSE = "csrf"


def issue_csrf_token(key: str) -> str:
    nonce = new_token()
    return f"{nonce}.{token_digest(nonce, key, _PURPOSE)}"


def csrf_token_valid(cookie: str | None, header: str | None, key: str) -> bool:
    """True when header and cookie carry the same token and the server signed it."""
    if not cookie or not header or not same(cookie, header):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and same(signature, token_digest(nonce, key, _PURPOSE))
