"""Recording audit entries (ERR-03).

An audited action that is also a security event (a sign-in, a lockout, a
password or admin change; security/events.py `AUDITED`) is handed to the
monitor once its transaction commits: a rolled-back action never shows in
the stream. Outside a transaction it is handed over at once.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from ..core.context import client_ip, request_id
from ..core.events import emit
from ..security.events import AUDITED, SecurityEvent
from ..security.redaction import redact
from .models import TARGET_LENGTH, AuditEntry


def record(
    *,
    action: str,
    actor: AbstractBaseUser | None,
    target: str | None,
    request: HttpRequest | None,
    detail: dict[str, object] | None = None,
) -> None:
    """Store one audit entry, in the caller's transaction when there is one.

    Call it inside the action's `transaction.atomic()` block to make the entry
    part of the action, or outside any block for refusals (which roll back).
    `detail` is redacted: never put a secret in it anyway.
    """
    actor_id = actor.pk if actor is not None and isinstance(actor.pk, uuid.UUID) else None
    entry = AuditEntry.objects.create(
        actor_id=actor_id,
        action=action,
        target=target[:TARGET_LENGTH] if target is not None else None,
        ip=client_ip(request) if request is not None else None,
        request_id=request_id(request) if request is not None else None,
        detail=redact(dict(detail or {})),
    )
    kind = AUDITED.get(action)
    if kind is None or request is None:
        return
    event = SecurityEvent(
        kind=kind,
        at=entry.at,
        ip=entry.ip,
        request_id=entry.request_id,
        actor_id=actor_id,
        target=entry.target,
        detail={"action": action, **entry.detail},
    )
    transaction.on_commit(partial(emit, event))
