"""Who is asking, from where: what the audit log, rate limits and security events need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ..security.events import EventSink


@dataclass(frozen=True)
class RequestContext:
    ip: str
    request_id: str
    # Where audited actions that are security events are reported (monitoring/monitor.py).
    events: EventSink | None = field(default=None, compare=False, repr=False)


def client_ip(request: Request) -> str:
    """The client address (already taken from X-Forwarded-For only for trusted proxies)."""
    return request.client.host if request.client else "unknown"


async def request_context(request: Request) -> RequestContext:
    events: EventSink = request.app.state.monitor
    return RequestContext(ip=client_ip(request), request_id=request.state.request_id, events=events)


Context = Annotated[RequestContext, Depends(request_context)]
