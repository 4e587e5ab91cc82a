"""Input rules of API.md: pagination bounds, HTML sanitizing, field limits, and hostile input.

Hostile input always gets a 4xx envelope (never a 5xx, never a success), and
after each barrage another user's data is exactly as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contract.client import (
    SESSION_COOKIE,
    Account,
    Browser,
    assert_error,
    new_email,
    new_password,
)
from contract.servers import Deployment

pytestmark = pytest.mark.contract

Make = Callable[..., Account]
SignIn = Callable[..., Browser]
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="session")
def bystander_state(deployment: Deployment) -> Iterator[tuple[Browser, dict[str, Any], list[Any]]]:
    """Another user with notes, made once per target: (browser, account, notes)."""
    client = Browser(deployment.base_url, deployment.tls())
    account = Account(new_email("bystander"), new_password())
    client.csrf()
    assert client.signup(account).status_code == 202
    assert client.login(account).status_code == 200
    client.account = account
    notes = [client.create_note(f"note {n}", f"<p>body {n}</p>") for n in range(2)]
    yield client, client.me().json(), sorted(notes, key=lambda n: n["id"])
    client.close()


@pytest.fixture
def bystander(bystander_state: tuple[Browser, dict[str, Any], list[Any]]) -> Iterator[Browser]:
    """The other user; the test fails if anything of theirs changed by its end."""
    client, me, notes = bystander_state
    yield client
    assert client.me().json() == me, "the bystander's account changed"
    listed = client.get("/api/notes").json()["items"]
    assert sorted(listed, key=lambda n: n["id"]) == notes, "the bystander's notes changed"


def assert_4xx(response: Any) -> None:
    assert 400 <= response.status_code < 500, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:300]}"
    )
    assert_error(response, response.status_code)


# --- pagination -------------------------------------------------------------------------------------


@pytest.mark.checklist("DB-01", "VAL-02")
def test_out_of_range_limits_are_422(user: Browser, admin: Browser) -> None:
    for limit in ("0", "101", "-1", "1000000", "1.5", "abc", "", "1e3", "9" * 30):
        for client, path in ((user, "/api/notes"), (admin, "/api/admin/users")):
            response = client.get(path, params={"limit": limit})
            assert_error(response, 422, "validation_error")
            assert any(d["field"].endswith("limit") for d in response.json()["error"]["details"])


@pytest.mark.checklist("DB-01", "VAL-02")
def test_bad_cursors_are_422(user: Browser, admin: Browser) -> None:
    for cursor in (
        "!!!",
        "not a cursor",
        "x" * 1000,
        "eyJpZCI6MX0",
        "MQ",
        "%00",
        "' OR 1=1 --",
        "../../",
    ):
        for client, path in ((user, "/api/notes"), (admin, "/api/admin/users")):
            assert_error(client.get(path, params={"cursor": cursor}), 422, "validation_error")


@pytest.mark.checklist("DB-01")
def test_notes_are_paged_at_most_100_at_a_time_without_overlap(user: Browser) -> None:
    created = {user.create_note(f"n{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = user.get("/api/notes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 2
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert pages < 10
    assert len(seen) == len(set(seen)) == 5 and set(seen) == created
    assert user.get("/api/notes", params={"limit": 100}).status_code == 200
    default = user.get("/api/notes").json()
    assert len(default["items"]) == 5 and default["next_cursor"] is None


@pytest.mark.checklist("DB-01", "AUTHZ-03")
def test_a_cursor_never_reaches_another_users_notes(user: Browser, bystander: Browser) -> None:
    for i in range(3):
        user.create_note(f"mine {i}")
    first = user.get("/api/notes", params={"limit": 1}).json()
    stolen = bystander.get("/api/notes", params={"limit": 100, "cursor": first["next_cursor"]})
    assert stolen.status_code in {200, 422}
    if stolen.status_code == 200:
        mine = {n["id"] for n in user.get("/api/notes", params={"limit": 100}).json()["items"]}
        assert not mine & {n["id"] for n in stolen.json()["items"]}


# --- notes' fields and sanitizing ---------------------------------------------------------------------


INVALID_NOTES: list[dict[str, Any]] = [
    {"title": ""},
    {"title": "t" * 201},
    {"title": "t", "body": "b" * 20001},
    {},
    {"body": "only a body"},
    {"title": None},
    {"title": ["list"]},
    {"title": {"nested": 1}},
    {"title": 12},
    {"title": True},
    {"title": "t", "body": 3.5},
]


@pytest.mark.checklist("VAL-01")
def test_invalid_notes_are_422(user: Browser) -> None:
    for body in INVALID_NOTES:
        assert_error(user.post("/api/notes", body), 422, "validation_error")
    assert user.get("/api/notes").json()["items"] == []


@pytest.mark.checklist("VAL-01")
def test_note_bounds_are_accepted_and_patch_changes_only_what_it_names(user: Browser) -> None:
    note = user.create_note("t" * 200, "b" * 20000)
    assert len(note["title"]) == 200
    patched = user.patch(f"/api/notes/{note['id']}", {"title": "new"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "new" and patched.json()["body"] == note["body"]
    assert_error(user.patch(f"/api/notes/{note['id']}", {"title": None}), 422)
    assert_error(user.patch(f"/api/notes/{note['id']}", {"title": ""}), 422)
    assert user.delete(f"/api/notes/{note['id']}").status_code == 204
    assert_error(user.get(f"/api/notes/{note['id']}"), 404, "not_found")


HOSTILE_HTML = (
    '<p onclick="steal()">Hi <strong>there</strong> <em>you</em></p>'
    "<script>alert(1)</script>"
    '<a href="javascript:alert(1)">js</a>'
    '<a href="https://example.com/x" target="_blank" onmouseover="x()">ok</a>'
    '<a href="mailto:a@example.com">mail</a>'
    '<a href="data:text/html,<script>alert(1)</script>">data</a>'
    '<img src="x" onerror="alert(1)">'
    '<iframe src="https://evil.example"></iframe>'
    "<style>body{display:none}</style>"
    "<ul><li>one</li></ul><ol><li>two</li></ol>"
    "<blockquote>quote</blockquote><pre><code>code</code></pre><br>"
    '<svg onload="alert(1)"></svg><form action="https://evil.example"><input></form>'
)


def assert_sanitized(html: str) -> None:
    lowered = html.lower()
    for banned in (
        "<script",
        "onclick",
        "onmouseover",
        "onerror",
        "onload",
        "javascript:",
        "data:",
        "<img",
        "<iframe",
        "<style",
        "<svg",
        "<form",
        "<input",
        "target=",
    ):
        assert banned not in lowered, f"{banned!r} survived: {html}"
    for kept in (
        "<p>",
        "<strong>there</strong>",
        "<em>you</em>",
        "<ul>",
        "<ol>",
        "<li>one</li>",
        "<blockquote>quote</blockquote>",
        "<pre><code>code</code></pre>",
        "<br>",
    ):
        assert kept in html, f"{kept!r} was lost: {html}"
    assert 'href="https://example.com/x"' in html
    assert 'href="mailto:a@example.com"' in html
    for anchor in html.split("<a ")[1:]:
        tag = anchor.split(">")[0]
        assert 'rel="noopener noreferrer nofollow"' in tag, tag


@pytest.mark.checklist("VAL-03")
def test_note_html_is_sanitized_on_the_way_in(user: Browser) -> None:
    note = user.create_note("html", HOSTILE_HTML)
    assert_sanitized(note["body"])
    assert user.get(f"/api/notes/{note['id']}").json()["body"] == note["body"]
    patched = user.patch(f"/api/notes/{note['id']}", {"body": HOSTILE_HTML})
    assert patched.status_code == 200
    assert_sanitized(patched.json()["body"])


@pytest.mark.checklist("VAL-03", "DATA-03")
def test_text_fields_are_encoded_as_json_on_output(user: Browser) -> None:
    title = '<script>alert("t")</script>'
    note = user.create_note(title, "")
    response = user.get(f"/api/notes/{note['id']}")
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "<script>" not in response.json()["title"] or response.json()["title"] == title


# --- hostile input ----------------------------------------------------------------------------------------


def raw_post(
    client: Browser, path: str, content: bytes, content_type: str | None = "application/json"
) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    return client.request("POST", path, content=content, headers=headers)


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_overlong_fields_are_4xx(user: Browser, bystander: Browser) -> None:
    huge = "a" * 100_000
    for path, body in [
        ("/api/auth/login", {"email": huge + "@example.test", "password": "x" * 20}),
        ("/api/auth/login", {"email": user.me_account.email, "password": huge}),
        ("/api/auth/signup", {"email": new_email(), "password": huge}),
        ("/api/auth/password-reset/request", {"email": huge}),
        ("/api/auth/password-reset/confirm", {"token": huge, "new_password": new_password()}),
        ("/api/auth/verify-email", {"token": huge}),
        ("/api/auth/reauth", {"password": huge}),
        ("/api/notes", {"title": huge}),
        ("/api/notes", {"title": "t", "body": huge}),
    ]:
        assert_4xx(user.post(path, body))
    assert_4xx(user.get("/api/notes", params={"cursor": "a" * 6000}))
    assert_4xx(user.get(f"/api/notes/{'a' * 6000}"))
    assert user.me().status_code == 200


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_nul_bytes_are_4xx(user: Browser, bystander: Browser) -> None:
    for path, body in [
        ("/api/notes", {"title": "a\u0000b"}),
        ("/api/notes", {"title": "t", "body": "<p>\u0000</p>"}),
        ("/api/auth/login", {"email": "a\u0000@example.test", "password": "p" * 12}),
        ("/api/auth/login", {"email": user.me_account.email, "password": "\u0000" * 12}),
        ("/api/auth/signup", {"email": new_email(), "password": "Pw-\u0000" + new_password()}),
        ("/api/auth/password-reset/request", {"email": "x\u0000@example.test"}),
        ("/api/auth/verify-email", {"token": "\u0000"}),
    ]:
        assert_4xx(user.post(path, body))
    assert_4xx(user.get("/api/notes", params={"cursor": "\u0000"}))
    assert_4xx(user.get("/api/notes", params={"limit": "1\u0000"}))
    assert_4xx(user.get("/api/notes/%00"))
    assert user.get("/api/notes").json()["items"] == []


NOT_UTF8 = [
    b'{"title": "\xff\xfe"}',
    b'{"title": "\xc3\x28"}',
    b'{"title": "\xed\xa0\x80"}',  # an encoded surrogate
    b'{"title": "\\ud800"}',  # an escaped lone surrogate
    '{"title": "\u00e9"}'.encode("utf-16"),
    '{"title": "\u00e9"}'.encode("utf-32"),
    '{"title": "\u00e9"}'.encode("latin-1"),
]


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_invalid_utf8_and_unpaired_surrogates_are_4xx(user: Browser, bystander: Browser) -> None:
    for content in NOT_UTF8:
        assert_4xx(raw_post(user, "/api/notes", content))
        for path in ("/api/auth/login", "/api/auth/signup"):
            assert_4xx(raw_post(user, path, content.replace(b"title", b"email")))
    assert user.get("/api/notes").json()["items"] == []


WRONG_CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/html",
    None,
]


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_wrong_content_types_are_4xx(user: Browser, bystander: Browser) -> None:
    """JSON bytes under another content type are not taken as JSON (nor is a login)."""
    body = json.dumps({"title": "typed"}).encode()
    account = user.me_account
    login = json.dumps({"email": account.email, "password": account.password}).encode()
    for content_type in WRONG_CONTENT_TYPES:
        assert_4xx(raw_post(user, "/api/notes", body, content_type))
        # A login from this browser would replace its session: the checks below would see it.
        assert_4xx(raw_post(user, "/api/auth/login", login, content_type))
    assert user.get("/api/notes").json()["items"] == []


DUPLICATE_KEYS = [
    ("/api/notes", b'{"title": "first", "title": "second"}'),
    ("/api/notes", b'{"title": "t", "body": "a", "body": "b"}'),
    ("/api/auth/signup", b'{"email": "NEW", "password": "P1", "password": "P2"}'),
    ("/api/auth/login", b'{"email": "EMAIL", "password": "P1", "password": "PASSWORD"}'),
    ("/api/auth/password-reset/request", b'{"email": "NEW", "email": "EMAIL"}'),
]


@pytest.mark.checklist("VAL-01")
def test_duplicate_json_keys_are_4xx(user: Browser, bystander: Browser) -> None:
    """Parsers disagree on which duplicate wins; a careful API refuses the ambiguity.

    Each body would succeed if the server silently kept the last value.
    """
    account = user.me_account
    for path, template in DUPLICATE_KEYS:
        content = (
            template.replace(b"NEW", new_email("dup").encode())
            .replace(b"EMAIL", account.email.encode())
            .replace(b"PASSWORD", account.password.encode())
            .replace(b"P1", new_password().encode())
            .replace(b"P2", new_password().encode())
        )
        assert_4xx(raw_post(user, path, content))
    assert user.get("/api/notes").json()["items"] == []


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_deeply_nested_json_is_4xx(user: Browser, bystander: Browser) -> None:
    for depth in (1_000, 100_000):
        arrays = b"[" * depth + b"]" * depth
        objects = b'{"a":' * depth + b"1" + b"}" * depth
        for content in (
            arrays,
            objects,
            b'{"title": ' + arrays + b"}",
            b'{"title": "t", "body": ' + objects + b"}",
        ):
            assert_4xx(raw_post(user, "/api/notes", content))
            assert_4xx(raw_post(user, "/api/auth/login", content))
    assert user.get("/api/health").status_code == 200
    assert user.get("/api/notes").json()["items"] == []


@pytest.mark.checklist("VAL-01", "VAL-02", "ERR-01")
def test_huge_numbers_are_4xx(user: Browser, bystander: Browser) -> None:
    digits = b"9" * 100_000
    for content in (
        b'{"title": ' + digits + b"}",
        b'{"title": 1e999999}',
        b'{"title": -1e999999}',
        b'{"title": NaN}',
        b'{"title": Infinity}',
        b'{"title": "t", "body": ' + digits + b"}",
        digits,
    ):
        assert_4xx(raw_post(user, "/api/notes", content))
        assert_4xx(raw_post(user, "/api/auth/login", content.replace(b"title", b"email")))
    for limit in ("9" * 5000, "-" + "9" * 50, "1e308", "NaN", "Infinity"):
        assert_4xx(user.get("/api/notes", params={"limit": limit}))
    assert_4xx(user.get("/api/admin/users", params={"limit": "9" * 5000}))


@pytest.mark.checklist("VAL-01", "VAL-02")
def test_negative_limits_are_422(user: Browser, admin: Browser) -> None:
    for limit in ("-1", "-100", "-0", "--1", "-" + "9" * 40):
        assert_error(user.get("/api/notes", params={"limit": limit}), 422, "validation_error")
        assert_error(
            admin.get("/api/admin/audit-log", params={"limit": limit}), 422, "validation_error"
        )


@pytest.mark.checklist("VAL-01", "ERR-01")
def test_bodies_of_the_wrong_shape_are_4xx(user: Browser, bystander: Browser) -> None:
    for content in (
        b"",
        b"null",
        b"[]",
        b'"text"',
        b"42",
        b"true",
        b"{",
        b"}",
        b"{'title': 'single quotes'}",
    ):
        assert_4xx(raw_post(user, "/api/notes", content))
        assert_4xx(raw_post(user, "/api/auth/login", content))
        assert_4xx(raw_post(user, "/api/auth/signup", content))


@pytest.mark.checklist("AUTH-01", "AUTH-02", "AUTHZ-03")
def test_forged_stale_and_foreign_sessions_reach_no_data(
    user: Browser, bystander: Browser, make_account: Make, sign_in: SignIn
) -> None:
    """Sessions that are not live (made up, logged out, another server's) are 401 everywhere."""
    note_path = "/api/notes"
    gone = sign_in(make_account())
    stale = gone.session
    assert stale and gone.post("/api/auth/logout").status_code == 204
    foreign_id = str(uuid.uuid4()).replace("-", "")  # looks like another framework's session key
    forged = [stale, foreign_id, "A" * 43, "", "a=b", "%C3%A9", '"quoted"']
    for value in forged:
        cookies = {**user.cookies, SESSION_COOKIE: value}
        for method, path, body in [
            ("GET", "/api/auth/me", None),
            ("GET", note_path, None),
            ("POST", note_path, {"title": "forged"}),
            ("POST", "/api/auth/reauth", {"password": user.me_account.password}),
            ("DELETE", "/api/auth/account", None),
        ]:
            response = user.request(method, path, json_body=body, cookies=cookies, absorb=False)
            assert_error(response, {400, 401})
    assert user.me().status_code == 200


@pytest.mark.checklist("AUTH-01")
def test_several_session_cookies_do_not_confuse_the_server(
    user: Browser, bystander: Browser
) -> None:
    """Two session cookies in one header: never the bystander's data for the user, or a 5xx."""
    header = f"{SESSION_COOKIE}=forged; {SESSION_COOKIE}={user.session}; csrftoken={user.cookies['csrftoken']}"
    response = user.request(
        "GET", "/api/notes", cookies={}, headers={"Cookie": header}, absorb=False
    )
    assert response.status_code in {200, 400, 401}
    if response.status_code == 200:
        assert not {n["id"] for n in response.json()["items"]} & {
            n["id"] for n in bystander.get("/api/notes").json()["items"]
        }
    else:
        assert_error(response, response.status_code)
