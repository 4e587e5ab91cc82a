"""`/api/health` says the process runs; `/api/ready` says it can serve (the database answers)."""

from __future__ import annotations

from typing import Literal

from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest
from ninja import Router, Schema

from ..core.errors import ApiError

router = Router(tags=["health"])


class Status(Schema):
    status: Literal["ok"] = "ok"


def database_answers() -> bool:
    """True when the database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


@router.get("/health", response=Status, auth=None)
def health(request: HttpRequest) -> Status:
    return Status()


@router.get(
    "/ready",
    response=Status,
    auth=None,
    openapi_extra={"responses": {"503": {"description": "The database does not answer"}}},
)
def ready(request: HttpRequest) -> Status:
    if not database_answers():
        raise ApiError(503, "not_ready", "The service is not ready.")
    return Status()
