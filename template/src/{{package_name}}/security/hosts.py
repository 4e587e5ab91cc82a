"""Host header allowlist (SRV-04).

A forged Host header poisons absolute links, caches and password-reset emails,
so requests for a host that is not listed are refused before any routing.
"""

from __future__ import annotations


def host_without_port(host_header: str) -> str:
    """The host name of a Host header, lowercased, without a port (IPv6 literals kept)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, _, _port = host.partition(":")
    return name


def host_allowed(host_header: str | None, allowed: list[str]) -> bool:
    """True when the host matches an entry exactly, or a `.example.com` suffix entry."""
    if not host_header:
        return False
    host = host_without_port(host_header)
    for entry in allowed:
        pattern = entry.lower()
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False
