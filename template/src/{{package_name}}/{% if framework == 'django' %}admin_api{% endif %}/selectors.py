"""Reading users and the audit log, newest first, one bounded page at a time (DB-01)."""

from __future__ import annotations

import uuid

from ..accounts.models import User
from ..audit.models import AuditEntry
from ..core.errors import ApiError
from ..core.pagination import paginate


def user_get(*, user_id: uuid.UUID) -> User:
    """The user, or 404."""
    user = User.objects.filter(id=user_id).first()
    if user is None:
        raise ApiError(404, "not_found", "The resource does not exist.")
    return user


def user_list(*, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    return paginate(User.objects.all(), limit=limit, cursor=cursor)


def audit_entry_list(
    *, action: str | None, limit: int, cursor: str | None
) -> tuple[list[AuditEntry], str | None]:
    entries = AuditEntry.objects.all()
    if action is not None:
        entries = entries.filter(action=action)
    return paginate(entries, stamp="at", limit=limit, cursor=cursor)
