"""Security monitoring over HTTPS: one event stream (LOG-01), intrusion detection
(LOG-02), alerts that never hold up a request (LOG-03), unusual traffic noticed (RATE-03).

The deployment sends its alerts to a webhook receiver on loopback and to the SMTP
sink's ALERT_MAILBOX (servers.py, alert_receiver.py). Its two worker processes
count in the shared store, so one client's requests may land on either.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from contract.alert_receiver import ALERT_MAILBOX, ALERT_TIMEOUT_SECONDS, Alert
from contract.client import Account, Browser, assert_error, new_email, new_password
from contract.servers import Deployment, Mail

pytestmark = pytest.mark.contract

EVENTS = "/api/admin/security-events"
EVENT_FIELDS = {"id", "at", "kind", "actor_id", "ip", "request_id", "target", "detail"}
# The default threshold of the credential-stuffing rule: accounts failing from one address.
STUFFING_THRESHOLD = 10
STUFFED_ACCOUNTS = 20
# Events and alerts are handled on background threads; on a loaded machine, give them time.
WAIT_SECONDS = 60.0

T = TypeVar("T")


def wait_until(check: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.2)


def events_of(admin: Browser, kind: str, ip: str) -> list[dict[str, Any]]:
    """Every stored event of a kind from one address, newest first, read page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"kind": kind, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = admin.get(EVENTS, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [event for event in page["items"] if event["ip"] == ip]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


@dataclass
class Attack:
    """20 failed logins on 20 new accounts from one address."""

    ip: str
    accounts: list[Account]
    wrong_password: str
    statuses: list[int]
    csrf_token: str

    def alert(self, alert: Alert) -> bool:
        return alert.get("rule") == "credential_stuffing" and alert.get("ip") == self.ip


@pytest.fixture(scope="module")
def stuffing(deployment: Deployment) -> Iterator[Attack]:
    """The attack, once per target: each account signs up from an address of its own
    (the signup limit is per address), then one address tries them all."""
    browsers: list[Browser] = []

    def browser() -> Browser:
        browsers.append(Browser(deployment.base_url, deployment.tls()))
        return browsers[-1]

    accounts = [Account(new_email("stuffed"), new_password()) for _ in range(STUFFED_ACCOUNTS)]
    for account in accounts:
        response = browser().signup(account)
        assert response.status_code == 202, response.text
    attacker = browser()
    wrong = new_password()
    statuses = [attacker.login(Account(a.email, wrong)).status_code for a in accounts]
    yield Attack(attacker.ip, accounts, wrong, statuses, attacker.cookies["csrftoken"])
    for opened in browsers:
        opened.close()


@pytest.mark.checklist("LOG-02", "LOG-03", "RATE-03")
def test_twenty_failed_logins_on_twenty_accounts_from_one_address_raise_one_alert(
    deployment: Deployment, stuffing: Attack, admin: Browser
) -> None:
    limit = deployment.limits.login_ip
    # From the 11th try on, the address's login limit answers first: 429, not a failed login.
    assert stuffing.statuses == [401] * limit + [429] * (STUFFED_ACCOUNTS - limit)
    (alert,) = deployment.alerts.wait_for(stuffing.alert, timeout=WAIT_SECONDS)
    assert alert["type"] == "security_alert"
    assert alert["count"] == alert["threshold"] == STUFFING_THRESHOLD
    # Once both workers have stored every event of the attack, still one alert.
    wait_until(
        lambda: True if len(events_of(admin, "login_failed", stuffing.ip)) == limit else None,
        "the failed logins in the security events",
    )
    raised = wait_until(
        lambda: events_of(admin, "alert_raised", stuffing.ip) or None, "the alert_raised event"
    )
    assert [event["target"] for event in raised] == ["credential_stuffing"]
    assert len(deployment.alerts.alerts(stuffing.alert)) == 1

    def mailed() -> Mail | None:
        return next(
            (
                mail
                for mail in deployment.mail.messages_to(ALERT_MAILBOX)
                if "credential_stuffing" in mail.subject and stuffing.ip in mail.body
            ),
            None,
        )

    wait_until(mailed, "the alert email")


@pytest.mark.checklist("LOG-01", "DB-01")
def test_admins_list_the_events_of_the_attack_by_kind_and_page(
    deployment: Deployment, stuffing: Attack, admin: Browser, user: Browser, browser: Browser
) -> None:
    limit = deployment.limits.login_ip
    failed = wait_until(
        lambda: (
            found if len(found := events_of(admin, "login_failed", stuffing.ip)) == limit else None
        ),
        "the failed logins in the security events",
    )
    assert {event["target"] for event in failed} == {a.email for a in stuffing.accounts[:limit]}
    assert all(set(event) == EVENT_FIELDS for event in failed)
    assert all(event["request_id"] and event["at"] for event in failed)
    limited = events_of(admin, "rate_limited", stuffing.ip)
    assert len(limited) == STUFFED_ACCOUNTS - limit
    assert {event["detail"]["path"] for event in limited} == {"/api/auth/login"}

    first = admin.get(EVENTS, params={"kind": "login_failed", "limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2
    second = admin.get(
        EVENTS, params={"kind": "login_failed", "limit": 2, "cursor": page["next_cursor"]}
    )
    assert second.status_code == 200, second.text
    ids = [event["id"] for event in page["items"] + second.json()["items"]]
    assert len(set(ids)) == len(ids) == 4
    stamps = [event["at"] for event in page["items"] + second.json()["items"]]
    assert stamps == sorted(stamps, reverse=True)

    assert_error(admin.get(EVENTS, params={"kind": "no_such_kind"}), 422, "validation_error")
    assert_error(user.get(EVENTS), 403, "forbidden")
    assert_error(browser.get(EVENTS), 401, "not_authenticated")


@pytest.mark.checklist("LOG-01", "LOG-03", "ERR-02")
def test_no_event_or_alert_holds_a_password_cookie_token_or_secret(
    deployment: Deployment, stuffing: Attack, admin: Browser
) -> None:
    deployment.alerts.wait_for(stuffing.alert, timeout=WAIT_SECONDS)
    failed = wait_until(
        lambda: found if (found := events_of(admin, "login_failed", stuffing.ip)) else None,
        "the failed logins in the security events",
    )
    stream = deployment.server.log_file.read_text(encoding="utf-8", errors="replace")
    lines = [json.loads(line) for line in stream.splitlines() if line.startswith("{")]
    ours = [
        line
        for line in lines
        if line.get("event") == "security_event" and line.get("ip") == stuffing.ip
    ]
    assert {"login_failed", "rate_limited", "alert_raised"} <= {line["kind"] for line in ours}
    assert all(
        {"at", "kind", "actor_id", "ip", "request_id", "timestamp"} <= set(line) for line in ours
    )

    everything = "\n".join(
        [
            stream,
            json.dumps(failed),
            *(body.decode("utf-8", errors="replace") for body in deployment.alerts.raw),
            *(
                mail.raw.decode("utf-8", errors="replace")
                for mail in deployment.mail.messages_to(ALERT_MAILBOX)
            ),
        ]
    )
    secrets = {
        "the attacker's password": stuffing.wrong_password,
        "the attacker's CSRF token": stuffing.csrf_token,
        "the admin's session cookie": admin.session,
        "the admin's CSRF token": admin.cookies.get("csrftoken"),
        "the webhook URL's token": deployment.alerts.token,
        **{f"the password of {a.email}": a.password for a in stuffing.accounts},
    }
    for name, value in secrets.items():
        assert value, name
        assert value not in everything, f"{name} is in the log stream, an event or an alert"


@pytest.mark.checklist("LOG-03")
def test_an_alert_receiver_that_hangs_slows_no_login(
    deployment: Deployment,
    make_account: Callable[..., Account],
    new_browser: Callable[..., Browser],
) -> None:
    """While a worker's alert thread waits on a stuck receiver (ALERT_TIMEOUT_SECONDS per
    attempt), sign-ins on every worker answer as fast as ever: none waits for an alert."""
    account = make_account()
    attacker = new_browser()
    timings: list[float] = []
    with deployment.alerts.hanging():
        for _ in range(deployment.limits.login_ip):
            started = time.perf_counter()
            response = attacker.login(Account(new_email("hung"), new_password()))
            timings.append(time.perf_counter() - started)
            assert response.status_code == 401, response.text
        deployment.alerts.wait_for(
            lambda alert: (
                alert.get("rule") == "credential_stuffing" and alert.get("ip") == attacker.ip
            ),
            timeout=WAIT_SECONDS,
        )
        # The receiver now holds the alert: its worker's alert thread is stuck.
        for _ in range(3):
            client = new_browser(keep_alive=False)
            started = time.perf_counter()
            response = client.login(account)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    assert max(timings) < ALERT_TIMEOUT_SECONDS, timings
