"""`/api/auth/mfa` routes (mounted at `/auth/mfa` by config/api.py): setup, enable and
disable for signed-in users, and `verify`, which completes a login that answered
`{"mfa_required": true}`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ..accounts.auth import reauthenticated_auth, request_user, session_auth
from ..accounts.schemas import UserOut
from ..core.errors import ApiError
from . import pending, services
from .schemas import CodeIn, RecoveryCodesOut, SetupOut

router = Router(tags=["mfa"], auth=session_auth)

# Besides the errors of every route (config/api.py): the state of the user's MFA.
CONFLICT: dict[str, Any] = {
    "responses": {"409": {"description": "MFA is already enabled, or setup was not started"}}
}


def not_pending() -> ApiError:
    return ApiError(401, "not_authenticated", "Sign in with your password first.")


class PendingLoginAuth:
    """ninja auth: the half-open login of the session, else 401 `not_authenticated`.

    As an auth it is checked before the body is read, like a session: without
    a half-open login every body gets the same 401. A signed-in session has none.
    """

    def __call__(self, request: HttpRequest) -> pending.PendingLogin:
        login = pending.load(request)
        if login is None:
            raise not_pending()
        return login


def pending_login(request: HttpRequest) -> pending.PendingLogin:
    """The half-open login `PendingLoginAuth` let in (ninja keeps it as `request.auth`)."""
    login = getattr(request, "auth", None)
    if not isinstance(login, pending.PendingLogin):
        raise not_pending()
    return login


@router.post("/verify", auth=PendingLoginAuth(), response=UserOut)
def verify(request: HttpRequest, body: CodeIn) -> UserOut:
    user = services.complete_login(request, pending_login(request), body.code)
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/setup", response=SetupOut, openapi_extra=CONFLICT)
def setup(request: HttpRequest) -> SetupOut:
    secret, uri = services.setup(request, request_user(request))
    return SetupOut(secret=secret, otpauth_uri=uri)


@router.post("/enable", response=RecoveryCodesOut, openapi_extra=CONFLICT)
def enable(request: HttpRequest, body: CodeIn) -> RecoveryCodesOut:
    codes = services.enable(request, request_user(request), body.code)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/disable", auth=reauthenticated_auth, response={204: None})
def disable(request: HttpRequest) -> Status[None]:
    services.disable(request, request_user(request))
    return Status(204, None)
