"""API.md "Deny by default", ownership of notes, roles, and no mass assignment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from combinations import ContractTarget
from contract.client import (
    AUDIT_FIELDS,
    HALF_SESSION_ROUTES,
    PUBLIC_ROUTES,
    Account,
    Browser,
    assert_error,
    assert_note,
    assert_user,
    new_email,
    new_password,
)
from contract.servers import Deployment

pytestmark = pytest.mark.contract

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAMETER = re.compile(r"\{[^}]+\}")

# Operations of API.md that exist today; the OpenAPI walk must meet at least these.
KNOWN_PROTECTED = {
    ("GET", "/api/auth/me"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/reauth"),
    ("POST", "/api/auth/password"),
    ("DELETE", "/api/auth/account"),
    ("GET", "/api/notes"),
    ("POST", "/api/notes"),
    ("GET", "/api/notes/{id}"),
    ("PATCH", "/api/notes/{id}"),
    ("DELETE", "/api/notes/{id}"),
    ("GET", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{id}/role"),
    ("DELETE", "/api/admin/users/{id}"),
    ("GET", "/api/admin/audit-log"),
}


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


# Routes of API.md that exist when a payment provider was chosen.
PAYMENT_PROTECTED = {
    ("POST", "/api/payments/checkout"),
    ("GET", "/api/orders"),
    ("GET", "/api/orders/{id}"),
}


# Routes of API.md that exist when the MFA option was chosen (mfa/verify is public).
MFA_PROTECTED = {
    ("POST", "/api/auth/mfa/setup"),
    ("POST", "/api/auth/mfa/enable"),
    ("POST", "/api/auth/mfa/disable"),
}


# Routes of API.md that exist when the uploads option was chosen.
UPLOAD_PROTECTED = {
    ("POST", "/api/files"),
    ("GET", "/api/files"),
    ("GET", "/api/files/{id}"),
    ("DELETE", "/api/files/{id}"),
}


def normalized(path: str) -> str:
    return PARAMETER.sub("{id}", path)


def route_pattern(path: str) -> re.Pattern[str]:
    """A path of API.md as a pattern: `{name}` stands for any one segment."""
    parts = PARAMETER.split(path)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


PUBLIC_PATTERNS = [(method, route_pattern(path)) for method, path in PUBLIC_ROUTES]


def is_public(method: str, path: str) -> bool:
    """On the public list, where `/api/webhooks/{provider}` covers `/api/webhooks/stripe`."""
    return any(m == method and pattern.match(path) for m, pattern in PUBLIC_PATTERNS)


def known_protected(target: ContractTarget) -> set[tuple[str, str]]:
    return (
        KNOWN_PROTECTED
        | (PAYMENT_PROTECTED if target.payment_provider != "none" else set())
        | (MFA_PROTECTED if target.mfa else set())
        | (UPLOAD_PROTECTED if target.file_uploads else set())
    )


# --- deny by default --------------------------------------------------------------------------------


@pytest.mark.checklist("AUTHZ-01")
def test_api_document_lists_the_routes_of_the_contract(
    openapi: dict[str, Any], target: ContractTarget
) -> None:
    found = {(m, normalized(p)) for m, p in operations(openapi)}
    expected = known_protected(target)
    assert found >= expected, sorted(expected - found)
    if target.payment_provider != "none":
        webhooks = {(m, p) for m, p in operations(openapi) if p.startswith("/api/webhooks/")}
        assert webhooks == {("POST", f"/api/webhooks/{target.payment_provider}")}, webhooks
    if target.mfa:
        assert found >= HALF_SESSION_ROUTES, sorted(HALF_SESSION_ROUTES - found)


@pytest.mark.checklist("AUTHZ-01")
def test_every_route_outside_the_public_list_answers_401_without_a_session(
    openapi: dict[str, Any], browser: Browser
) -> None:
    """Walk the development server's document: no unlisted route is public in production."""
    checked = []
    for method, path in operations(openapi):
        if is_public(method, path):
            continue
        url = PARAMETER.sub(str(uuid.uuid4()), path)
        body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH"} else None
        # A valid CSRF token is sent, so only the missing session can refuse it.
        response = browser.request(method, url, json_body=body)
        assert_error(response, 401, "not_authenticated")
        checked.append((method, path))
    assert {(m, normalized(p)) for m, p in checked} >= KNOWN_PROTECTED, checked


@pytest.mark.checklist("AUTHZ-01")
def test_public_routes_answer_without_a_session(openapi: dict[str, Any], browser: Browser) -> None:
    for method, path in operations(openapi):
        if not is_public(method, path):
            continue
        url = PARAMETER.sub("unknown", path)
        response = browser.request(method, url, json_body={} if method == "POST" else None)
        if (method, path) in HALF_SESSION_ROUTES:
            # Open to a login that still owes its second factor, and to nobody else.
            assert_error(response, 401, "not_authenticated")
            continue
        assert response.status_code != 401, f"{method} {path} needs a session: {response.text}"
        assert response.status_code < 500, response.text


# --- roles --------------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTHZ-02")
def test_admin_routes_are_403_for_a_user_even_after_reauth(
    user: Browser, make_account: Callable[..., Account], sign_in: Callable[..., Browser]
) -> None:
    other = make_account()
    sign_in(other)
    assert user.reauth(user.me_account.password).status_code == 204
    for method, path, body in [
        ("GET", "/api/admin/users", None),
        ("GET", "/api/admin/audit-log", None),
        ("PATCH", f"/api/admin/users/{user.me_account.id}/role", {"role": "admin"}),
        ("PATCH", f"/api/admin/users/{other.id}/role", {"role": "admin"}),
        ("DELETE", f"/api/admin/users/{other.id}", None),
    ]:
        assert_error(user.request(method, path, json_body=body), 403, "forbidden")
    assert user.me().json()["role"] == "user"
    assert sign_in(other).me().status_code == 200


@pytest.mark.checklist("AUTHZ-02", "DB-01", "INJ-02")
def test_admin_lists_users_in_pages_of_public_fields(
    admin: Browser, make_account: Callable[..., Account]
) -> None:
    for _ in range(2):
        make_account()
    first = admin.get("/api/admin/users", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert set(page) == {"items", "next_cursor"}
    assert len(page["items"]) == 2 and page["next_cursor"]
    for item in page["items"]:
        assert_user(item)
    second = admin.get("/api/admin/users", params={"limit": 2, "cursor": page["next_cursor"]})
    assert second.status_code == 200
    ids = [u["id"] for u in page["items"]] + [u["id"] for u in second.json()["items"]]
    assert len(ids) == len(set(ids)), "pages overlap"


@pytest.mark.checklist("ERR-03", "AUTHZ-02", "INJ-02")
def test_admin_reads_the_audit_log_of_security_events(
    admin: Browser, make_account: Callable[..., Account], new_browser: Callable[..., Browser]
) -> None:
    account = make_account()
    stranger = new_browser()
    stranger.login(Account(account.email, "wrong-" + new_password()))
    response = admin.get("/api/admin/audit-log", params={"limit": 50})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items, "security events are audited"
    for item in items:
        assert set(item) == AUDIT_FIELDS, item
    action = items[0]["action"]
    filtered = admin.get("/api/admin/audit-log", params={"action": action, "limit": 5})
    assert filtered.status_code == 200
    assert {i["action"] for i in filtered.json()["items"]} == {action}
    assert_error(admin.get("/api/admin/audit-log", params={"limit": 0}), 422)
    assert_error(admin.get("/api/admin/audit-log", params={"cursor": "not a cursor!"}), 422)


# --- ownership --------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTHZ-03", "ERR-01")
def test_another_users_note_is_404_exactly_like_a_missing_one(
    user: Browser, make_account: Callable[..., Account], sign_in: Callable[..., Browser]
) -> None:
    note = user.create_note("mine", "<p>private</p>")
    intruder = sign_in(make_account())
    foreign = f"/api/notes/{note['id']}"
    missing = f"/api/notes/{uuid.uuid4()}"
    for method, body in [("GET", None), ("PATCH", {"title": "pwned"}), ("DELETE", None)]:
        request_id = f"own-{method.lower()}"
        headers = {"X-Request-ID": request_id}
        theirs = intruder.request(method, foreign, json_body=body, headers=headers)
        absent = intruder.request(method, missing, json_body=body, headers=headers)
        assert_error(theirs, 404, "not_found")
        assert_error(absent, 404, "not_found")
        assert theirs.content == absent.content, "a foreign note must look missing"
    listed = intruder.get("/api/notes").json()["items"]
    assert note["id"] not in {n["id"] for n in listed}
    assert user.get(foreign).json() == note, "the owner's note changed"


@pytest.mark.checklist("AUTHZ-03", "VAL-02")
def test_note_ids_are_uuids_and_bad_ids_are_422(user: Browser) -> None:
    first, second = user.create_note(), user.create_note()
    assert uuid.UUID(first["id"]) != uuid.UUID(second["id"])
    for bad in ("1", "0", "-1", "abc", "00000000-0000-0000-0000-00000000000g", "' or 1=1 --"):
        assert_error(user.get(f"/api/notes/{bad}"), 422, "validation_error")


# --- mass assignment ------------------------------------------------------------------------------------


@pytest.mark.checklist("AUTHZ-04", "VAL-01")
@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"email_verified": True}, {"mfa_enabled": True}, {"id": str(uuid.uuid4())}],
    ids=["role", "email_verified", "mfa_enabled", "id"],
)
def test_signup_refuses_server_owned_fields(
    extra: dict[str, Any], new_browser: Callable[..., Browser]
) -> None:
    client = new_browser()
    client.csrf()
    account = Account(new_email("mass"), new_password())
    response = client.post(
        "/api/auth/signup", {"email": account.email, "password": account.password, **extra}
    )
    assert_error(response, 422, "validation_error")
    assert_error(client.login(account), 401, "invalid_credentials")


@pytest.mark.checklist("AUTHZ-04", "VAL-01")
def test_notes_refuse_server_owned_fields(
    user: Browser, make_account: Callable[..., Account], sign_in: Callable[..., Browser]
) -> None:
    other = sign_in(make_account())
    victim = other.create_note("theirs")
    note = user.create_note("own")
    server_owned: list[dict[str, Any]] = [
        {"owner_id": other.me_account.id},
        {"user_id": other.me_account.id},
        {"id": victim["id"]},
        {"created_at": "2000-01-01T00:00:00Z"},
        {"updated_at": "2000-01-01T00:00:00Z"},
    ]
    for extra in server_owned:
        assert_error(user.post("/api/notes", {"title": "t", **extra}), 422, "validation_error")
        assert_error(user.patch(f"/api/notes/{note['id']}", extra), 422, "validation_error")
        assert_error(
            user.patch(f"/api/notes/{note['id']}", {"title": "t", **extra}), 422, "validation_error"
        )
    assert user.get(f"/api/notes/{note['id']}").json() == note
    assert [n["id"] for n in user.get("/api/notes").json()["items"]] == [note["id"]]
    assert other.get(f"/api/notes/{victim['id']}").json() == victim
    assert [n["id"] for n in other.get("/api/notes").json()["items"]] == [victim["id"]]


@pytest.mark.checklist("AUTHZ-04", "VAL-01")
def test_every_body_refuses_unknown_fields(
    user: Browser, admin: Browser, deployment: Deployment
) -> None:
    account = user.me_account
    # Re-authenticated, so that guarded routes get as far as reading their body.
    assert user.reauth(account.password).status_code == 204
    assert admin.reauth(deployment.admin_password).status_code == 204
    cases = [
        (
            user,
            "POST",
            "/api/auth/login",
            {"email": account.email, "password": account.password, "remember": True},
        ),
        (
            user,
            "POST",
            "/api/auth/signup",
            {"email": new_email(), "password": new_password(), "x": 1},
        ),
        (user, "POST", "/api/auth/reauth", {"password": account.password, "role": "admin"}),
        (user, "POST", "/api/auth/password-reset/request", {"email": account.email, "x": 1}),
        (
            user,
            "POST",
            "/api/auth/password-reset/confirm",
            {"token": "t", "new_password": new_password(), "x": 1},
        ),
        (user, "POST", "/api/auth/verify-email", {"token": "t", "x": 1}),
        (
            user,
            "POST",
            "/api/auth/password",
            {"current_password": "a", "new_password": "b", "x": 1},
        ),
        (
            admin,
            "PATCH",
            f"/api/admin/users/{account.id}/role",
            {"role": "user", "email": "x@example.test"},
        ),
    ]
    for client, method, path, body in cases:
        response = client.request(method, path, json_body=body)
        assert_error(response, 422, "validation_error")
    assert user.me().json()["role"] == "user"


@pytest.mark.checklist("AUTHZ-04", "INJ-02")
def test_note_responses_carry_exactly_the_public_fields(user: Browser) -> None:
    note = user.create_note()
    assert_note(note)
    assert_note(user.get(f"/api/notes/{note['id']}").json())
    for item in user.get("/api/notes").json()["items"]:
        assert_note(item)


@pytest.mark.checklist("AUTHZ-02", "AUTH-07")
def test_admin_user_deletion_needs_reauth_then_removes_the_account(
    admin: Browser,
    deployment: Deployment,
    make_account: Callable[..., Account],
    sign_in: Callable[..., Browser],
) -> None:
    account = make_account()
    member = sign_in(account)
    assert admin.reauth(deployment.admin_password).status_code == 204
    response = admin.delete(f"/api/admin/users/{account.id}")
    assert response.status_code == 204, response.text
    assert_error(member.me(), 401, "not_authenticated")
    assert_error(member.fork(cookies={}).login(account), 401, "invalid_credentials")
    assert_error(admin.delete(f"/api/admin/users/{account.id}"), 404, "not_found")
