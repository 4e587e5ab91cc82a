"""`/api/admin/security-events`: the stored security events, for administrators (LOG-01)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..auth.dependencies import AdminAuth, require_admin
from ..core.context import Context
from ..core.database import DbSession
from ..core.schemas import DEFAULT_LIMIT, Cursor, Limit, Page, StrictJSONRoute
from . import service
from .schemas import KindFilter, SecurityEventOut

# Mounted beside the admin router, with the same prefix and the same role check (AUTHZ-02).
router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=StrictJSONRoute,
)


@router.get("/security-events")
def security_events(
    admin: AdminAuth,
    db: DbSession,
    context: Context,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    kind: KindFilter = None,
) -> Page[SecurityEventOut]:
    events, next_cursor = service.read_events(db, context, admin.user, limit, cursor, kind)
    return Page[SecurityEventOut](
        items=[SecurityEventOut.model_validate(event) for event in events],
        next_cursor=next_cursor,
    )
