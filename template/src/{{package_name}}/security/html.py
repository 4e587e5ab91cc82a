"""Sanitizing user HTML to a small allowlist before it is stored (VAL-03).

nh3 (the ammonia library) parses like a browser, so tricks that fool regular
expressions (broken tags, encoded schemes) are handled the way a browser would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


def _absolute_links_only(element: str, attribute: str, value: str) -> str | None:
    """Drop an href without an allowed scheme: nh3 would keep relative (`/x`, `#x`)
    and scheme-relative (`//host`) ones, and the contract allows only http(s) and mailto."""
    if element == "a" and attribute == "href":
        scheme = urlsplit(value.strip()).scheme.lower()
        return value if scheme in ALLOWED_URL_SCHEMES else None
    return value


def sanitize_html(html: str) -> str:
    """Keep only the allowlisted tags; links keep an http(s)/mailto href and get a safe rel."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        attribute_filter=_absolute_links_only,
        link_rel=LINK_REL,
        strip_comments=True,
    )
