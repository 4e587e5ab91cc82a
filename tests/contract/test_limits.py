"""API.md "Limits": rate limits shared by the server's processes, lockout, and body size.

The server runs 2 workers. Rate-limit tests open a new connection per
request (no keep-alive), so the requests of one client address spread over
both processes: the limit holds only if the counters are shared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from contract.client import (
    Account,
    Browser,
    assert_error,
    assert_no_leak,
    assert_rate_limited,
    new_email,
    new_ip,
    new_password,
    raw_request,
)
from contract.servers import HOST, Deployment

pytestmark = pytest.mark.contract

Make = Callable[..., Account]
NewBrowser = Callable[..., Browser]
MiB = 1024 * 1024


def wrong_login(client: Browser, email: str) -> httpx.Response:
    client.ensure_csrf()
    return client.post("/api/auth/login", {"email": email, "password": "Wrong-pass-123"})


# --- rate limits -------------------------------------------------------------------------------------


@pytest.mark.checklist("RATE-01", "RATE-02", "AUTH-05")
def test_the_eleventh_login_from_one_address_is_429_across_workers(
    deployment: Deployment, make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    client = new_browser(keep_alive=False)
    limit = deployment.limits.login_ip
    answers = [wrong_login(client, new_email()).status_code for _ in range(limit)]
    assert answers == [401] * limit
    assert_rate_limited(wrong_login(client, new_email()), 60)
    # The right password from that address is refused too: the limit comes first.
    assert_rate_limited(client.login(account), 60)
    # Another address has its own bucket.
    assert new_browser().login(account).status_code == 200


@pytest.mark.checklist("RATE-01", "RATE-02", "AUTH-05")
def test_logins_for_one_account_are_limited_whatever_the_address(
    deployment: Deployment, new_browser: NewBrowser
) -> None:
    email = new_email("target")  # unknown accounts are limited exactly like real ones
    limit = deployment.limits.login_account
    answers = [wrong_login(new_browser(keep_alive=False), email).status_code for _ in range(limit)]
    assert answers == [401] * limit
    assert_rate_limited(wrong_login(new_browser(), email), 60)
    assert wrong_login(new_browser(), new_email()).status_code == 401


@pytest.mark.checklist("RATE-01", "RATE-02")
def test_the_sixth_signup_from_one_address_in_an_hour_is_429(
    deployment: Deployment, new_browser: NewBrowser
) -> None:
    client = new_browser(keep_alive=False)
    client.csrf()
    limit = deployment.limits.signup_ip
    for _ in range(limit):
        response = client.signup(Account(new_email("burst"), new_password()))
        assert response.status_code == 202, response.text
    assert_rate_limited(client.signup(Account(new_email("burst"), new_password())), 3600)
    assert new_browser().signup(Account(new_email("burst"), new_password())).status_code == 202


@pytest.mark.checklist("RATE-01", "RATE-02", "AUTH-09")
def test_password_reset_requests_are_limited_per_email(
    deployment: Deployment, make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    limit = deployment.limits.reset_email
    for _ in range(limit):
        client = new_browser(keep_alive=False)
        client.csrf()
        response = client.post("/api/auth/password-reset/request", {"email": account.email})
        assert response.status_code == 202, response.text
    client = new_browser()
    client.csrf()
    limited = client.post("/api/auth/password-reset/request", {"email": account.email})
    assert_rate_limited(limited, 3600)
    # An unknown email reaches its limit the same way: a 429 reveals nothing.
    unknown = new_email()
    for _ in range(limit):
        other = new_browser()
        other.csrf()
        assert other.post("/api/auth/password-reset/request", {"email": unknown}).status_code == 202
    other = new_browser()
    other.csrf()
    assert_rate_limited(other.post("/api/auth/password-reset/request", {"email": unknown}), 3600)


@pytest.mark.checklist("RATE-01", "RATE-02")
def test_every_other_route_is_limited_to_300_a_minute_per_address(
    deployment: Deployment, new_browser: NewBrowser
) -> None:
    client = new_browser()
    limit = deployment.limits.default
    statuses = [client.get("/api/auth/csrf").status_code for _ in range(limit)]
    assert statuses == [200] * limit
    assert_rate_limited(client.get("/api/auth/csrf"), 60)
    assert new_browser().get("/api/auth/csrf").status_code == 200


@pytest.mark.checklist("RATE-02", "AUTH-02")
def test_counters_and_sessions_survive_a_restart(
    deployment: Deployment,
    make_account: Make,
    sign_in: Callable[..., Browser],
    new_browser: NewBrowser,
    restart_server: Callable[..., None],
) -> None:
    """Counters live in the database (or Redis), not in a process: a restart forgets nothing."""
    member = sign_in(make_account())
    client = new_browser(keep_alive=False)
    client.csrf()
    for _ in range(deployment.limits.signup_ip):
        assert client.signup(Account(new_email("restart"), new_password())).status_code == 202
    restart_server()  # closes every open connection first, then restarts
    assert_rate_limited(client.signup(Account(new_email("restart"), new_password())), 3600)
    assert member.me().status_code == 200


# --- lockout -------------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTH-05", "AUTH-04")
def test_ten_failures_lock_the_account_and_the_right_password_gets_the_generic_401(
    deployment: Deployment, make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    for _ in range(deployment.limits.lockout_failures):
        assert wrong_login(new_browser(), account.email).status_code == 401
    headers = {"X-Request-ID": "lockout-probe"}
    locked = new_browser()
    locked.ensure_csrf()
    answer = locked.post(
        "/api/auth/login", {"email": account.email, "password": account.password}, headers=headers
    )
    assert_error(answer, 401, "invalid_credentials")
    assert "__Host-session" not in locked.cookies
    # A lock tells nothing: the answer is byte for byte that of an unknown account.
    unknown = new_browser()
    unknown.ensure_csrf()
    probe = unknown.post(
        "/api/auth/login", {"email": new_email(), "password": account.password}, headers=headers
    )
    assert probe.status_code == answer.status_code and probe.content == answer.content


@pytest.mark.checklist("AUTH-05")
def test_a_successful_login_resets_the_failure_count(
    deployment: Deployment, make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    threshold = deployment.limits.lockout_failures
    for _ in range(threshold - 1):
        assert wrong_login(new_browser(), account.email).status_code == 401
    assert new_browser().login(account).status_code == 200
    assert wrong_login(new_browser(), account.email).status_code == 401
    # Without the reset this would be failure number `threshold` + 1: locked.
    assert new_browser().login(account).status_code == 200


# --- body limits ------------------------------------------------------------------------------------------


def json_head(
    path: str, length: int | None, cookie: str = "", csrf: str = "", ip: str = ""
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}",
        "Content-Type: application/json",
        f"X-Forwarded-For: {ip or new_ip()}",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    else:
        lines.append("Transfer-Encoding: chunked")
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if csrf:
        lines.append(f"X-CSRFToken: {csrf}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def big_note(size: int) -> bytes:
    prefix = b'{"title": "big", "body": "'
    return prefix + b"x" * (size - len(prefix) - 2) + b'"}'


def cookie_header(client: Browser) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


@pytest.mark.checklist("VAL-04")
def test_two_mib_with_a_truthful_content_length_is_413(user: Browser) -> None:
    for path in ("/api/notes", "/api/auth/login", "/api/auth/signup", "/api/missing"):
        response = user.request(
            "POST", path, content=big_note(2 * MiB), headers={"Content-Type": "application/json"}
        )
        assert response.request.headers["content-length"] == str(2 * MiB)
        assert_error(response, 413, "payload_too_large")
    assert user.get("/api/notes").json()["items"] == []


@pytest.mark.checklist("VAL-04")
def test_an_oversized_declared_length_is_refused_before_the_body_is_sent(
    deployment: Deployment, user: Browser
) -> None:
    """Only the headers go out: the answer must come without waiting for the 2 MiB."""
    started = time.monotonic()
    response = raw_request(
        deployment.base_url,
        deployment.tls(),
        json_head("/api/notes", 2 * MiB, cookie_header(user), user.cookies["csrftoken"], user.ip),
        timeout=10,
        path="/api/notes",
    )
    assert_error(response, 413, "payload_too_large")
    assert time.monotonic() - started < 10


@pytest.mark.checklist("VAL-04", "ERR-01")
def test_a_false_small_content_length_does_not_smuggle_a_big_body(
    deployment: Deployment, user: Browser
) -> None:
    """The server reads only the declared 20 bytes: a broken JSON start, refused, no note.

    The rest of the body is garbage where the next request should start. The
    first answer is the application's 4xx envelope, or, when the HTTP layer
    reads the garbage first, its own bare 400 that closes the connection; a
    protocol error below the application cannot carry the envelope, but it
    must not leak anything or name the stack either.
    """
    body = big_note(2 * MiB)
    response = raw_request(
        deployment.base_url,
        deployment.tls(),
        json_head("/api/notes", 20, cookie_header(user), user.cookies["csrftoken"], user.ip),
        [body[i : i + 65536] for i in range(0, len(body), 65536)],
        path="/api/notes",
    )
    if response.headers.get("content-type", "").startswith("application/json"):
        assert_error(response, {400, 413, 422})
    else:
        assert response.status_code == 400, response.text
        assert_no_leak(response.text)
        assert "server" not in response.headers
    assert user.get("/api/notes").json()["items"] == []
    assert user.get("/api/health").status_code == 200


@pytest.mark.checklist("VAL-04")
def test_a_chunked_body_without_length_is_cut_at_1_mib(user: Browser) -> None:
    def stream() -> Iterator[bytes]:
        body = big_note(2 * MiB)
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    response = user.request(
        "POST", "/api/notes", content=stream(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert user.get("/api/notes").json()["items"] == []


@pytest.mark.checklist("VAL-04")
def test_a_raw_chunked_body_is_cut_at_1_mib(deployment: Deployment, user: Browser) -> None:
    body = big_note(2 * MiB)
    chunks = [
        f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for part in (body[i : i + 65536] for i in range(0, len(body), 65536))
    ]
    response = raw_request(
        deployment.base_url,
        deployment.tls(),
        json_head("/api/notes", None, cookie_header(user), user.cookies["csrftoken"], user.ip),
        [*chunks, b"0\r\n\r\n"],
        path="/api/notes",
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.checklist("VAL-04", "VAL-01")
def test_a_body_under_1_mib_is_parsed_and_validated(user: Browser) -> None:
    response = user.request(
        "POST",
        "/api/notes",
        content=big_note(MiB - 1024),
        headers={"Content-Type": "application/json"},
    )
    error = assert_error(response, 422, "validation_error")
    assert any(d["field"].endswith("body") for d in error["details"])
    ok = user.post("/api/notes", {"title": "max", "body": "x" * 20000})
    assert ok.status_code == 201, ok.text
    assert len(ok.json()["body"]) == 20000
    assert json.loads(ok.text)["title"] == "max"
