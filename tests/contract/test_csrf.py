"""API.md CSRF: state-changing requests with the session cookie need X-CSRFToken == csrftoken.

Every refusal is 403 `csrf_failed`, and the refused request changed nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from contract.client import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    Account,
    Browser,
    assert_error,
    new_email,
    new_password,
    set_cookies,
)

pytestmark = pytest.mark.contract


def attempts(client: Browser) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(label, cookies, headers) of requests whose CSRF proof is missing or wrong."""
    token = client.cookies[CSRF_COOKIE]
    other = client.fork(cookies={})
    foreign = other.csrf()  # a genuine token, issued to another client
    other.close()
    without_csrf_cookie = {k: v for k, v in client.cookies.items() if k != CSRF_COOKIE}
    other_first = "y" if token.startswith("x") else "x"
    return [
        ("no header", dict(client.cookies), {}),
        ("wrong header", dict(client.cookies), {CSRF_HEADER: secrets.token_urlsafe(32)}),
        ("empty header", dict(client.cookies), {CSRF_HEADER: ""}),
        ("header without cookie", without_csrf_cookie, {CSRF_HEADER: token}),
        ("header of a truncated token", dict(client.cookies), {CSRF_HEADER: token[:-2]}),
        # Another first character (never the same one: that would be the token itself).
        ("a modified token", dict(client.cookies), {CSRF_HEADER: other_first + token[1:]}),
        ("another client's token", dict(client.cookies), {CSRF_HEADER: foreign}),
    ]


def send(
    client: Browser,
    method: str,
    path: str,
    body: Any,
    cookies: dict[str, str],
    headers: dict[str, str],
) -> Any:
    return client.request(
        method, path, json_body=body, cookies=cookies, headers=headers, csrf=False, absorb=False
    )


@pytest.mark.checklist("AUTH-08")
def test_csrf_route_sets_the_cookie_and_returns_the_same_token(browser: Browser) -> None:
    response = browser.get("/api/auth/csrf")
    assert response.status_code == 200
    assert set(response.json()) == {"csrf_token"}
    assert browser.cookies[CSRF_COOKIE] == response.json()["csrf_token"]
    assert len(response.json()["csrf_token"]) >= 16


@pytest.mark.checklist("AUTH-08")
def test_note_writes_without_a_valid_csrf_token_are_refused_and_change_nothing(
    user: Browser,
) -> None:
    note = user.create_note("keep", "<p>keep</p>")
    path = f"/api/notes/{note['id']}"
    for label, cookies, headers in attempts(user):
        assert_error(
            send(user, "POST", "/api/notes", {"title": label}, cookies, headers), 403, "csrf_failed"
        )
        assert_error(
            send(user, "PATCH", path, {"title": "changed"}, cookies, headers), 403, "csrf_failed"
        )
        assert_error(send(user, "DELETE", path, None, cookies, headers), 403, "csrf_failed")
    assert user.get(path).json() == note
    assert [n["id"] for n in user.get("/api/notes").json()["items"]] == [note["id"]]


@pytest.mark.checklist("AUTH-08", "AUTH-02")
def test_logout_without_csrf_is_refused_and_the_session_survives(user: Browser) -> None:
    for _label, cookies, headers in attempts(user):
        assert_error(
            send(user, "POST", "/api/auth/logout", None, cookies, headers), 403, "csrf_failed"
        )
    assert user.me().status_code == 200


@pytest.mark.checklist("AUTH-08", "AUTH-07")
def test_reauth_and_account_deletion_without_csrf_are_refused(user: Browser) -> None:
    account = user.me_account
    for _label, cookies, headers in attempts(user):
        assert_error(
            send(
                user, "POST", "/api/auth/reauth", {"password": account.password}, cookies, headers
            ),
            403,
            "csrf_failed",
        )
        assert_error(
            send(user, "DELETE", "/api/auth/account", None, cookies, headers), 403, "csrf_failed"
        )
    assert user.me().status_code == 200


@pytest.mark.checklist("AUTH-08")
def test_login_needs_csrf(
    make_account: Callable[..., Account], new_browser: Callable[..., Browser]
) -> None:
    """Login CSRF: a page on another site must not sign the browser in as the attacker."""
    account = make_account()
    client = new_browser()
    client.csrf()
    body = {"email": account.email, "password": account.password}
    for label, cookies, headers in attempts(client):
        response = send(client, "POST", "/api/auth/login", body, cookies, headers)
        assert_error(response, 403, "csrf_failed")
        assert SESSION_COOKIE not in set_cookies(response), label
    assert client.login(account).status_code == 200


@pytest.mark.checklist("AUTH-08")
def test_signup_needs_csrf(new_browser: Callable[..., Browser]) -> None:
    client = new_browser()
    client.csrf()
    email = new_email()
    body = {"email": email, "password": new_password()}
    for _label, cookies, headers in attempts(client):
        assert_error(
            send(client, "POST", "/api/auth/signup", body, cookies, headers), 403, "csrf_failed"
        )


@pytest.mark.checklist("AUTH-08", "AUTHZ-02")
def test_admin_writes_without_csrf_are_refused(
    admin: Browser, make_account: Callable[..., Account], sign_in: Callable[..., Browser]
) -> None:
    account = make_account()
    sign_in(account)
    for _label, cookies, headers in attempts(admin):
        assert_error(
            send(
                admin,
                "PATCH",
                f"/api/admin/users/{account.id}/role",
                {"role": "admin"},
                cookies,
                headers,
            ),
            403,
            "csrf_failed",
        )
        assert_error(
            send(admin, "DELETE", f"/api/admin/users/{account.id}", None, cookies, headers),
            403,
            "csrf_failed",
        )
    assert sign_in(account).me().json()["role"] == "user"


@pytest.mark.checklist("AUTH-08")
def test_safe_methods_need_no_csrf_token(user: Browser) -> None:
    cookies = {k: v for k, v in user.cookies.items() if k != CSRF_COOKIE}
    assert user.get("/api/auth/me", cookies=cookies).status_code == 200
    assert user.get("/api/notes", cookies=cookies).status_code == 200
