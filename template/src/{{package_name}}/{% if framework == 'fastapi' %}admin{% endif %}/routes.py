"""`/api/admin`: its own router, every route behind the admin role check (AUTHZ-02)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, status

from ..auth.dependencies import AdminAuth, Reauthenticated, require_admin
from ..auth.models import Role
from ..auth.schemas import UserOut
from ..core.context import Context
from ..core.database import DbSession
from ..core.schemas import DEFAULT_LIMIT, Cursor, Limit, Page, StrictJSONRoute
from . import service
from .schemas import ActionFilter, AuditEventOut, RoleIn

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=StrictJSONRoute,
)


@router.get("/users")
def list_users(
    _admin: AdminAuth, db: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[UserOut]:
    users, next_cursor = service.list_users(db, limit, cursor)
    return Page[UserOut](
        items=[UserOut.model_validate(user) for user in users], next_cursor=next_cursor
    )


@router.patch("/users/{user_id}/role")
def change_role(
    user_id: uuid.UUID,
    body: RoleIn,
    _admin: AdminAuth,
    auth: Reauthenticated,
    db: DbSession,
    context: Context,
) -> UserOut:
    user = service.change_role(db, context, auth.user, user_id, Role(body.role))
    return UserOut.model_validate(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(
    user_id: uuid.UUID, _admin: AdminAuth, auth: Reauthenticated, db: DbSession, context: Context
) -> None:
    service.delete_user(db, context, auth.user, user_id)


@router.get("/audit-log")
def audit_log(
    admin: AdminAuth,
    db: DbSession,
    context: Context,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    action: ActionFilter = None,
) -> Page[AuditEventOut]:
    events, next_cursor = service.read_audit_log(db, context, admin.user, limit, cursor, action)
    return Page[AuditEventOut](
        items=[AuditEventOut.model_validate(event) for event in events], next_cursor=next_cursor
    )
