"""Whose rows the request's database connection may reach (DB-03, docs/database.md).

Row-level security shows the application's role a row of a user-owned table
only when the row belongs to the transaction's `app.user_id`, or when the
transaction does audited system work (`app.system_access`). Without either, a
query sees no user row at all: a query that forgets its owner filter finds
nothing instead of everybody's data.

Django runs each request in autocommit mode: its queries are many transactions
on the one connection of the request's thread, which no other request uses at
the same time. So `RowOwnerMiddleware` sets the owner for the connection when
a request starts, and clears it when the request ends, whatever happens in
between; the next request on the connection sets its own. The system setting,
by contrast, is local to one transaction (`system_access`), so a bypass never
outlives the work it was opened for.

The settings are not secrets: any SQL the application's role runs could set
them. Row-level security is a second line behind the owner filters of the code,
against a forgotten filter, not against SQL injection (INJ-01 prevents that).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponseBase

from ..accounts.models import User
from ..audit.services import record
from .roles import SYSTEM_SETTING, USER_SETTING

BYPASS_ACTION = "rls_bypass"

GetResponse = Callable[[HttpRequest], HttpResponseBase]


def act_as(user_id: uuid.UUID | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Scope the connection to the rows of `user_id` (None: no user's) until `forget` or the
    next `act_as`; work that starts outside a request (a command) calls it itself."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [USER_SETTING, str(user_id or "")])


def forget(using: str = DEFAULT_DB_ALIAS) -> None:
    """No user's rows for what runs next on the connection.

    A connection that cannot be told so is closed: a new one starts without the setting.
    """
    connection = connections[using]
    if connection.connection is None:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, '', false)", [USER_SETTING])
    except DatabaseError:
        connection.close()


def system_access(
    request: HttpRequest | None,
    reason: str,
    *,
    actor: AbstractBaseUser | None = None,
    target: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
    **detail: Any,
) -> None:
    """Let the rest of this transaction reach every user's rows, for one named reason.

    The only way past row-level security, for work that no signed-in owner does,
    such as an administrator deleting an account (docs/database.md lists every
    use). Call it inside the work's `transaction.atomic()` block: the setting ends
    with the transaction, and the audit event is part of it, so the bypass is on
    record whenever its work is committed.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("system_access must be called inside transaction.atomic()")
    record(
        action=BYPASS_ACTION,
        actor=actor,
        target=target,
        request=request,
        detail={"reason": reason, **detail},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SYSTEM_SETTING, reason])


class RowOwnerMiddleware:
    """The signed-in user's rows for the request's connection, and nobody's afterwards.

    The owner is set in `process_view`, once the middlewares before it (CSRF,
    the rate limit) have let the request through, from the user the session
    names (`request.user`, which checks the session against the user). It
    writes nothing to the session: the views' own authentication enforces the
    timeouts, and refuses before any row is read. A request without a session
    (the probes) queries nothing here but the reset.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.get_response(request)
        finally:
            forget()

    def process_view(
        self,
        request: HttpRequest,
        _view: Callable[..., Any],
        _args: tuple[Any, ...],
        _kwargs: dict[str, Any],
    ) -> None:
        user = getattr(request, "user", None)
        if isinstance(user, User):
            act_as(user.id)
