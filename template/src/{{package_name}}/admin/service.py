"""Admin actions on other accounts; each is audited with the admin as actor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.service import events_query, record
from ..auth.models import Role, User
from ..auth.service import ensure_not_last_admin
from ..auth.sessions import SessionStore
from ..core.context import RequestContext
from ..core.pagination import paginate
from ..security.errors import AppError


def get_user(db: Session, user_id: uuid.UUID) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise AppError(404, "not_found", "The resource does not exist.")
    return user


def list_users(db: Session, limit: int, cursor: str | None) -> tuple[Sequence[User], str | None]:
    return paginate(
        db, select(User), stamp=User.created_at, key=User.id, limit=limit, cursor=cursor
    )


def change_role(
    db: Session, context: RequestContext, admin: User, user_id: uuid.UUID, role: Role
) -> User:
    """Set the role and end every session of that user, so it applies at once (AUTH-02)."""
    user = get_user(db, user_id)
    if user.role != role:
        if role != Role.ADMIN:
            ensure_not_last_admin(db, user)
        record(
            db,
            context,
            "role_changed",
            actor_id=admin.id,
            target=str(user.id),
            old_role=user.role,
            new_role=str(role),
        )
        user.role = role
        SessionStore.destroy_all(db, user.id)
    return user


def delete_user(db: Session, context: RequestContext, admin: User, user_id: uuid.UUID) -> None:
    user = get_user(db, user_id)
    ensure_not_last_admin(db, user)
    record(db, context, "user_deleted", actor_id=admin.id, target=str(user.id), email=user.email)
    db.delete(user)


def read_audit_log(
    db: Session,
    context: RequestContext,
    admin: User,
    limit: int,
    cursor: str | None,
    action: str | None,
) -> tuple[Sequence[AuditEvent], str | None]:
    """A page of the audit log; reading it is itself audited."""
    events = paginate(
        db, events_query(action), stamp=AuditEvent.at, key=AuditEvent.id, limit=limit, cursor=cursor
    )
    record(db, context, "audit_log_read", actor_id=admin.id, action_filter=action)
    return events
