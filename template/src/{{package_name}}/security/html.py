"""Sanitizing user HTML to a small allowlist before it is stored (VAL-03).

nh3 (the ammonia library) parses like a browser, so tricks that fool regular
expressions (broken tags, encoded schemes) are handled the way a browser would.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


def sanitize_html(html: str) -> str:
    """Keep only the allowlisted tags; links keep an http(s)/mailto href and get a safe rel."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
