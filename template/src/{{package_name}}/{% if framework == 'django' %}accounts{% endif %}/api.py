"""`/api/auth` routes (mounted at `/auth` by config/api.py). Thin: schemas in, services do.

Every route needs a session (`session_auth`) unless it says `auth=None`:
those are exactly API.md's public auth routes.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Router, Status

from . import services
from .auth import reauthenticated_auth, request_user, session_auth
from .schemas import (
    Credentials,
    CsrfOut,
    DetailOut,
    EmailIn,
    PasswordChangeIn,
    ReauthIn,
    ResetConfirmIn,
    SignupIn,
    TokenIn,
    UserOut,
)

router = Router(tags=["auth"], auth=session_auth)

NoContent = Status[None]


@router.get("/csrf", auth=None, response=CsrfOut)
def csrf(request: HttpRequest) -> CsrfOut:
    """Sets the readable `csrftoken` cookie and returns the same value (AUTH-08)."""
    get_token(request)  # makes sure a secret exists and the cookie is (re)sent
    return CsrfOut(csrf_token=str(request.META["CSRF_COOKIE"]))


@router.post("/signup", auth=None, response={202: DetailOut})
def signup(request: HttpRequest, body: SignupIn) -> Status[DetailOut]:
    return Status(202, DetailOut(detail=services.signup(request, body.email, body.password)))


@router.post("/verify-email", auth=None, response={204: None})
def verify_email(request: HttpRequest, body: TokenIn) -> NoContent:
    services.verify_email(request, body.token)
    return Status(204, None)


@router.post("/login", auth=None, response=UserOut)
def login(request: HttpRequest, body: Credentials) -> UserOut:
    user = services.login(request, body.email, body.password)
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/password-reset/request", auth=None, response={202: DetailOut})
def password_reset_request(request: HttpRequest, body: EmailIn) -> Status[DetailOut]:
    return Status(202, DetailOut(detail=services.request_password_reset(request, body.email)))


@router.post("/password-reset/confirm", auth=None, response={204: None})
def password_reset_confirm(request: HttpRequest, body: ResetConfirmIn) -> NoContent:
    services.reset_password(request, body.token, body.new_password)
    return Status(204, None)


@router.post("/logout", response={204: None})
def logout(request: HttpRequest) -> NoContent:
    services.logout(request, request_user(request))
    return Status(204, None)


@router.get("/me", response=UserOut)
def me(request: HttpRequest) -> UserOut:
    return UserOut.model_validate(request_user(request), from_attributes=True)


@router.post("/reauth", response={204: None})
def reauth(request: HttpRequest, body: ReauthIn) -> NoContent:
    services.reauthenticate(request, request_user(request), body.password)
    return Status(204, None)


@router.post("/password", auth=reauthenticated_auth, response={204: None})
def change_password(request: HttpRequest, body: PasswordChangeIn) -> NoContent:
    services.change_password(
        request, request_user(request), body.current_password, body.new_password
    )
    return Status(204, None)


@router.delete("/account", auth=reauthenticated_auth, response={204: None})
def delete_account(request: HttpRequest) -> NoContent:
    services.delete_account(request, request_user(request))
    return Status(204, None)
