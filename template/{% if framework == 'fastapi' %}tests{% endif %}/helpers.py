"""Assertions shared by the tests: the contract's envelope and headers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's error envelope with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert ("details" in error) == (status == 422)
    return error


def assert_security_headers(response: httpx.Response) -> None:
    """Every header of API.md's list is present with its value."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    permissions = response.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions
    assert "server" not in response.headers
    assert "x-powered-by" not in response.headers
    assert response.headers["x-request-id"]


STRONG_PASSWORD = "correct horse battery staple 42"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Browser(TestClient):
    """A TestClient that acts like the front end: it fetches a CSRF token first and
    copies the `csrftoken` cookie into `X-CSRFToken` on every unsafe request."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app, base_url="http://testserver")

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        if method.upper() in UNSAFE_METHODS:
            token = self.cookies.get("csrftoken") or self.get("/api/auth/csrf").json()["csrf_token"]
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", token)
            kwargs["headers"] = headers
        response: httpx.Response = super().request(method, url, **kwargs)
        return response

    def signup(self, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
        return self.request("POST", "/api/auth/signup", json={"email": email, "password": password})

    def login(self, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
        return self.request("POST", "/api/auth/login", json={"email": email, "password": password})

    def reauth(self, password: str = STRONG_PASSWORD) -> httpx.Response:
        return self.request("POST", "/api/auth/reauth", json={"password": password})

    def session_cookie(self) -> str | None:
        value: str | None = self.cookies.get("session")
        return value


def link_token(body: str) -> str:
    """The token of the link in an email body."""
    match = re.search(r"token=([A-Za-z0-9_-]+)", body)
    assert match, body
    return match[1]


PROJECT = Path(__file__).resolve().parent.parent

# TYPE-01's mypy run, started when the tests are collected (conftest.py).
MYPY_RUN = pytest.StashKey[subprocess.Popen[str]]()


def start_mypy() -> subprocess.Popen[str]:
    """`mypy` on this project, as pyproject.toml configures it, in the background."""
    return subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "mypy", "--config-file", str(PROJECT / "pyproject.toml")],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read(name: str) -> str:
    """A file of this project, as text; a missing file fails the test that needs it."""
    path = PROJECT / name
    assert path.is_file(), f"{name} is missing"
    return path.read_text(encoding="utf-8")


def load_yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load(read(name))
    assert isinstance(data, dict), f"{name} is not a YAML mapping"
    return data


def answers() -> dict[str, Any]:
    """The answers this project was generated with (.copier-answers.yml)."""
    return load_yaml(".copier-answers.yml")
