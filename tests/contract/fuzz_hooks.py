"""Schemathesis hooks for the contract layer: a signed-in session and CSRF on every case.

Loaded by `schemathesis run` through SCHEMATHESIS_HOOKS (see test_fuzzing.py);
it reads the server's address and CA from the environment. Every generated
request carries a live session cookie, the matching `csrftoken` cookie and
`X-CSRFToken` header, and an X-Forwarded-For address of its own, so that
schemathesis exercises the routes behind authentication, CSRF and per-address
rate limits instead of bouncing off them.

Fuzzing may end the session on purpose (logout, password change, account
deletion) or lock the account (wrong passwords at reauth). The pool notices
(a rotated or cleared cookie, a 401 `not_authenticated`) and signs up a fresh
user; it also moves to a new user every USES_PER_USER cases, far below the
per-user limit of 300 requests a minute. Checkout has a pool of its own that
moves on every CHECKOUT_USES_PER_USER cases, below the checkout limit of 10
a minute per user, so that its cases reach the route instead of its 429.

The fuzzing administrator enrols in MFA through the API at its first sign-in
(the project requires MFA for administrators: 403 `mfa_required` before) and
keeps its authenticator and recovery codes: a later sign-in, if the session
ever ends, answers `mfa_required` and is completed with a fresh TOTP step or,
within the same 30 seconds, a recovery code. Only administrator routes use
that session, so no generated case can disable its MFA: the MFA routes are
fuzzed with the users' sessions, which never enrol (enabling needs a code of
a secret the fuzzer never sees). `mfa/verify`, which answers only a login that
owes its second factor, gets half-open sessions of users enrolled here, a new
one every MFA_VERIFY_USES cases: below its 5 tries a minute per session and
the lockout after 10 wrong codes, so its cases reach the route's own checks.

A checkout body whose `product_id` has the documented form is given the id
of a product the shipped catalogue sells (map_body): the document states the
form of an id, not the catalogue, and without this every checkout case would
stop at the "unknown product" 422 and never reach the order, the provider
call and the answers whose schemas the checks hold the server to.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import threading
from typing import Any

import httpx
import schemathesis

from contract.totp import Authenticator

SESSION_COOKIE = "__Host-session"
CSRF_COOKIE = "csrftoken"
USES_PER_USER = 100
CHECKOUT_USES_PER_USER = 9
MFA_VERIFY_USES = 5
# The products of the shipped catalogue (spec "Catalogue") and the documented form of an id.
CATALOGUE_PRODUCTS = ("pro-annual", "team-annual")
PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

_addresses = itertools.count(1)
_prefix = secrets.randbelow(200) + 20


def fresh_ip() -> str:
    n = next(_addresses)
    return f"172.{16 + _prefix % 16}.{(n // 250) % 250}.{n % 250 + 1}"


def _set_cookies(headers: Any) -> list[str]:
    """Every Set-Cookie value of a response, whatever the header container."""
    if hasattr(headers, "get_list"):
        return list(headers.get_list("set-cookie"))
    values: list[str] = []
    for name, value in dict(headers).items():
        if name.lower() == "set-cookie":
            values.extend(value if isinstance(value, list) else [value])
    return values


def _cookie(header: str) -> tuple[str, str, bool]:
    """(name, value, deletes) of a Set-Cookie header."""
    first, *attributes = header.split(";")
    name, _, value = first.strip().partition("=")
    deletes = any(a.strip().lower() in {"max-age=0", 'max-age="0"'} for a in attributes)
    return name, value, deletes or value == ""


def _poster(client: httpx.Client, cookies: dict[str, str]) -> Any:
    """POST with exactly `cookies` (and their CSRF token), keeping the cookies the answers set.

    Anything but 200 is an error of the harness, not a finding.
    """
    ip = fresh_ip()

    def post(path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {
            "X-CSRFToken": cookies[CSRF_COOKIE],
            "X-Forwarded-For": ip,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
        client.cookies.clear()  # these cookies are the only ones sent
        response = client.post(path, json=body or {}, headers=headers)
        client.cookies.clear()
        for header in _set_cookies(response.headers):
            name, value, deletes = _cookie(header)
            if not deletes:
                cookies[name] = value
        if response.status_code != 200:
            raise RuntimeError(f"fuzz session {path}: {response.status_code} {response.text}")
        return response

    return post


class SessionPool:
    """The session the cases use, replaced when it ends or has served enough cases.

    With `admin` credentials the pool signs in as that administrator (never
    re-authenticated, so role changes and deletions stay refused), completing
    or enrolling its second factor when `admin_mfa` says the project demands it; otherwise
    it signs up a new user each time. With `half_open`, that user enables MFA
    and signs in again with the password only: the session owes its second
    factor, the one `POST /api/auth/mfa/verify` answers.
    """

    def __init__(
        self,
        base_url: str,
        ca_file: str,
        admin: tuple[str, str] | None = None,
        uses_per_user: int = USES_PER_USER,
        half_open: bool = False,
        admin_mfa: bool = False,
    ) -> None:
        self.base_url = base_url
        self.admin_mfa = admin_mfa
        self.half_open = half_open
        self.ca_file = ca_file
        self.admin = admin
        self.uses_per_user = uses_per_user
        self.lock = threading.Lock()
        self.session: str | None = None
        self.csrf: str | None = None
        self.uses = 0
        self.users = 0
        # The administrator's second factor, once enrolled.
        self.authenticator: Authenticator | None = None
        self.recovery_codes: list[str] = []

    def current(self) -> tuple[str, str]:
        with self.lock:
            worn = self.admin is None and self.uses >= self.uses_per_user
            if self.session is None or self.csrf is None or worn:
                self.session, self.csrf = self._sign_up_and_in()
                self.uses = 0
            self.uses += 1
            return self.session, self.csrf

    def _sign_up_and_in(self) -> tuple[str, str]:
        email = f"fuzz-{secrets.token_hex(6)}@example.test"
        password = "Fz-" + secrets.token_urlsafe(18)
        if self.admin is not None:
            email, password = self.admin
        with httpx.Client(base_url=self.base_url, verify=self.ca_file, timeout=60) as client:
            csrf = client.get("/api/auth/csrf", headers={"X-Forwarded-For": fresh_ip()})
            token = csrf.json()["csrf_token"]
            headers = {"X-CSRFToken": token}
            body = {"email": email, "password": password}
            if self.admin is None:
                signup = client.post(
                    "/api/auth/signup",
                    json=body,
                    headers={**headers, "X-Forwarded-For": fresh_ip()},
                )
                if signup.status_code != 202:
                    raise RuntimeError(f"fuzz signup failed: {signup.status_code} {signup.text}")
            login = client.post(
                "/api/auth/login", json=body, headers={**headers, "X-Forwarded-For": fresh_ip()}
            )
            if login.status_code != 200:
                raise RuntimeError(f"fuzz login failed: {login.status_code} {login.text}")
            cookies = dict(_cookie(h)[:2] for h in _set_cookies(login.headers))
            if self.admin is not None and self.admin_mfa:
                cookies = self._second_factor(client, login.json(), cookies)
            elif self.half_open:
                cookies = self._half_open(client, body, cookies)
        self.users += 1
        return cookies[SESSION_COOKIE], cookies.get(CSRF_COOKIE, token)

    def _second_factor(
        self, client: httpx.Client, answer: dict[str, Any], cookies: dict[str, str]
    ) -> dict[str, str]:
        """Complete the administrator's MFA, or enrol it on the first sign-in.

        Returns the cookies of the full session.
        """
        post = _poster(client, cookies)
        if answer == {"mfa_required": True}:
            if self.authenticator is None:
                raise RuntimeError("the fuzz administrator has MFA from an earlier run")
            fresh = self.authenticator.has_fresh_code() or not self.recovery_codes
            code = self.authenticator.next_code() if fresh else self.recovery_codes.pop()
            post("/api/auth/mfa/verify", {"code": code})
        elif answer.get("mfa_enabled") is False:
            secret = post("/api/auth/mfa/setup").json()["secret"]
            self.authenticator = Authenticator(secret)
            enabled = post("/api/auth/mfa/enable", {"code": self.authenticator.next_code()})
            self.recovery_codes = list(enabled.json()["recovery_codes"])
        return cookies

    def _half_open(
        self, client: httpx.Client, credentials: dict[str, str], cookies: dict[str, str]
    ) -> dict[str, str]:
        """Enable MFA for the new user, then sign in with the password alone: a half session."""
        post = _poster(client, cookies)
        secret = post("/api/auth/mfa/setup").json()["secret"]
        post("/api/auth/mfa/enable", {"code": Authenticator(secret).next_code()})
        answer = post("/api/auth/login", credentials).json()
        if answer != {"mfa_required": True}:
            raise RuntimeError(f"fuzz login of an MFA user answered {answer}")
        return cookies

    def observe(self, sent_session: str | None, status: int, body: bytes, headers: Any) -> None:
        """Follow what a response did to the session: rotated, cleared or found dead."""
        with self.lock:
            if sent_session != self.session:
                return
            for header in _set_cookies(headers):
                name, value, deletes = _cookie(header)
                if name == SESSION_COOKIE:
                    self.session = None if deletes else value
                elif name == CSRF_COOKIE and not deletes:
                    self.csrf = value
            if status == 401:
                try:
                    code = json.loads(body)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = None
                if code == "not_authenticated":
                    self.session = None


POOL = SessionPool(os.environ["CONTRACT_BASE_URL"], os.environ["CONTRACT_CA_FILE"])
ADMIN_POOL = SessionPool(
    os.environ["CONTRACT_BASE_URL"],
    os.environ["CONTRACT_CA_FILE"],
    admin=(os.environ["CONTRACT_ADMIN_EMAIL"], os.environ["CONTRACT_ADMIN_PASSWORD"]),
    admin_mfa=bool(os.environ.get("CONTRACT_ADMIN_MFA")),
)
CHECKOUT_POOL = SessionPool(
    os.environ["CONTRACT_BASE_URL"],
    os.environ["CONTRACT_CA_FILE"],
    uses_per_user=CHECKOUT_USES_PER_USER,
)
# `mfa/verify` answers only a half-open session, 5 tries a minute each, and 10 wrong
# codes lock the account: a new user and half session every MFA_VERIFY_USES cases.
HALF_OPEN_POOL = SessionPool(
    os.environ["CONTRACT_BASE_URL"],
    os.environ["CONTRACT_CA_FILE"],
    uses_per_user=MFA_VERIFY_USES,
    half_open=True,
)
ADMIN_PREFIX = "/api/admin/"
CHECKOUT_PATH = "/api/payments/checkout"
MFA_VERIFY_PATH = "/api/auth/mfa/verify"


def pool_for(path: str) -> SessionPool:
    """Admin routes get the administrator's session, checkout and mfa/verify their own users,
    the rest a user's."""
    if path.startswith(ADMIN_PREFIX):
        return ADMIN_POOL
    if path == MFA_VERIFY_PATH:
        return HALF_OPEN_POOL
    return CHECKOUT_POOL if path == CHECKOUT_PATH else POOL


@schemathesis.auth(refresh_interval=None, retry_on=[])
class ContractSession:
    """The pool's session and CSRF token on every case, from an address of its own."""

    def get(self, case: Any, ctx: Any) -> tuple[str, str]:
        return pool_for(ctx.operation.path).current()

    def set(self, case: Any, data: tuple[str, str], ctx: Any) -> None:
        session, csrf = data
        case.headers = {
            **(case.headers or {}),
            "X-CSRFToken": csrf,
            "X-Forwarded-For": fresh_ip(),
        }
        case.cookies = {**(case.cookies or {}), SESSION_COOKIE: session, CSRF_COOKIE: csrf}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    sent = (case.cookies or {}).get(SESSION_COOKIE)
    pool = pool_for(case.operation.path)
    pool.observe(sent, response.status_code, response.content or b"", response.headers)


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """Checkout: a product id of the documented form becomes one the catalogue sells.

    Bodies that are negative in any other way (a missing or extra field, a
    wrong type, an id of the wrong form) are left exactly as generated.
    """
    operation = getattr(context, "operation", None)
    if operation is None or operation.path != CHECKOUT_PATH or not isinstance(body, dict):
        return body
    product = body.get("product_id")
    if not isinstance(product, str) or not PRODUCT_ID.match(product):
        return body
    return {**body, "product_id": CATALOGUE_PRODUCTS[len(product) % len(CATALOGUE_PRODUCTS)]}
