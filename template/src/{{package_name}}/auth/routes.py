"""`/api/auth` routes. `public_router` holds the few that work without a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status

from ..core.context import Context
from ..core.database import DbSession
from ..core.schemas import StrictJSONRoute
from ..mail.sender import Message, Sender
from ..security.csrf import issue_csrf_token
from .cookies import clear_session_cookie, set_csrf_cookie, set_session_cookie
from .dependencies import (
    AccountsService,
    AppSettings,
    CurrentAuth,
    MaybeAuthenticated,
    Reauthenticated,
)
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

# StrictJSONRoute: a body that repeats a key is refused, as on every other router (VAL-01).
public_router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictJSONRoute)
router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictJSONRoute)

NO_CONTENT = status.HTTP_204_NO_CONTENT
ACCEPTED = status.HTTP_202_ACCEPTED


class BackgroundPostbox:
    """Delivers email after the response is sent, so timing reveals nothing (AUTH-04)."""

    def __init__(self, request: Request, tasks: BackgroundTasks) -> None:
        self.sender: Sender = request.app.state.mailer
        self.tasks = tasks

    def post(self, message: Message) -> None:
        self.tasks.add_task(self.sender.send, message)


Postbox = Annotated[BackgroundPostbox, Depends(BackgroundPostbox)]


def rotate_csrf(response: Response, settings: AppSettings) -> None:
    """A new CSRF token with each new session, as Django does, so an old one cannot be replayed."""
    set_csrf_cookie(response, settings, issue_csrf_token(settings.secret_key.get_secret_value()))


@public_router.get("/csrf")
def csrf(response: Response, settings: AppSettings) -> CsrfOut:
    token = issue_csrf_token(settings.secret_key.get_secret_value())
    set_csrf_cookie(response, settings, token)
    return CsrfOut(csrf_token=token)


@public_router.post("/signup", status_code=ACCEPTED)
def signup(
    body: SignupIn,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    postbox: Postbox,
) -> DetailOut:
    detail = accounts.signup(db, context, postbox, body.email, body.password)
    return DetailOut(detail=detail)


@public_router.post("/verify-email", status_code=NO_CONTENT)
def verify_email(body: TokenIn, db: DbSession, context: Context, accounts: AccountsService) -> None:
    accounts.verify_email(db, context, body.token)


@public_router.post("/login")
def login(
    body: Credentials,
    response: Response,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    settings: AppSettings,
    current: MaybeAuthenticated,
) -> UserOut:
    user, session_id = accounts.login(db, context, body.email, body.password, current)
    set_session_cookie(response, settings, session_id)
    rotate_csrf(response, settings)
    return UserOut.model_validate(user)


@public_router.post("/password-reset/request", status_code=ACCEPTED)
def password_reset_request(
    body: EmailIn,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    postbox: Postbox,
) -> DetailOut:
    return DetailOut(detail=accounts.request_password_reset(db, context, postbox, body.email))


@public_router.post("/password-reset/confirm", status_code=NO_CONTENT)
def password_reset_confirm(
    body: ResetConfirmIn, db: DbSession, context: Context, accounts: AccountsService
) -> None:
    accounts.reset_password(db, context, body.token, body.new_password)


@router.post("/logout", status_code=NO_CONTENT)
def logout(
    response: Response,
    auth: CurrentAuth,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    settings: AppSettings,
) -> None:
    accounts.logout(db, context, auth)
    clear_session_cookie(response, settings)


@router.get("/me")
def me(auth: CurrentAuth) -> UserOut:
    return UserOut.model_validate(auth.user)


@router.post("/reauth", status_code=NO_CONTENT)
def reauth(
    body: ReauthIn,
    response: Response,
    auth: CurrentAuth,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    settings: AppSettings,
) -> None:
    session_id = accounts.reauthenticate(db, context, auth, body.password)
    set_session_cookie(response, settings, session_id)


@router.post("/password", status_code=NO_CONTENT)
def change_password(
    body: PasswordChangeIn,
    response: Response,
    auth: Reauthenticated,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    settings: AppSettings,
) -> None:
    session_id = accounts.change_password(
        db, context, auth, body.current_password, body.new_password
    )
    set_session_cookie(response, settings, session_id)
    rotate_csrf(response, settings)


@router.delete("/account", status_code=NO_CONTENT)
def delete_account(
    response: Response,
    auth: Reauthenticated,
    db: DbSession,
    context: Context,
    accounts: AccountsService,
    settings: AppSettings,
) -> None:
    accounts.delete_account(db, context, auth)
    clear_session_cookie(response, settings)
