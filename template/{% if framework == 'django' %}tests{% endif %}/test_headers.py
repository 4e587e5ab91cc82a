"""DATA-03, DATA-02: security headers on every response, HSTS only in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from helpers import Client, assert_security_headers

pytestmark = pytest.mark.checklist("DATA-03")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/health"),
        ("GET", "/api/missing"),
        ("PUT", "/api/health"),
        ("GET", "/not-under-api"),
        ("POST", "/api/auth/login"),  # refused by CSRF, before any view
    ],
)
def test_every_response_carries_the_security_headers(
    client: Client, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_no_hsts_outside_production(client: Client) -> None:
    assert "strict-transport-security" not in client.get("/api/health").headers


@pytest.mark.checklist("DATA-02")
@pytest.mark.parametrize("answer", ["health", "not_found", "login", "csrf"])
def test_production_sends_hsts_for_two_years_with_subdomains(
    production_report: dict[str, Any], answer: str
) -> None:
    seen = production_report[answer]
    response = httpx.Response(seen["status"], headers=seen["headers"])
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert_security_headers(response)
