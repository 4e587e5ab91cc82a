"""Who is asking, from where: what the audit log, rate limits and security events need."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from ..security.request_id import request_id_from
from .conf import app_settings

REQUEST_ID_ATTRIBUTE = "request_id"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def forwarded_client(remote: str, forwarded_for: str | None, trusted: list[str]) -> str:
    """The client address: X-Forwarded-For is believed only as far as the proxies are trusted.

    Walking from the right, every hop added by a trusted proxy is skipped; the
    first address a trusted proxy did not add is the client. A request that
    does not come from a trusted proxy is its own client, whatever it claims.
    """
    if remote not in trusted or not forwarded_for:
        return remote
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        if not _is_ip(hop):
            break
        client = hop
        if hop not in trusted:
            break
    return client


def client_ip(request: HttpRequest) -> str:
    """The client address, honouring X-Forwarded-For only from TRUSTED_PROXIES."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return forwarded_client(remote, forwarded, app_settings().trusted_proxies)


def request_id(request: HttpRequest) -> str:
    """The request's id (core/middleware.py sets it first; computed here if it has not)."""
    value = getattr(request, REQUEST_ID_ATTRIBUTE, None)
    if isinstance(value, str):
        return value
    value = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
    setattr(request, REQUEST_ID_ATTRIBUTE, value)
    return value
