"""`/api/health` says the process runs; `/api/ready` says it can serve (the database answers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..security.errors import AppError

router = APIRouter(tags=["health"])


class Status(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health")
def health() -> Status:
    return Status()


@router.get("/ready", responses={503: {"description": "The database does not answer"}})
def ready(request: Request) -> Status:
    if not request.app.state.database.ping():
        raise AppError(503, "not_ready", "The service is not ready.")
    return Status()
