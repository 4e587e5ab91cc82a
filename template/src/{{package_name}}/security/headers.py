"""Security headers sent on every response (DATA-03).

The API serves JSON only, so the content security policy forbids everything:
a response rendered by mistake as a page cannot run scripts or be framed.
"""

from __future__ import annotations

HSTS_VALUE = "max-age=63072000; includeSubDomains"

_BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    # Every API response is either about authentication or about the user's own
    # data, so nothing may be kept by browsers or shared caches.
    ("Cache-Control", "no-store"),
)

# Headers that would name the stack; removed from every response.
STACK_HEADERS = frozenset({"server", "x-powered-by"})


def security_headers(*, production: bool) -> list[tuple[str, str]]:
    """The headers to add to every response; HSTS only where HTTPS is guaranteed."""
    headers = list(_BASE_HEADERS)
    if production:
        headers.append(("Strict-Transport-Security", HSTS_VALUE))
    return headers
