"""Whose rows a transaction may reach: the signed-in user's, or every row for audited system work.

Row-level security (DB-03, docs/database.md) shows the application's role a row of
a user-owned table only when the row belongs to the transaction's `app.user_id`,
or when the transaction does system work (`app.system_access`). Without either,
a query sees no user row at all: a query that forgets its owner filter finds
nothing instead of everybody's data.

Both are set with `set_config(name, value, is_local => true)`, so they end with
the transaction, whether it commits or rolls back. Connections are pooled: a
session-wide setting would stay on the connection and hand one request's user to
the next request that borrows it.

The settings are not secrets: any SQL the application's role runs could set
them. Row-level security is a second line behind the owner filters of the code,
against a forgotten filter, not against SQL injection (INJ-01 prevents that).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.service import record
from ..core.context import RequestContext
from .roles import SYSTEM_SETTING, USER_SETTING

BYPASS_ACTION = "rls_bypass"


def act_as(db: Session, user_id: uuid.UUID) -> None:
    """Scope the rest of this transaction to the rows of `user_id`."""
    db.execute(select(func.set_config(USER_SETTING, str(user_id), True)))


def system_access(
    db: Session,
    context: RequestContext | None,
    reason: str,
    *,
    actor_id: uuid.UUID | None = None,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Let the rest of this transaction reach every user's rows, for one named reason.

    The only way past row-level security, for work that no signed-in owner does,
    such as an administrator deleting an account (docs/database.md lists every
    use). The audit event is part of the same transaction: the bypass is on
    record whenever its work is committed.
    """
    record(db, context, BYPASS_ACTION, actor_id=actor_id, target=target, reason=reason, **detail)
    db.execute(select(func.set_config(SYSTEM_SETTING, reason, True)))
