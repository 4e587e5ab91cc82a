"""Admin actions on other accounts; each is audited with the admin as actor (ERR-03)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest

from ..accounts.models import Role, User
from ..accounts.services import end_all_sessions, ensure_not_last_admin
from ..audit.services import record
from . import selectors


def user_change_role(*, admin: User, user_id: uuid.UUID, role: str, request: HttpRequest) -> User:
    """Set the role; every session of that user ends at once (AUTH-02).

    The last administrator cannot be demoted: the admin rows are locked while
    that is checked (accounts/services.py `ensure_not_last_admin`) and until the
    change commits. Only those rows are locked, and all at once, so two admins
    demoting each other cannot deadlock: one waits, then sees it is the last.
    """
    with transaction.atomic():
        user = selectors.user_get(user_id=user_id)
        if user.role != role:
            if role != Role.ADMIN:
                ensure_not_last_admin(user)
            record(
                action="role_changed",
                actor=admin,
                target=str(user.id),
                request=request,
                detail={"old_role": user.role, "new_role": role},
            )
            user.role = role
            user.save(update_fields=["role"])
            end_all_sessions(user)
    return user


def user_delete(*, admin: User, user_id: uuid.UUID, request: HttpRequest) -> None:
    """Delete the account and, by cascade, everything it owns; the audit trail stays.

    Its sessions are worthless at once: they name a user that no longer exists.
    """
    with transaction.atomic():
        user = selectors.user_get(user_id=user_id)
        ensure_not_last_admin(user)
        record(
            action="user_deleted",
            actor=admin,
            target=str(user.id),
            request=request,
            detail={"email": user.email},
        )
        user.delete()


def record_audit_log_read(*, admin: User, request: HttpRequest, action: str | None) -> None:
    """Reading the audit log is itself audited."""
    record(
        action="audit_log_read",
        actor=admin,
        target=None,
        request=request,
        detail={"action_filter": action},
    )
