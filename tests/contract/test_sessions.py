"""API.md "Sessions, cookies and CSRF": the cookie, rotation and server-side invalidation."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from combinations import ContractTarget
from contract.client import (
    SESSION_COOKIE,
    Account,
    Browser,
    assert_error,
    assert_user,
    new_password,
    set_cookies,
    token_from,
)
from contract.servers import Deployment

pytestmark = pytest.mark.contract

Make = Callable[..., Account]
SignIn = Callable[..., Browser]


def assert_dead(client: Browser, session_id: str) -> None:
    """The session id no longer works anywhere (read and write)."""
    cookies = {**client.cookies, SESSION_COOKIE: session_id}
    assert_error(
        client.get("/api/auth/me", cookies=cookies, absorb=False), 401, "not_authenticated"
    )
    assert_error(client.get("/api/notes", cookies=cookies, absorb=False), 401, "not_authenticated")
    assert_error(
        client.post("/api/notes", {"title": "x"}, cookies=cookies, absorb=False),
        401,
        "not_authenticated",
    )


def assert_alive(client: Browser) -> None:
    response = client.me()
    assert response.status_code == 200, response.text


# --- the cookie --------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTH-01", "DATA-02")
def test_session_cookie_is_host_prefixed_secure_httponly_lax_root(
    make_account: Make, new_browser: Callable[..., Browser]
) -> None:
    account = make_account()
    client = new_browser()
    response = client.login(account)
    assert response.status_code == 200, response.text
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert cookie.has("secure"), cookie.raw
    assert cookie.has("httponly"), cookie.raw
    assert (cookie.get("samesite") or "").lower() == "lax", cookie.raw
    assert cookie.get("path") == "/", cookie.raw
    assert not cookie.has("domain"), f"__Host- cookies carry no Domain: {cookie.raw}"
    max_age = cookie.get("max-age")
    if max_age is not None:  # the absolute lifetime is 12 hours unless configured shorter
        assert 0 < int(max_age) <= 12 * 3600, cookie.raw
    assert "session" not in set_cookies(response), "the development cookie name in production"


@pytest.mark.checklist("AUTH-01")
def test_session_id_is_opaque_and_at_least_128_bits(make_account: Make, sign_in: SignIn) -> None:
    account = make_account()
    ids = {sign_in(account).session for _ in range(3)}
    assert len(ids) == 3
    for session_id in ids:
        assert session_id is not None
        assert re.fullmatch(r"[A-Za-z0-9_\-.~+/=%]+", session_id), session_id
        # 22 base64 characters carry 132 bits; 32 hex characters carry 128.
        assert len(session_id) >= 22, session_id
        assert account.email.split("@")[0] not in session_id


@pytest.mark.checklist("AUTH-01", "INJ-02")
def test_no_token_in_any_auth_response_body(
    make_account: Make, new_browser: Callable[..., Browser]
) -> None:
    account = make_account()
    client = new_browser()
    login = client.login(account)
    assert_user(login.json(), account.email)
    session_id = client.session
    assert session_id and session_id not in login.text
    me = client.me()
    assert_user(me.json(), account.email)
    assert session_id not in me.text
    reauth = client.reauth(account.password)
    assert reauth.status_code == 204 and reauth.content == b""


# --- rotation -------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTH-02")
def test_login_rotates_the_session_and_kills_the_previous_one(
    make_account: Make, sign_in: SignIn
) -> None:
    account = make_account()
    client = sign_in(account)
    before = client.session
    assert before
    again = client.login(account)  # the browser still sends its current session
    assert again.status_code == 200
    after = client.session
    assert after and after != before
    assert_alive(client)
    assert_dead(client, before)


@pytest.mark.checklist("AUTH-02", "AUTH-01")
def test_login_never_adopts_a_session_id_chosen_by_the_client(
    make_account: Make, new_browser: Callable[..., Browser]
) -> None:
    """Session fixation: an id planted before login is not the id after it."""
    account = make_account()
    client = new_browser()
    planted = secrets.token_urlsafe(32)
    client.cookies[SESSION_COOKIE] = planted
    response = client.login(account)
    assert response.status_code == 200
    assert client.session != planted
    assert_dead(client, planted)


@pytest.mark.checklist("AUTH-02", "AUTH-07")
def test_reauth_rotates_the_session(make_account: Make, sign_in: SignIn) -> None:
    account = make_account()
    client = sign_in(account)
    before = client.session
    assert before
    response = client.reauth(account.password)
    assert response.status_code == 204, response.text
    assert set_cookies(response)[SESSION_COOKIE].value == client.session
    assert client.session != before
    assert_alive(client)
    assert_dead(client, before)


@pytest.mark.checklist("AUTH-07", "AUTH-04")
def test_reauth_with_a_wrong_password_is_refused_and_keeps_the_session(
    make_account: Make, sign_in: SignIn
) -> None:
    account = make_account()
    client = sign_in(account)
    before = client.session
    response = client.reauth("wrong-" + new_password())
    assert_error(response, {401, 403})
    assert client.session == before
    assert_alive(client)
    # Still not re-authenticated: a guarded action stays refused.
    assert_error(
        client.post(
            "/api/auth/password",
            {"current_password": account.password, "new_password": new_password()},
        ),
        403,
        "reauth_required",
    )


# --- server-side invalidation -----------------------------------------------------------------------


@pytest.mark.checklist("AUTH-02")
def test_logout_destroys_the_session_server_side(make_account: Make, sign_in: SignIn) -> None:
    client = sign_in(make_account())
    session_id = client.session
    assert session_id
    response = client.post("/api/auth/logout")
    assert response.status_code == 204, response.text
    assert response.content == b""
    cleared = set_cookies(response).get(SESSION_COOKIE)
    assert cleared is not None and cleared.deletes, "logout must clear the cookie"
    assert client.session is None
    assert_dead(client, session_id)


@pytest.mark.checklist("AUTH-07")
def test_password_change_needs_reauth(make_account: Make, sign_in: SignIn) -> None:
    account = make_account()
    client = sign_in(account)
    response = client.post(
        "/api/auth/password", {"current_password": account.password, "new_password": new_password()}
    )
    assert_error(response, 403, "reauth_required")
    # Nothing changed: the old password still signs in.
    assert sign_in(account).session


@pytest.mark.checklist("AUTH-02", "AUTH-07")
def test_password_change_ends_every_other_session_and_the_old_cookie(
    make_account: Make, sign_in: SignIn
) -> None:
    account = make_account()
    client = sign_in(account)
    other_device = sign_in(account)
    other_id = other_device.session
    assert client.reauth(account.password).status_code == 204
    before = client.session
    assert before and other_id
    new = new_password()
    response = client.post(
        "/api/auth/password", {"current_password": account.password, "new_password": new}
    )
    assert response.status_code == 204, response.text
    assert client.session and client.session != before
    assert_alive(client)
    assert_dead(client, before)
    assert_dead(client, other_id)
    old = client.fork(cookies={})
    assert_error(old.login(account), 401, "invalid_credentials")
    account.password = new
    assert client.fork(cookies={}).login(account).status_code == 200


@pytest.mark.checklist("AUTH-09", "AUTH-02")
def test_password_reset_ends_every_session_and_its_link_is_single_use(
    deployment: Deployment, make_account: Make, sign_in: SignIn, new_browser: Callable[..., Browser]
) -> None:
    account = make_account()
    victim_session = sign_in(account)
    old_id = victim_session.session
    assert old_id
    requester = new_browser()
    requester.csrf()
    response = requester.post("/api/auth/password-reset/request", {"email": account.email})
    assert response.status_code == 202, response.text
    message = deployment.mail.wait_for(account.email, count=2)[-1]  # after the verification mail
    token = token_from(message.body)
    new = new_password()
    confirm = requester.post(
        "/api/auth/password-reset/confirm", {"token": token, "new_password": new}
    )
    assert confirm.status_code == 204, confirm.text
    assert_dead(victim_session, old_id)
    again = requester.post(
        "/api/auth/password-reset/confirm", {"token": token, "new_password": new_password()}
    )
    assert_error(again, {400, 404, 410, 422})
    assert_error(requester.login(account), 401, "invalid_credentials")
    account.password = new
    assert sign_in(account).session


@pytest.mark.checklist("AUTH-02", "AUTHZ-02", "AUTH-07")
def test_role_change_ends_that_users_sessions(
    admin: Browser,
    deployment: Deployment,
    target: ContractTarget,
    make_account: Make,
    sign_in: SignIn,
) -> None:
    account = make_account()
    member = sign_in(account)
    old_id = member.session
    assert old_id and account.id
    path = f"/api/admin/users/{account.id}/role"
    if admin.reauth(deployment.admin_password).status_code != 204:
        pytest.fail("the administrator could not re-authenticate")
    changed = admin.patch(path, {"role": "admin"})
    assert changed.status_code == 200, changed.text
    assert_user(changed.json(), account.email)
    assert changed.json()["role"] == "admin"
    assert_dead(member, old_id)
    promoted = sign_in(account)
    assert promoted.me().json()["role"] == "admin"
    if target.admin_mfa:  # past the role check, admin routes wait for MFA (test_mfa.py)
        assert_error(promoted.get("/api/admin/users"), 403, "mfa_required")
    else:
        assert promoted.get("/api/admin/users").status_code == 200
    back = admin.patch(path, {"role": "user"})
    assert back.status_code == 200, back.text
    assert_dead(promoted, promoted.session or "")


@pytest.mark.checklist("AUTH-07", "AUTHZ-02")
def test_role_change_needs_reauth(admin: Browser, make_account: Make, sign_in: SignIn) -> None:
    """A fresh admin session that did not re-authenticate is refused."""
    fresh_admin = sign_in(admin.me_account)  # password, and the second factor when enrolled
    account = make_account()
    sign_in(account)
    response = fresh_admin.patch(f"/api/admin/users/{account.id}/role", {"role": "admin"})
    assert_error(response, 403, "reauth_required")
    assert_error(fresh_admin.delete(f"/api/admin/users/{account.id}"), 403, "reauth_required")
    assert sign_in(account).me().json()["role"] == "user"


@pytest.mark.checklist("AUTH-07", "AUTH-02")
def test_account_deletion_needs_reauth_and_ends_the_session(
    make_account: Make, sign_in: SignIn
) -> None:
    account = make_account()
    client = sign_in(account)
    assert_error(client.delete("/api/auth/account"), 403, "reauth_required")
    assert_alive(client)
    assert client.reauth(account.password).status_code == 204
    session_id = client.session
    assert session_id
    response = client.delete("/api/auth/account")
    assert response.status_code == 204, response.text
    assert_dead(client, session_id)
    assert_error(client.fork(cookies={}).login(account), 401, "invalid_credentials")


# --- forged, stale and foreign session ids -------------------------------------------------------


@pytest.mark.checklist("AUTH-01", "AUTH-02")
@pytest.mark.parametrize(
    "value",
    [
        secrets.token_urlsafe(32),
        "0" * 43,
        "x" * 4000,
        "eyJhbGciOiJub25lIn0.eyJ1c2VyIjoiYWRtaW4iLCJyb2xlIjoiYWRtaW4ifQ.",
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "%00%ff%fe",
        "' OR '1'='1",
        "..%2f..%2fetc%2fpasswd",
    ],
    ids=["random", "zeros", "huge", "jwt-none", "django-like", "bytes", "sql", "traversal"],
)
def test_a_forged_session_cookie_is_401(browser: Browser, value: str) -> None:
    cookies = {**browser.cookies, SESSION_COOKIE: value}
    assert_error(browser.get("/api/auth/me", cookies=cookies), 401, "not_authenticated")
    assert_error(
        browser.post("/api/notes", {"title": "x"}, cookies=cookies), 401, "not_authenticated"
    )


@pytest.mark.checklist("AUTH-01", "DATA-02")
def test_the_development_cookie_name_is_not_honoured_in_production(user: Browser) -> None:
    session_id = user.session
    assert session_id
    cookies = {"session": session_id, "csrftoken": user.cookies["csrftoken"]}
    assert_error(user.get("/api/auth/me", cookies=cookies, absorb=False), 401)


@pytest.mark.checklist("AUTH-02")
def test_a_stale_session_id_stays_dead_after_a_new_login(
    make_account: Make, sign_in: SignIn
) -> None:
    account = make_account()
    first = sign_in(account)
    stale = first.session
    assert stale
    assert first.post("/api/auth/logout").status_code == 204
    sign_in(account)  # a new session for the same user does not revive the old id
    assert_dead(first, stale)
