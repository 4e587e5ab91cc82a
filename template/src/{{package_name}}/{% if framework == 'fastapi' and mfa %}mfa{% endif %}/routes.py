"""`/api/auth/mfa/...`: setup, enable and disable for signed-in users, and `verify`,
which completes a login that answered `{"mfa_required": true}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from ..auth.cookies import session_cookie_name, set_session_cookie
from ..auth.dependencies import AppSettings, CurrentAuth, Reauthenticated
from ..auth.routes import rotate_csrf
from ..auth.schemas import UserOut
from ..auth.sessions import Authenticated, SessionStore
from ..core.context import Context
from ..core.database import DbSession
from ..core.openapi import error_responses
from ..core.schemas import StrictJSONRoute
from ..security.errors import AppError
from .schemas import CodeIn, RecoveryCodesOut, SetupOut
from .service import Mfa

public_router = APIRouter(prefix="/auth/mfa", tags=["mfa"], route_class=StrictJSONRoute)
router = APIRouter(prefix="/auth/mfa", tags=["mfa"], route_class=StrictJSONRoute)


async def get_mfa(request: Request) -> Mfa:
    mfa: Mfa = request.app.state.mfa
    return mfa


def require_pending_login(request: Request, db: DbSession, settings: AppSettings) -> Authenticated:
    """The half-open session of a login that still owes its second factor."""
    store: SessionStore = request.app.state.sessions
    cookie = request.cookies.get(session_cookie_name(settings))
    pending = store.load(db, cookie, mfa_pending=True)
    if pending is None:
        raise AppError(401, "not_authenticated", "Sign in with your password first.")
    return pending


MfaService = Annotated[Mfa, Depends(get_mfa)]
PendingLogin = Annotated[Authenticated, Depends(require_pending_login)]


@public_router.post("/verify")
def verify(
    body: CodeIn,
    response: Response,
    pending: PendingLogin,
    db: DbSession,
    context: Context,
    mfa: MfaService,
    settings: AppSettings,
) -> UserOut:
    session_id = mfa.complete_login(db, context, pending, body.code)
    set_session_cookie(response, settings, session_id)
    rotate_csrf(response, settings)
    return UserOut.model_validate(pending.user)


@router.post("/setup", responses=error_responses(409))
def setup(auth: CurrentAuth, db: DbSession, context: Context, mfa: MfaService) -> SetupOut:
    secret, uri = mfa.setup(db, context, auth.user)
    return SetupOut(secret=secret, otpauth_uri=uri)


@router.post("/enable", responses=error_responses(409))
def enable(
    body: CodeIn, auth: CurrentAuth, db: DbSession, context: Context, mfa: MfaService
) -> RecoveryCodesOut:
    return RecoveryCodesOut(recovery_codes=mfa.enable(db, context, auth.user, body.code))


@router.post("/disable", status_code=status.HTTP_204_NO_CONTENT)
def disable(auth: Reauthenticated, db: DbSession, context: Context, mfa: MfaService) -> None:
    mfa.disable(db, context, auth.user)
