"""What the contract tests talk through: an HTTP client and the rules of API.md as data.

Nothing here knows the generated code. `Browser` is an httpx client with a
cookie store of its own (so tests can read, keep, replay and forge cookie
values exactly) and a client address of its own, sent as X-Forwarded-For to
a server that trusts the loopback proxy: each test gets its own rate-limit
buckets unless it asks for a shared address.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from contract.totp import Authenticator

# --- API.md as data ------------------------------------------------------------------------

SESSION_COOKIE = "__Host-session"  # production name
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# "Deny by default": the routes that answer without a session (API.md). The
# OpenAPI document and its UI are public outside production only.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/api/health"),
        ("GET", "/api/ready"),
        ("GET", "/api/auth/csrf"),
        ("POST", "/api/auth/signup"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/mfa/verify"),
        ("POST", "/api/auth/password-reset/request"),
        ("POST", "/api/auth/password-reset/confirm"),
        ("POST", "/api/auth/verify-email"),
        ("POST", "/api/webhooks/{provider}"),
    }
)

# Public in that no full session is needed, but they answer only the half-open
# session of a login that answered `mfa_required`: without one, 401 `not_authenticated`.
HALF_SESSION_ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/api/auth/mfa/verify")})

SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
CSP_DIRECTIVES = ("default-src 'none'", "frame-ancestors 'none'")
PERMISSIONS_DENIED = ("camera", "microphone", "geolocation")
HSTS = "max-age=63072000; includeSubDomains"
STACK_HEADERS = ("server", "x-powered-by")

# POST /api/auth/login for an account with MFA: exactly this, and a half-open session.
MFA_REQUIRED = {"mfa_required": True}
USER_FIELDS = {"id", "email", "role", "email_verified", "mfa_enabled", "created_at"}
NOTE_FIELDS = {"id", "title", "body", "created_at", "updated_at"}
AUDIT_FIELDS = {"id", "at", "actor_id", "action", "target", "ip", "request_id", "detail"}
ERROR_FIELDS = {"code", "message", "request_id"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")

# Words that must never reach a client in an error (ERR-01): library and stack names.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "pydantic",
    "starlette",
    "fastapi",
    "django",
    "uvicorn",
    "gunicorn",
    "/site-packages/",
    "Exception",
    "SELECT ",
    "INSERT ",
)


# --- client addresses ------------------------------------------------------------------------

_ADDRESSES = itertools.count(1)
_ADDRESS_PREFIX = secrets.randbelow(200) + 20


def new_ip() -> str:
    """A client address no other test of this run uses (10.x.y.z), for per-test rate-limit buckets."""
    n = next(_ADDRESSES) + (os.getpid() % 7) * 60000
    return f"10.{_ADDRESS_PREFIX}.{(n // 250) % 250}.{n % 250 + 1}"


# --- cookies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetCookie:
    """One Set-Cookie header, parsed: name, value, attributes (lowercased names)."""

    name: str
    value: str
    attributes: dict[str, str]
    raw: str

    def has(self, attribute: str) -> bool:
        return attribute.lower() in self.attributes

    def get(self, attribute: str) -> str | None:
        return self.attributes.get(attribute.lower())

    @property
    def deletes(self) -> bool:
        """True when the header removes the cookie (Max-Age=0 or an expiry in the past)."""
        max_age = self.get("max-age")
        if max_age is not None:
            return int(max_age) <= 0
        expires = self.get("expires")
        if expires:
            return parsedate_to_datetime(expires).timestamp() <= time.time()
        return False


def parse_set_cookie(header: str) -> SetCookie:
    first, *rest = header.split(";")
    name, _, value = first.strip().partition("=")
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, attr_value = part.strip().partition("=")
        if key:
            attributes[key.lower()] = attr_value.strip()
    return SetCookie(name.strip(), value.strip().strip('"'), attributes, header)


def set_cookies(response: httpx.Response) -> dict[str, SetCookie]:
    return {c.name: c for c in map(parse_set_cookie, response.headers.get_list("set-cookie"))}


# --- the client --------------------------------------------------------------------------------


@dataclass
class SecondFactor:
    """What an account with MFA holds: the authenticator app and the unused recovery codes."""

    authenticator: Authenticator
    recovery_codes: list[str]

    def answer(self) -> str:
        """A code for `mfa/verify`: a fresh TOTP code if one is ready, else a recovery code.

        Only when both are spent does it wait for the next 30-second step.
        """
        if self.authenticator.has_fresh_code() or not self.recovery_codes:
            return self.authenticator.next_code()
        return self.recovery_codes.pop()


@dataclass
class Account:
    email: str
    password: str
    id: str | None = None
    mfa: SecondFactor | None = None


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(6)}@example.test"


def new_password() -> str:
    return "Pw-" + secrets.token_urlsafe(18)


@dataclass
class Browser:
    """A client with its own cookies and address; adds the CSRF header to unsafe requests."""

    base_url: str
    verify: ssl.SSLContext
    ip: str = field(default_factory=new_ip)
    cookies: dict[str, str] = field(default_factory=dict)
    keep_alive: bool = True
    account: Account | None = None
    _http: httpx.Client | None = None
    _forks: list[Browser] = field(default_factory=list)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            limits = (
                httpx.Limits() if self.keep_alive else httpx.Limits(max_keepalive_connections=0)
            )
            self._http = httpx.Client(
                base_url=self.base_url, verify=self.verify, timeout=60, limits=limits
            )
        return self._http

    def close(self) -> None:
        """Close this browser's connections and those of its forks.

        A connection left open makes the server's graceful shutdown wait for it.
        """
        for fork in self._forks:
            fork.close()
        if self._http is not None:
            self._http.close()
            self._http = None  # a later request opens a new connection

    def fork(self, **changes: Any) -> Browser:
        """Another browser on the same server (same address unless given), with copied cookies."""
        values: dict[str, Any] = {"base_url": self.base_url, "verify": self.verify, "ip": self.ip}
        values.update(changes)
        other = Browser(**values)
        if "cookies" not in changes:
            other.cookies = dict(self.cookies)
        self._forks.append(other)
        return other

    @property
    def me_account(self) -> Account:
        assert self.account is not None, "this browser has not signed in"
        return self.account

    @property
    def session(self) -> str | None:
        return self.cookies.get(SESSION_COOKIE)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | str | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        csrf: bool = True,
        cookies: Mapping[str, str] | None = None,
        absorb: bool = True,
    ) -> httpx.Response:
        """Send a request with this browser's cookies (or `cookies`), address and CSRF header.

        `csrf=False` leaves X-CSRFToken out; `absorb=False` ignores Set-Cookie.
        """
        method = method.upper()
        sent: dict[str, str] = {"X-Forwarded-For": self.ip}
        jar = dict(self.cookies if cookies is None else cookies)
        if csrf and method in UNSAFE_METHODS and CSRF_COOKIE in jar:
            sent[CSRF_HEADER] = jar[CSRF_COOKIE]
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if json_body is not None:
            content = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        response = self.http.request(method, path, content=content, headers=sent, params=params)
        # httpx keeps response cookies in the client's jar; ours is the only store.
        self.http.cookies.clear()
        if absorb:
            for cookie in set_cookies(response).values():
                if cookie.deletes:
                    self.cookies.pop(cookie.name, None)
                else:
                    self.cookies[cookie.name] = cookie.value
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    # --- API.md flows ---------------------------------------------------------------

    def csrf(self) -> str:
        """GET /api/auth/csrf: the token, also stored as the csrftoken cookie."""
        response = self.get("/api/auth/csrf")
        assert response.status_code == 200, response.text
        token: str = response.json()["csrf_token"]
        assert self.cookies.get(CSRF_COOKIE) == token
        return token

    def ensure_csrf(self) -> None:
        if CSRF_COOKIE not in self.cookies:
            self.csrf()

    def login(self, account: Account) -> httpx.Response:
        self.ensure_csrf()
        return self.post("/api/auth/login", {"email": account.email, "password": account.password})

    def signup(self, account: Account) -> httpx.Response:
        self.ensure_csrf()
        return self.post("/api/auth/signup", {"email": account.email, "password": account.password})

    def reauth(self, password: str) -> httpx.Response:
        return self.post("/api/auth/reauth", {"password": password})

    def verify_mfa(self, code: str) -> httpx.Response:
        """POST /api/auth/mfa/verify: the second factor of a login that answered `mfa_required`."""
        return self.post("/api/auth/mfa/verify", {"code": code})

    def enable_mfa(self) -> SecondFactor:
        """Enrol the signed-in account: setup, then enable with a code of the returned secret."""
        setup = self.post("/api/auth/mfa/setup")
        assert setup.status_code == 200, setup.text
        authenticator = Authenticator(setup.json()["secret"])
        enabled = self.post("/api/auth/mfa/enable", {"code": authenticator.next_code()})
        assert enabled.status_code == 200, enabled.text
        factor = SecondFactor(authenticator, list(enabled.json()["recovery_codes"]))
        if self.account is not None:
            self.account.mfa = factor
        return factor

    def full_login(self, account: Account) -> httpx.Response:
        """Sign in, completing MFA when the account has it; the last response ({user} on success)."""
        response = self.login(account)
        if account.mfa is None or response.status_code != 200:
            return response
        assert response.json() == MFA_REQUIRED, response.text
        return self.verify_mfa(account.mfa.answer())

    def me(self) -> httpx.Response:
        return self.get("/api/auth/me")

    def create_note(self, title: str = "a note", body: str = "<p>text</p>") -> dict[str, Any]:
        response = self.post("/api/notes", {"title": title, "body": body})
        assert response.status_code == 201, response.text
        note: dict[str, Any] = response.json()
        return note


# --- assertions ----------------------------------------------------------------------------------


def assert_security_headers(response: httpx.Response, *, production: bool = True) -> None:
    """DATA-03: the headers every response carries, HSTS in production, no stack names."""
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, f"{where}: {name} is {headers.get(name)!r}"
    csp = headers.get("content-security-policy", "")
    for directive in CSP_DIRECTIVES:
        assert directive in csp, f"{where}: Content-Security-Policy {csp!r} lacks {directive}"
    permissions = headers.get("permissions-policy", "")
    for feature in PERMISSIONS_DENIED:
        assert f"{feature}=()" in permissions.replace(" ", ""), (
            f"{where}: Permissions-Policy {permissions!r} does not deny {feature}"
        )
    if production:
        assert headers.get("strict-transport-security") == HSTS, (
            f"{where}: Strict-Transport-Security is {headers.get('strict-transport-security')!r}"
        )
    for name in STACK_HEADERS:
        assert name not in headers, f"{where}: {name}: {headers[name]} names the stack"
    request_id = headers.get("x-request-id", "")
    assert REQUEST_ID.match(request_id), f"{where}: X-Request-ID {request_id!r}"


def assert_no_leak(text: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker.lower() not in text.lower(), f"the response leaks {marker!r}: {text[:500]}"


def assert_error(
    response: httpx.Response, status: int | Iterable[int], code: str | None = None
) -> dict[str, Any]:
    """ERR-01: the status, the one envelope, a safe message, the request id, headers.

    `status` may be a set of acceptable statuses (any 4xx of a kind).
    """
    statuses = {status} if isinstance(status, int) else set(status)
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code in statuses, (
        f"{where}: expected {sorted(statuses)}, got {response.status_code}: {response.text[:500]}"
    )
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/json", (
        f"{where}: error Content-Type {content_type!r}"
    )
    body = response.json()
    assert set(body) == {"error"}, f"{where}: not the envelope: {body}"
    error = body["error"]
    expected_fields = ERROR_FIELDS | ({"details"} if "details" in error else set())
    assert set(error) == expected_fields, f"{where}: envelope fields {sorted(error)}"
    assert isinstance(error["code"], str) and CODE.match(error["code"]), error
    if code is not None:
        assert error["code"] == code, f"{where}: code {error['code']!r}, expected {code!r}"
    assert isinstance(error["message"], str) and error["message"], error
    assert error["request_id"] == response.headers.get("x-request-id"), (
        f"{where}: envelope request_id {error['request_id']!r} != header "
        f"{response.headers.get('x-request-id')!r}"
    )
    if "details" in error:
        assert response.status_code == 422, f"{where}: details on a {response.status_code}"
        assert isinstance(error["details"], list)
        for detail in error["details"]:
            assert set(detail) == {"field", "issue"}, detail
            assert isinstance(detail["field"], str) and isinstance(detail["issue"], str)
    assert_no_leak(response.text)
    assert_security_headers(response)
    result: dict[str, Any] = error
    return result


def assert_rate_limited(response: httpx.Response, window_seconds: int) -> None:
    """RATE-01: 429 `rate_limited` with a Retry-After within the limit's window."""
    assert_error(response, 429, "rate_limited")
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit(), f"Retry-After {retry_after!r}"
    assert 0 < int(retry_after) <= window_seconds


def assert_user(data: Any, email: str | None = None) -> None:
    """INJ-02: exactly the public user fields."""
    assert isinstance(data, dict) and set(data) == USER_FIELDS, data
    uuid.UUID(data["id"])
    assert data["role"] in {"user", "admin"}
    if email is not None:
        assert data["email"] == email


def assert_note(data: Any) -> None:
    assert isinstance(data, dict) and set(data) == NOTE_FIELDS, data
    uuid.UUID(data["id"])


def token_from(mail_body: str) -> str:
    """The token of the first link in a message (`...?token=<value>`)."""
    match = re.search(r"[?&]token=([A-Za-z0-9._~%-]+)", mail_body)
    assert match, f"no token link in the message: {mail_body!r}"
    from urllib.parse import unquote

    return unquote(match[1])


# --- raw HTTP over TLS, for requests httpx will not send ---------------------------------------


def raw_request(
    base_url: str,
    context: ssl.SSLContext,
    head: bytes,
    chunks: Iterable[bytes] = (),
    timeout: float = 20.0,
    method: str = "POST",
    path: str = "/",
) -> httpx.Response:
    """Send `head` (request line and headers) and then `chunks` as they are, read one response.

    For lies httpx refuses to tell, such as a Content-Length smaller than the
    body. The server may answer and close before the body is sent: sending
    stops then, and the answer is still read.
    """
    import http.client
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    with (
        socket.create_connection((host, port), timeout=timeout) as plain,
        context.wrap_socket(plain, server_hostname=host) as tls,
    ):
        try:
            tls.sendall(head)
            for chunk in chunks:
                tls.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            pass
        answer = http.client.HTTPResponse(tls, method=method)
        answer.begin()
        body = answer.read()
        return httpx.Response(
            answer.status,
            headers=answer.getheaders(),
            content=body,
            request=httpx.Request(method, f"{base_url}{path}"),
        )
