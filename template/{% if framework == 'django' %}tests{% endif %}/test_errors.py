"""ERR-01, VAL-01: every error is one envelope, and none leaks internals."""

from __future__ import annotations

import nh3
import pytest

from helpers import Browser, Client, assert_envelope, assert_security_headers

SECRET_IN_EXCEPTION = "password=hunter2 at /srv/app/db.py SELECT * FROM users"


def explode(*_args: object, **_kwargs: object) -> str:
    raise RuntimeError(SECRET_IN_EXCEPTION)


@pytest.mark.checklist("ERR-01", "ERR-02")
def test_a_crash_answers_500_without_the_exception_text(
    alice: Browser, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sanitizer fails deep inside a real route, as a bug or a broken library would."""
    monkeypatch.setattr(nh3, "clean", explode)
    response = alice.post("/api/notes", json={"title": "t", "body": "<p>x</p>"})
    assert_envelope(response, 500, "internal_error")
    assert_security_headers(response)
    for leak in ("hunter2", "RuntimeError", "Traceback", "SELECT", "/srv/app", "db.py", "nh3"):
        assert leak not in response.text
    logged = capsys.readouterr()
    output = logged.out + logged.err
    assert "RuntimeError" in output, "the full error is logged internally"
    assert "hunter2" not in output, "but its secrets are redacted"
    monkeypatch.undo()
    assert alice.get("/api/notes").json()["items"] == [], "the failed request stored nothing"


@pytest.mark.checklist("ERR-01", "VAL-01")
def test_malformed_json_answers_the_422_envelope(alice: Browser) -> None:
    response = alice.post(
        "/api/notes", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 422, "validation_error")
    assert_security_headers(response)


@pytest.mark.checklist("VAL-01")
def test_unknown_fields_are_rejected_not_ignored(alice: Browser) -> None:
    response = alice.post("/api/notes", json={"title": "a", "role": "admin"})
    error = assert_envelope(response, 422, "validation_error")
    assert {"field": "body.role", "issue": "Extra inputs are not permitted"} in error["details"]


@pytest.mark.checklist("VAL-01")
def test_wrong_types_and_missing_fields_name_the_field(alice: Browser) -> None:
    response = alice.post("/api/notes", json={"body": 12})
    error = assert_envelope(response, 422, "validation_error")
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"body.title", "body.body"}


@pytest.mark.checklist("ERR-01")
def test_validation_details_never_echo_the_submitted_value(alice: Browser) -> None:
    secret = "S3cret-Value-That-Is-Too-Long-For-The-Field-" * 10
    response = alice.post("/api/notes", json={"title": secret})
    assert_envelope(response, 422, "validation_error")
    assert secret[:40] not in response.text


@pytest.mark.checklist("ERR-01")
@pytest.mark.parametrize("path", ["/api/no-such-route", "/wp-login.php", "/", "/api/notes/x/y"])
def test_an_unknown_route_answers_the_404_envelope(client: Client, path: str) -> None:
    response = client.get(path)
    assert_envelope(response, 404, "not_found")
    assert_security_headers(response)
    assert "Django" not in response.text
    assert "urlpatterns" not in response.text


@pytest.mark.checklist("ERR-01")
@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/health"), ("PUT", "/api/notes")])
def test_a_wrong_method_answers_the_405_envelope(browser: Browser, method: str, path: str) -> None:
    """With a valid CSRF pair, so that it is the method that is refused."""
    response = browser.request(method, path)
    assert_envelope(response, 405, "method_not_allowed")
    assert_security_headers(response)


@pytest.mark.checklist("ERR-01")
def test_a_request_id_is_kept_only_when_sane(client: Client) -> None:
    kept = client.get("/api/health", headers={"X-Request-ID": "trace-1.2_3"})
    assert kept.headers["x-request-id"] == "trace-1.2_3"
    for insane in ("a" * 65, "bad id", "<script>", "../etc"):
        replaced = client.get("/api/nope", headers={"X-Request-ID": insane})
        error = assert_envelope(replaced, 404, "not_found")
        assert replaced.headers["x-request-id"] != insane
        assert error["request_id"] == replaced.headers["x-request-id"]
