"""Who is asking, from where: what the audit log and rate limits need of a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request


@dataclass(frozen=True)
class RequestContext:
    ip: str
    request_id: str


def request_context(request: Request) -> RequestContext:
    """The client address (already taken from X-Forwarded-For only for trusted proxies)."""
    ip = request.client.host if request.client else "unknown"
    return RequestContext(ip=ip, request_id=request.state.request_id)


Context = Annotated[RequestContext, Depends(request_context)]
