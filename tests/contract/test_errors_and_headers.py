"""API.md "Errors: one envelope, no leaks" and "Headers on every response", over the wire."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from contract.client import (
    HSTS,
    Browser,
    assert_error,
    assert_security_headers,
    set_cookies,
)
from contract.servers import ALLOWED_ORIGIN, Deployment

pytestmark = pytest.mark.contract


# --- the envelope on every kind of error -----------------------------------------------------


@pytest.mark.checklist("ERR-01", "DATA-03")
def test_unknown_route_is_a_404_envelope(browser: Browser) -> None:
    assert_error(browser.get("/api/no-such-route"), 404, "not_found")
    assert_error(browser.get("/no-such-page"), 404, "not_found")


@pytest.mark.checklist("ERR-01", "DATA-03")
def test_wrong_method_is_a_405_envelope_with_allow(browser: Browser) -> None:
    response = browser.request("PUT", "/api/health")
    assert_error(response, 405)
    assert "GET" in response.headers.get("allow", "")


@pytest.mark.checklist("ERR-01", "DATA-03")
def test_405_allow_lists_every_method_of_the_path(user: Browser) -> None:
    response = user.request("PUT", f"/api/notes/{uuid.uuid4()}")
    assert_error(response, 405)
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed, response.headers.get("allow")


@pytest.mark.checklist("ERR-01", "DATA-03", "VAL-04")
def test_oversized_body_is_a_413_envelope(user: Browser) -> None:
    big = {"title": "t", "body": "x" * (1024 * 1024 + 1)}
    assert_error(user.post("/api/notes", big), 413, "payload_too_large")


@pytest.mark.checklist("ERR-01", "DATA-03", "VAL-01")
def test_invalid_body_is_a_422_envelope_with_field_details(user: Browser) -> None:
    error = assert_error(user.post("/api/notes", {"title": ""}), 422, "validation_error")
    assert error["details"], error
    assert any(d["field"].endswith("title") for d in error["details"]), error


@pytest.mark.checklist("ERR-01", "DATA-03", "AUTHZ-01")
def test_missing_session_is_a_401_envelope(browser: Browser) -> None:
    assert_error(browser.get("/api/auth/me"), 401, "not_authenticated")


@pytest.mark.checklist("ERR-01", "DATA-03", "AUTH-08")
def test_csrf_refusal_is_a_403_envelope(user: Browser) -> None:
    assert_error(user.post("/api/notes", {"title": "t"}, csrf=False), 403, "csrf_failed")


@pytest.mark.checklist("ERR-01", "DATA-03", "AUTHZ-02")
def test_role_refusal_is_a_403_envelope(user: Browser) -> None:
    assert_error(user.get("/api/admin/users"), 403, "forbidden")


@pytest.mark.checklist("ERR-01", "DATA-03", "RATE-01")
def test_rate_limit_is_a_429_envelope_with_retry_after(
    deployment: Deployment, new_browser: Callable[..., Browser]
) -> None:
    client = new_browser()
    client.csrf()
    responses = [
        client.post("/api/auth/password-reset/request", {"email": f"nobody-{n}@example.test"})
        for n in range(deployment.limits.reset_ip + 1)
    ]
    assert [r.status_code for r in responses[:-1]] == [202] * deployment.limits.reset_ip
    assert_error(responses[-1], 429, "rate_limited")
    assert int(responses[-1].headers["retry-after"]) > 0


@pytest.mark.checklist("ERR-01", "DATA-03")
def test_malformed_json_is_a_400_or_422_envelope(user: Browser) -> None:
    response = user.request(
        "POST", "/api/notes", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, {400, 422})


@pytest.mark.checklist("ERR-01")
def test_details_never_echo_a_submitted_password_or_token(browser: Browser) -> None:
    marker = "Zq7MarkerSecret"
    for path, body in [
        ("/api/auth/signup", {"email": "not-an-email", "password": marker}),
        ("/api/auth/signup", {"email": "echo@example.test", "password": marker[:8]}),  # short
        ("/api/auth/signup", {"email": "zq7markersecret@example.test", "password": marker}),
        ("/api/auth/signup", {"email": "echo@example.test", "password": marker * 10}),
        ("/api/auth/login", {"email": "echo@example.test", "password": marker * 100}),
        ("/api/auth/password-reset/confirm", {"token": marker * 20, "new_password": marker}),
        ("/api/auth/password-reset/confirm", {"token": marker, "new_password": marker}),
        ("/api/auth/verify-email", {"token": marker * 20}),
    ]:
        response = browser.post(path, body)
        assert 400 <= response.status_code < 500, response.text
        assert_error(response, response.status_code)
        assert marker[:8] not in response.text, f"{path} echoes a secret: {response.text}"


@pytest.mark.checklist("ERR-01", "SRV-03")
def test_health_and_readiness_answer_ok(browser: Browser) -> None:
    for path in ("/api/health", "/api/ready"):
        response = browser.get(path)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        assert_security_headers(response)


# --- X-Request-ID ---------------------------------------------------------------------------------


@pytest.mark.checklist("ERR-01", "LOG-01")
@pytest.mark.parametrize(
    "sent", ["abc", "trace.id_01-XYZ", "a" * 64, "0123456789abcdef0123456789abcdef"]
)
def test_a_sane_client_request_id_is_echoed(browser: Browser, sent: str) -> None:
    ok = browser.get("/api/health", headers={"X-Request-ID": sent})
    assert ok.headers["x-request-id"] == sent
    error = browser.get("/api/missing", headers={"X-Request-ID": sent})
    assert assert_error(error, 404)["request_id"] == sent


@pytest.mark.checklist("ERR-01", "LOG-01")
@pytest.mark.parametrize(
    "sent",
    ["a" * 65, "has space", "<script>", "semi;colon", "quote'", "é", "", "a/b", "%0d%0a"],
    ids=[
        "65-chars",
        "space",
        "markup",
        "semicolon",
        "quote",
        "non-ascii",
        "empty",
        "slash",
        "crlf",
    ],
)
def test_an_insane_request_id_is_replaced_by_a_fresh_one(browser: Browser, sent: str) -> None:
    response = browser.get("/api/missing", headers={"X-Request-ID": sent.encode()})
    request_id = assert_error(response, 404)["request_id"]
    assert request_id != sent and request_id


@pytest.mark.checklist("ERR-01", "LOG-01")
def test_every_response_gets_a_fresh_request_id_when_none_is_sent(browser: Browser) -> None:
    ids = {browser.get("/api/health").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


# --- security headers ------------------------------------------------------------------------------


@pytest.mark.checklist("DATA-03", "DATA-02")
def test_security_headers_and_hsts_on_success_and_error_responses(
    user: Browser, browser: Browser
) -> None:
    note = user.create_note()
    responses = [
        browser.get("/api/health"),
        browser.get("/api/ready"),
        browser.get("/api/auth/csrf"),
        user.me(),
        user.get("/api/notes"),
        user.get(f"/api/notes/{note['id']}"),
        user.delete(f"/api/notes/{note['id']}"),  # 204 without a body
        browser.get("/api/auth/me"),
        browser.get("/api/missing"),
    ]
    for response in responses:
        assert_security_headers(response)
    assert responses[0].headers["strict-transport-security"] == HSTS


@pytest.mark.checklist("DATA-03", "SRV-03")
def test_no_header_names_the_stack(browser: Browser, user: Browser) -> None:
    for response in (
        browser.get("/api/health"),
        browser.get("/api/missing"),
        browser.request("DELETE", "/api/health"),
        user.me(),
    ):
        assert "server" not in response.headers, response.headers.get("server")
        assert "x-powered-by" not in response.headers


@pytest.mark.checklist("DATA-03", "AUTH-01")
def test_auth_and_personal_responses_are_not_cached(user: Browser, browser: Browser) -> None:
    note = user.create_note()
    for response in (
        browser.get("/api/auth/csrf"),
        user.me(),
        user.get("/api/notes"),
        user.get(f"/api/notes/{note['id']}"),
        browser.post("/api/auth/login", {"email": "x@example.test", "password": "y" * 12}),
    ):
        assert "no-store" in response.headers.get("cache-control", ""), response.request.url


@pytest.mark.checklist("DATA-03", "ERR-01")
def test_responses_are_json_with_a_json_content_type(user: Browser, browser: Browser) -> None:
    for response in (browser.get("/api/health"), user.me(), user.get("/api/notes")):
        assert response.headers["content-type"].startswith("application/json")
        response.json()


# --- transport and origin rules ---------------------------------------------------------------------


@pytest.mark.checklist("SRV-04")
def test_an_unknown_host_is_refused(browser: Browser) -> None:
    response = browser.get("/api/health", headers={"Host": "evil.example"})
    assert_error(response, {400, 421})


@pytest.mark.checklist("SRV-04")
def test_cors_answers_only_the_allowed_origin(browser: Browser) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-csrftoken",
    }
    allowed = browser.request(
        "OPTIONS", "/api/notes", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert allowed.status_code in {200, 204}, allowed.text
    assert allowed.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN
    assert allowed.headers.get("access-control-allow-credentials") == "true"

    foreign = browser.request(
        "OPTIONS", "/api/notes", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in foreign.headers
    assert foreign.status_code >= 400
    simple = browser.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
    assert simple.headers.get("access-control-allow-origin") != "*"


@pytest.mark.checklist("SRV-01", "AUTHZ-01")
def test_production_does_not_serve_the_api_document_or_its_ui(browser: Browser) -> None:
    for path in ("/api/openapi.json", "/api/docs", "/api/redoc", "/openapi.json", "/docs"):
        response = browser.get(path)
        assert response.status_code in {401, 404}, f"{path}: {response.status_code}"
        assert "openapi" not in response.text.lower()
        assert_error(response, response.status_code)


@pytest.mark.checklist("DATA-02")
def test_plain_http_is_not_served_on_the_https_port(deployment: Deployment) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{deployment.port}/api/health", timeout=5).raise_for_status()


@pytest.mark.checklist("DATA-02", "AUTH-01")
def test_csrf_cookie_is_secure_readable_and_lax(
    deployment: Deployment, new_browser: Callable[..., Browser]
) -> None:
    response = new_browser().get("/api/auth/csrf")
    cookie = set_cookies(response)["csrftoken"]
    assert cookie.value == response.json()["csrf_token"]
    assert cookie.has("secure")
    assert not cookie.has("httponly"), "the page's script must read csrftoken"
    assert (cookie.get("samesite") or "").lower() == "lax"
    assert cookie.get("path") == "/"
