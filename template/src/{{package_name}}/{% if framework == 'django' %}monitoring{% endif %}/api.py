"""`/api/admin/security-events`: the stored security events, for administrators (LOG-01).

Mounted under `/admin` beside admin_api's router, with the same role check (AUTHZ-02).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from ..accounts.auth import admin_auth, request_user
from ..core.schemas import Page, PageParams
from ..security.events import Kind
from . import selectors, services
from .schemas import SecurityEventOut

router = Router(auth=admin_auth, tags=["admin"])


class SecurityEventParams(PageParams):
    # A closed list: an unknown kind is a 422, never an empty page that looks like good news.
    kind: Kind | None = None


@router.get("/security-events", response=Page[SecurityEventOut])
def security_events(
    request: HttpRequest, params: Query[SecurityEventParams]
) -> Page[SecurityEventOut]:
    events, next_cursor = selectors.security_event_list(
        kind=params.kind, limit=params.limit, cursor=params.cursor
    )
    services.record_security_events_read(
        admin=request_user(request), request=request, kind=params.kind
    )
    return Page[SecurityEventOut](
        items=[SecurityEventOut.model_validate(event) for event in events],
        next_cursor=next_cursor,
    )
