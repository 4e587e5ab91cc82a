"""`/api/admin`: its own router, every route behind the admin role check (AUTHZ-02).

Role changes and deletions also need a recent re-authentication (AUTH-07),
checked with the role, before the path and body are even parsed: the order
the FastAPI backend answers in (403 before 422 or 404).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from ..accounts.auth import AdminAuth, admin_auth, request_user, require_recent_reauth
from ..accounts.models import User
from ..accounts.schemas import UserOut
from ..core.schemas import Page, PageParams
from . import selectors, services
from .schemas import AuditEntryOut, RoleIn

router = Router(auth=admin_auth, tags=["admin"])


class ReauthenticatedAdminAuth(AdminAuth):
    """An administrator who confirmed their password in the last minutes (AUTH-07)."""

    def __call__(self, request: HttpRequest) -> User:
        admin = super().__call__(request)
        require_recent_reauth(request)
        return admin


reauthenticated_admin = ReauthenticatedAdminAuth()


class AuditLogParams(PageParams):
    action: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z_]+$")


@router.get("/users", response=Page[UserOut])
def list_users(request: HttpRequest, params: Query[PageParams]) -> Page[UserOut]:
    users, next_cursor = selectors.user_list(limit=params.limit, cursor=params.cursor)
    return Page[UserOut](
        items=[UserOut.model_validate(user) for user in users], next_cursor=next_cursor
    )


@router.patch("/users/{user_id}/role", response=UserOut, auth=reauthenticated_admin)
def change_role(request: HttpRequest, user_id: uuid.UUID, payload: RoleIn) -> UserOut:
    user = services.user_change_role(
        admin=request_user(request), user_id=user_id, role=payload.role, request=request
    )
    return UserOut.model_validate(user)


@router.delete("/users/{user_id}", response={204: None}, auth=reauthenticated_admin)
def delete_user(request: HttpRequest, user_id: uuid.UUID) -> Status[None]:
    services.user_delete(admin=request_user(request), user_id=user_id, request=request)
    return Status(204, None)


@router.get("/audit-log", response=Page[AuditEntryOut])
def audit_log(request: HttpRequest, params: Query[AuditLogParams]) -> Page[AuditEntryOut]:
    entries, next_cursor = selectors.audit_entry_list(
        action=params.action, limit=params.limit, cursor=params.cursor
    )
    services.record_audit_log_read(
        admin=request_user(request), request=request, action=params.action
    )
    return Page[AuditEntryOut](
        items=[AuditEntryOut.model_validate(entry) for entry in entries], next_cursor=next_cursor
    )
