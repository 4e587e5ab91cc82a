"""Fixtures of the contract layer: one running production backend per target, per session.

Every test that uses `deployment` (directly or through `browser`, `user`...)
runs once per target of `combinations.contract_targets()` (a payments-only
target: only the tests marked `payments`). All tests of one
target share an `xdist_group`, so with `--dist loadgroup` one worker builds
and serves each target, and the targets run side by side.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from checklist import ALL_IDS
from conftest import build_once

from combinations import ContractTarget, contract_targets
from contract.client import (
    Account,
    Browser,
    assert_user,
    new_email,
    new_password,
    token_from,
)
from contract.servers import (
    Deployment,
    HarnessError,
    build_project,
    fetch_development_openapi,
    running_deployment,
)
from contract.webhooks import SIGNERS

TARGETS = contract_targets()


# Tests of the payment feature carry this marker (module-level in test_payments.py):
# the payments-only targets run them and nothing else; `-m "contract and payments"`
# selects them on every target.
PAYMENTS_MARKER = "payments"
# Tests of what Redis brings (test_redis.py) run on the targets that count there.
REDIS_MARKER = "counts_in_redis"
# Tests of signature timestamps run on the targets whose provider signs one.
TIMESTAMPED_MARKER = "timestamped_signatures"
# Tests of an optional feature run on the targets that serve it.
MFA_MARKER = "mfa"
UPLOADS_MARKER = "uploads"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PAYMENTS_MARKER}: a contract test of the payment feature, run on every target "
        "including the payments-only ones",
    )
    config.addinivalue_line(
        "markers",
        f"{REDIS_MARKER}: a contract test of the Redis counters, run on the targets with "
        "rate_limit_store=redis",
    )
    config.addinivalue_line(
        "markers", f"{MFA_MARKER}: a contract test of MFA, run on the targets that serve it"
    )
    config.addinivalue_line(
        "markers",
        f"{TIMESTAMPED_MARKER}: a payment test of signature timestamps, run on the targets "
        "whose provider signs one",
    )
    config.addinivalue_line(
        "markers",
        f"{UPLOADS_MARKER}: a contract test of uploads, run on the targets that serve them",
    )


def serves(target: ContractTarget, definition: pytest.Function) -> bool:
    """Whether the target runs this test: a payments-only target runs only payment tests,
    and a test of a feature (payments, MFA, uploads, Redis) runs where the feature is."""

    def marked(name: str) -> bool:
        return definition.get_closest_marker(name) is not None

    if marked(PAYMENTS_MARKER):
        return target.payment_provider != "none" and (
            not marked(TIMESTAMPED_MARKER) or SIGNERS[target.payment_provider].timestamped
        )
    return not target.payments_only and all(
        (
            not marked(REDIS_MARKER) or target.rate_limit_store == "redis",
            not marked(MFA_MARKER) or target.mfa,
            not marked(UPLOADS_MARKER) or target.file_uploads,
        )
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        metafunc.parametrize(
            "target",
            [
                pytest.param(t, id=t.id, marks=pytest.mark.xdist_group(f"contract-{t.id}"))
                for t in TARGETS
                if serves(t, metafunc.definition)
            ],
            scope="session",
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each contract test names the checklist ids it proves, and only real ones."""
    problems = []
    here = Path(__file__).parent
    for item in items:
        if here not in Path(str(item.path)).parents:
            continue
        ids = [i for mark in item.iter_markers("checklist") for i in mark.args]
        unknown = [i for i in ids if i not in ALL_IDS]
        if not ids or unknown:
            problems.append(f"{item.nodeid}: checklist ids {ids or 'missing'}")
    if problems:
        raise pytest.UsageError(
            "every contract test needs @pytest.mark.checklist with known ids:\n  "
            + "\n  ".join(problems)
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, attach the tail of the server's log to the report."""
    report = yield
    if report.failed:
        deployment = getattr(item, "funcargs", {}).get("deployment")
        if isinstance(deployment, Deployment):
            report.sections.append(
                (f"server log ({deployment.server.log_file})", deployment.log_tail(80))
            )
    return report


# --- the backend -------------------------------------------------------------------------------


# Run the suite against a project generated (and perhaps changed) beforehand:
# RAMPART_CONTRACT_PROJECT=/path/to/project, with `-k <target id>` naming its answers.
PROJECT_OVERRIDE = "RAMPART_CONTRACT_PROJECT"


@pytest.fixture(scope="session")
def contract_project(target: ContractTarget, shared_dir: Path, template_dir: Path) -> Path:
    """The generated and installed project of the target, built once per run."""
    override = os.environ.get(PROJECT_OVERRIDE)
    if override:
        project = Path(override).resolve()
        answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
        for question in ("framework", "database", "payment_provider"):
            if f"{question}: {getattr(target, question)}" not in answers:
                pytest.fail(
                    f"{PROJECT_OVERRIDE}={project} was not generated for {target.id}; "
                    f"select its target with -k",
                    pytrace=False,
                )
        return project
    slot = shared_dir / f"contract-{target.id}"
    try:
        return build_once(slot, lambda path: build_project(target, template_dir, path)) / "project"
    except (HarnessError, RuntimeError) as error:
        pytest.fail(f"{target.id}: {error}", pytrace=False)


@pytest.fixture(scope="session")
def database_url_for(
    target: ContractTarget, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """A fresh, empty database of the target's kind (PostgreSQL: on the session's cluster)."""

    def make(label: str) -> str:
        if target.database == "postgresql":
            url: str = request.getfixturevalue("postgres").create_database(f"contract_{label}")
            return url
        if target.database == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp(f'db-{label}') / 'app.db'}"
        raise AssertionError(f"no database fixture for {target.database}")

    return make


@pytest.fixture(scope="session")
def deployment(
    target: ContractTarget,
    contract_project: Path,
    database_url_for: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """The target running in production settings over HTTPS with 2 workers; stopped afterwards."""
    workdir = tmp_path_factory.mktemp(f"serve-{target.id}")
    try:
        with running_deployment(
            target, contract_project, database_url_for("production"), workdir
        ) as running:
            yield running
            if not running.server.running:
                pytest.fail(f"the server died during the tests:\n{running.log_tail()}")
    except HarnessError as error:
        pytest.fail(f"{target.id}: {error}", pytrace=False)


@pytest.fixture(scope="session")
def openapi(
    target: ContractTarget,
    contract_project: Path,
    database_url_for: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The OpenAPI document, read from a development server of the same project."""
    workdir = tmp_path_factory.mktemp(f"dev-{target.id}")
    try:
        return fetch_development_openapi(contract_project, database_url_for("development"), workdir)
    except HarnessError as error:
        pytest.fail(f"{target.id}: {error}", pytrace=False)


# --- clients and accounts ------------------------------------------------------------------------


# Browsers that outlive a test (the administrator's), for `restart_server` to close.
SESSION_BROWSERS: list[Browser] = []


@pytest.fixture
def browsers_made() -> list[Browser]:
    """The browsers `new_browser` made for the current test."""
    return []


@pytest.fixture
def new_browser(
    deployment: Deployment, browsers_made: list[Browser]
) -> Iterator[Callable[..., Browser]]:
    """Make browsers on the deployment (each with its own address unless `ip=` is given)."""

    def make(**kwargs: Any) -> Browser:
        browser = Browser(deployment.base_url, deployment.tls(), **kwargs)
        browsers_made.append(browser)
        return browser

    yield make
    for browser in browsers_made:
        browser.close()


@pytest.fixture
def restart_server(deployment: Deployment, browsers_made: list[Browser]) -> Callable[..., None]:
    """Restart the server, with the given settings changed for the rest of the run.

    Every browser's connections are closed first (a browser reconnects on its
    next request): uvicorn's graceful shutdown waits for open TLS connections,
    which would cost the harness's whole stop timeout.
    """

    def restart(**settings: str) -> None:
        for browser in [*browsers_made, *SESSION_BROWSERS]:
            browser.close()
        deployment.restart_with(**settings)

    return restart


@pytest.fixture
def browser(new_browser: Callable[..., Browser]) -> Browser:
    """An anonymous browser with a CSRF token."""
    anonymous = new_browser()
    anonymous.csrf()
    return anonymous


@pytest.fixture
def make_account(
    deployment: Deployment, new_browser: Callable[..., Browser]
) -> Callable[..., Account]:
    """Sign up a new account through the API (from its own address), verifying its email."""

    def make(prefix: str = "user", verify: bool = True) -> Account:
        account = Account(new_email(prefix), new_password())
        client = new_browser()
        response = client.signup(account)
        assert response.status_code == 202, response.text
        if verify:
            (message,) = deployment.mail.wait_for(account.email)
            confirmed = client.post("/api/auth/verify-email", {"token": token_from(message.body)})
            assert confirmed.status_code == 204, confirmed.text
        return account

    return make


@pytest.fixture
def sign_in(new_browser: Callable[..., Browser]) -> Callable[..., Browser]:
    """A new browser signed in as the account (from its own address)."""

    def login(account: Account, **kwargs: Any) -> Browser:
        client = new_browser(**kwargs)
        response = client.full_login(account)  # with its second factor when it has MFA
        assert response.status_code == 200, response.text
        assert_user(response.json(), account.email)
        account.id = response.json()["id"]
        client.account = account
        return client

    return login


@pytest.fixture
def user(make_account: Callable[..., Account], sign_in: Callable[..., Browser]) -> Browser:
    """A signed-in browser of a new, verified user."""
    return sign_in(make_account())


@pytest.fixture(scope="session")
def admin(target: ContractTarget, deployment: Deployment) -> Iterator[Browser]:
    """The administrator made by `create-admin`, signed in once per session.

    When the project requires MFA for administrators, it enrols through the API
    on this first sign-in (docs/mfa.md), before any admin route: its
    `me_account.mfa` then holds the authenticator and recovery codes, which
    `sign_in(admin.me_account)` uses for any later sign-in. The session is kept
    for the whole run, so the suite needs no new TOTP step for it.
    """
    account = Account(deployment.admin_email, deployment.admin_password)
    client = Browser(deployment.base_url, deployment.tls())
    response = client.login(account)
    assert response.status_code == 200, response.text
    assert_user(response.json(), account.email)
    assert response.json()["role"] == "admin"
    account.id = response.json()["id"]
    client.account = account
    if target.admin_mfa:
        assert response.json()["mfa_enabled"] is False, "create-admin made an enrolled admin"
        client.enable_mfa()
    SESSION_BROWSERS.append(client)
    yield client
    SESSION_BROWSERS.remove(client)
    client.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return []
    return [f"contract targets: {', '.join(t.id for t in TARGETS)}"]
