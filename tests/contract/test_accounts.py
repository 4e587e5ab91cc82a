"""API.md auth routes: enumeration resistance, passwords, email verification and reset tokens."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import httpx
import pytest

from contract.client import (
    Account,
    Browser,
    assert_error,
    assert_user,
    new_email,
    new_password,
    token_from,
)
from contract.servers import Deployment

pytestmark = pytest.mark.contract

Make = Callable[..., Account]
NewBrowser = Callable[..., Browser]

# Headers that may differ between two otherwise identical answers.
VOLATILE_HEADERS = {"date"}


def same_answer(first: httpx.Response, second: httpx.Response) -> None:
    """Status, body bytes and headers equal (but the date): nothing tells the two apart."""
    assert first.status_code == second.status_code, (first.text, second.text)
    assert first.content == second.content, (first.text, second.text)
    one = {(k, v) for k, v in first.headers.multi_items() if k not in VOLATILE_HEADERS}
    two = {(k, v) for k, v in second.headers.multi_items() if k not in VOLATILE_HEADERS}
    assert one == two, one ^ two


def post_from_two_browsers(
    new_browser: NewBrowser,
    path: str,
    bodies: tuple[dict[str, str], dict[str, str]],
    request_id: str,
) -> tuple[httpx.Response, httpx.Response]:
    """The same request from two fresh browsers, one body each, under one X-Request-ID."""
    headers = {"X-Request-ID": request_id}
    answers = []
    for body in bodies:
        browser = new_browser()
        browser.csrf()
        answers.append(browser.post(path, body, headers=headers))
    return answers[0], answers[1]


# --- enumeration -------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTH-04")
def test_login_answers_a_wrong_password_and_an_unknown_email_identically(
    make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    headers = {"X-Request-ID": "enumeration-login"}
    known = new_browser()
    unknown = new_browser()
    wrong = known.login(Account(account.email, "wrong-" + new_password()))
    known_answer = known.post(
        "/api/auth/login", {"email": account.email, "password": "Wrong-pass-123"}, headers=headers
    )
    unknown.ensure_csrf()
    unknown_answer = unknown.post(
        "/api/auth/login", {"email": new_email(), "password": "Wrong-pass-123"}, headers=headers
    )
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(known_answer, 401, "invalid_credentials")
    same_answer(known_answer, unknown_answer)


@pytest.mark.checklist("AUTH-04")
def test_login_takes_similar_time_for_known_and_unknown_emails(
    make_account: Make, new_browser: NewBrowser
) -> None:
    """Unknown emails are checked against a dummy hash: no fast path tells them apart."""
    account = make_account()

    def timed(email: str) -> float:
        client = new_browser()
        client.csrf()
        started = time.perf_counter()
        response = client.post("/api/auth/login", {"email": email, "password": "Wrong-pass-123"})
        elapsed = time.perf_counter() - started
        assert response.status_code == 401
        return elapsed

    known = statistics.median(timed(account.email) for _ in range(5))
    unknown = statistics.median(timed(new_email()) for _ in range(5))
    ratio = unknown / known
    assert 0.2 < ratio < 5, f"known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms"


@pytest.mark.checklist("AUTH-04")
def test_signup_answers_an_existing_and_a_new_email_identically(
    make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    existing, fresh = post_from_two_browsers(
        new_browser,
        "/api/auth/signup",
        (
            {"email": account.email, "password": new_password()},
            {"email": new_email(), "password": new_password()},
        ),
        "enumeration-signup",
    )
    assert existing.status_code == 202, existing.text
    assert set(existing.json()) == {"detail"}
    same_answer(existing, fresh)


@pytest.mark.checklist("AUTH-04")
def test_existing_email_signup_does_not_change_the_account(
    deployment: Deployment,
    make_account: Make,
    new_browser: NewBrowser,
    sign_in: Callable[..., Browser],
) -> None:
    account = make_account()
    client = new_browser()
    assert client.signup(Account(account.email, new_password())).status_code == 202
    assert sign_in(account).me().json()["email_verified"] is True


@pytest.mark.checklist("AUTH-04", "AUTH-09")
def test_password_reset_request_answers_known_and_unknown_emails_identically(
    deployment: Deployment, make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    known, unknown = post_from_two_browsers(
        new_browser,
        "/api/auth/password-reset/request",
        ({"email": account.email}, {"email": new_email()}),
        "enumeration-reset",
    )
    assert known.status_code == 202, known.text
    same_answer(known, unknown)
    # Only the real account gets a message.
    deployment.mail.wait_for(account.email, count=2)


# --- passwords ---------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTH-03", "VAL-01")
@pytest.mark.parametrize(
    "password",
    ["a" * 11, "b" * 129, "qwerty123456", "Q1W2E3R4T5Y6", "{local}-is-my-pass"],
    ids=["11-chars", "129-chars", "common", "common-any-case", "contains-local-part"],
)
def test_signup_refuses_a_weak_password_with_a_safe_422(
    password: str, new_browser: NewBrowser
) -> None:
    client = new_browser()
    client.csrf()
    email = new_email("policy")
    password = password.replace("{local}", email.split("@")[0])
    response = client.post("/api/auth/signup", {"email": email, "password": password})
    error = assert_error(response, 422, "validation_error")
    assert password not in response.text
    assert error["details"]
    assert_error(client.login(Account(email, password)), 401, "invalid_credentials")


@pytest.mark.checklist("AUTH-03")
@pytest.mark.parametrize("length", [12, 128])
def test_signup_accepts_passwords_of_12_to_128_characters(
    length: int, new_browser: NewBrowser
) -> None:
    client = new_browser()
    client.csrf()
    account = Account(new_email("length"), ("Zx9-" + new_password() * 8)[:length])
    assert client.signup(account).status_code == 202
    assert client.login(account).status_code == 200


@pytest.mark.checklist("AUTH-03", "AUTH-04")
def test_login_with_a_wrong_password_is_the_generic_401(
    make_account: Make, new_browser: NewBrowser
) -> None:
    account = make_account()
    client = new_browser()
    error = assert_error(
        client.login(Account(account.email, account.password + "x")), 401, "invalid_credentials"
    )
    assert "password" in error["message"].lower() or "credential" in error["message"].lower()
    assert "__Host-session" not in client.cookies


@pytest.mark.checklist("AUTH-03")
def test_emails_are_matched_case_insensitively(make_account: Make, new_browser: NewBrowser) -> None:
    account = make_account()
    client = new_browser()
    response = client.login(Account(account.email.upper(), account.password))
    assert response.status_code == 200, response.text
    assert_user(response.json(), account.email)


# --- email verification and reset tokens ------------------------------------------------------------------


@pytest.mark.checklist("AUTH-09")
def test_signup_sends_a_single_use_verification_link(
    deployment: Deployment, new_browser: NewBrowser, sign_in: Callable[..., Browser]
) -> None:
    account = Account(new_email("verify"), new_password())
    client = new_browser()
    assert client.signup(account).status_code == 202
    member = sign_in(account)
    assert member.me().json()["email_verified"] is False
    (message,) = deployment.mail.wait_for(account.email)
    assert deployment.mail.plaintext_deliveries == 0, "mail must go out over STARTTLS"
    token = token_from(message.body)
    assert client.post("/api/auth/verify-email", {"token": token}).status_code == 204
    assert member.me().json()["email_verified"] is True
    assert_error(client.post("/api/auth/verify-email", {"token": token}), {400, 404, 410, 422})


@pytest.mark.checklist("AUTH-09")
@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "../../etc/passwd", "' OR 1=1 --"],
    ids=["short", "random", "path", "sql"],
)
def test_made_up_tokens_are_refused(token: str, browser: Browser) -> None:
    assert_error(browser.post("/api/auth/verify-email", {"token": token}), {400, 404, 410, 422})
    assert_error(
        browser.post(
            "/api/auth/password-reset/confirm", {"token": token, "new_password": new_password()}
        ),
        {400, 404, 410, 422},
    )


@pytest.mark.checklist("AUTH-09")
def test_a_token_serves_only_its_own_purpose(
    deployment: Deployment, new_browser: NewBrowser, sign_in: Callable[..., Browser]
) -> None:
    account = Account(new_email("purpose"), new_password())
    client = new_browser()
    assert client.signup(account).status_code == 202
    (verification,) = deployment.mail.wait_for(account.email)
    verify_token = token_from(verification.body)
    response = client.post(
        "/api/auth/password-reset/confirm", {"token": verify_token, "new_password": new_password()}
    )
    assert_error(response, {400, 404, 410, 422})
    assert sign_in(account).me().status_code == 200  # the password did not change


@pytest.mark.checklist("AUTH-09", "AUTH-03")
def test_password_reset_applies_the_password_policy(
    deployment: Deployment,
    make_account: Make,
    new_browser: NewBrowser,
    sign_in: Callable[..., Browser],
) -> None:
    account = make_account()
    client = new_browser()
    client.csrf()
    assert (
        client.post("/api/auth/password-reset/request", {"email": account.email}).status_code == 202
    )
    token = token_from(deployment.mail.wait_for(account.email, count=2)[-1].body)
    weak = client.post(
        "/api/auth/password-reset/confirm", {"token": token, "new_password": "short"}
    )
    assert_error(weak, 422, "validation_error")
    assert sign_in(account).me().status_code == 200
