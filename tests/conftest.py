"""Fixtures of the template's own test harness.

Layers (select with `-m`): `fast` renders and lints, `deep` installs generated
projects and runs their test suites, `contract` runs the black-box API suite
against running servers, `update` exercises `copier update`. Every test must
carry exactly one layer marker, so that the layer targets of the Makefile
together run every test.

The template rendered is the repository root (pytest-copie's `--template`
option, which defaults to the current directory: when that is not a Copier
template, the repository root is used).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from pytest_copie.plugin import Result

from clamav import ClamdServer, ClamdUnavailable
from combinations import local_python_version, richest_answers
from helpers import REPO_ROOT, explain, run, uv_binary
from postgres import PostgresServer, PostgresUnavailable
from redis import RedisServer, RedisUnavailable

LAYERS = ("fast", "deep", "contract", "update")


# --- configuration and collection ----------------------------------------------


# Environment for everything the tests start, Copier's post-generation task included.
# uv must never download a Python interpreter (only package indexes are reachable
# in CI): without this, `uv lock` of a python_version=3.13 project on a machine
# without 3.13 waits about a minute for the download to fail.
TEST_ENVIRONMENT = {"UV_PYTHON_DOWNLOADS": "never"}


def set_test_environment() -> None:
    from plumbum import local

    for name, value in TEST_ENVIRONMENT.items():
        value = os.environ.setdefault(name, value)
        # Copier hands its tasks plumbum's copy of the environment, taken at import.
        local.env[name] = value


# Every run of this harness gets a temp folder of its own (pytest's --basetemp),
# locked while the run lasts. pytest's default numbered folders are shared by
# every pytest session of the user and it deletes all but the 3 newest when a
# session starts, even one in use: the deep layer's generated projects (each runs
# its own pytest session) or someone else running pytest would otherwise delete
# this run's generated projects under its feet.
RUNS_ROOT = Path(tempfile.gettempdir()) / "rampart-template-tests"
KEEP_RUNS = 3
_run_lock: list[Any] = []  # keeps the open, locked file alive for the whole session


def claim_run_dir() -> Path:
    RUNS_ROOT.mkdir(mode=0o700, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=RUNS_ROOT))
    handle = open(run_dir.with_name(run_dir.name + ".lock"), "w")  # noqa: SIM115 - held until exit
    fcntl.flock(handle, fcntl.LOCK_EX)
    _run_lock.append(handle)
    runs = sorted(RUNS_ROOT.glob("run-*.lock"), key=lambda p: p.stat().st_mtime, reverse=True)
    for lock_file in runs[KEEP_RUNS:]:
        with open(lock_file, "a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # that run is still going
            shutil.rmtree(lock_file.with_suffix(""), ignore_errors=True)
            lock_file.unlink(missing_ok=True)
    return run_dir


@pytest.hookimpl(tryfirst=True)  # before pytest reads --basetemp
def pytest_configure(config: pytest.Config) -> None:
    template = Path(getattr(config.option, "template", None) or ".")
    if not any((template / name).is_file() for name in ("copier.yml", "copier.yaml")):
        config.option.template = str(REPO_ROOT)
    if config.option.basetemp is None:  # xdist workers get theirs from the controller
        config.option.basetemp = str(claim_run_dir())
    set_test_environment()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        layers = [name for name in LAYERS if item.get_closest_marker(name)]
        if len(layers) != 1:
            problems.append(f"{item.nodeid}: {layers or 'no layer marker'}")
    if problems:
        raise pytest.UsageError(
            "every test needs exactly one layer marker ("
            + ", ".join(LAYERS)
            + "):\n  "
            + "\n  ".join(problems)
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the contract layer's schemathesis numbers (cases, failures) per target.

    Here rather than in tests/contract/conftest.py: with pytest-xdist the
    controller, which writes the summary, loads only this conftest.
    """
    lines = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", [])
        if name == "schemathesis" and getattr(report, "when", "call") == "call"
    ]
    if lines:
        terminalreporter.section("schemathesis")
        for line in sorted(lines):
            terminalreporter.write_line(line)


# --- the template and its renders ----------------------------------------------


@pytest.fixture(scope="session")
def template_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.option.template).resolve()


# --- directories shared between xdist workers -------------------------------------


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory common to all xdist workers of this run (the run's base temp dir)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """An inter-process lock (xdist workers are processes)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_once(target: Path, builder: Callable[[Path], object]) -> Path:
    """Run builder(target) once per test run, even with several xdist workers; reuse the result."""
    with exclusive(target.with_name(target.name + ".lock")):
        done = target.with_name(target.name + ".done")
        failed = target.with_name(target.name + ".failed")
        if done.exists():
            return target
        if failed.exists():
            raise RuntimeError(failed.read_text(encoding="utf-8"))
        try:
            builder(target)
        except BaseException as exc:
            failed.write_text(f"{exc}", encoding="utf-8")
            raise
        done.touch()
        return target


# --- renders, once per set of answers per run ----------------------------------------


class RenderError(RuntimeError):
    """Rendering failed (possibly in another xdist worker); the message holds copier's error."""


@pytest.fixture(scope="session")
def render(shared_dir: Path, template_dir: Path) -> Callable[[Mapping[str, Any]], Result]:
    """Render the template once per set of answers for the whole run.

    The projects live in a directory shared by the xdist workers and a lock
    guards each one, so a combination is rendered once however tests are
    distributed. Returns a pytest-copie `Result` (`project_dir`, `answers`,
    `exception`, `exit_code`); failures are kept too, so every test of a broken
    combination fails at once with the same message. Treat projects as read-only.
    """
    cache: dict[str, Result] = {}

    def _render(answers: Mapping[str, Any]) -> Result:
        key = json.dumps(dict(answers), sort_keys=True)
        if key not in cache:
            cache[key] = _render_shared(template_dir, shared_dir / "renders", dict(answers), key)
        return cache[key]

    return _render


def _render_shared(template_dir: Path, renders: Path, answers: dict[str, Any], key: str) -> Result:
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slot = renders / digest
    record = slot / "result.json"
    with exclusive(renders / f"{digest}.lock"):
        if not record.exists():
            slot.mkdir(parents=True, exist_ok=True)
            record.write_text(
                json.dumps(_copy(template_dir, slot / "project", answers)), encoding="utf-8"
            )
    saved = json.loads(record.read_text(encoding="utf-8"))
    if saved["error"] is not None:
        return Result(exception=RenderError(saved["error"]), exit_code=saved["exit_code"])
    return Result(project_dir=Path(saved["project_dir"]), answers=saved["answers"])


def _copy(template_dir: Path, destination: Path, answers: dict[str, Any]) -> dict[str, Any]:
    """What pytest-copie's `copie.copy()` does (trusted, defaults, answers as user defaults), as JSON."""
    from copier import run_copy

    try:
        worker = run_copy(
            src_path=str(template_dir),
            dst_path=str(destination),
            user_defaults=answers,
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
        )
    except SystemExit as exc:
        return {"error": f"copier exited: {exc!r}", "exit_code": exc.code}
    except Exception as exc:
        return {"error": "".join(traceback.format_exception(exc)), "exit_code": -1}
    remembered = {k: v for k, v in worker._answers_to_remember().items() if not k.startswith("_")}
    return {"error": None, "exit_code": 0, "project_dir": str(destination), "answers": remembered}


# --- a virtualenv with the generated project's dependencies, for mypy ---------------


def richest_project(framework: str, shared_dir: Path, template_dir: Path) -> Path:
    """The richest combination of a framework, rendered and `uv sync`ed once per run.

    Its .venv has every dependency any combination of that framework can use, so
    its mypy can type-check all of them (the project itself is not installed in
    it: mypy reads each combination's own sources).
    """

    def build(target: Path) -> None:
        from copier import run_copy

        answers = {**richest_answers(framework), "python_version": local_python_version()}
        project = target / "project"
        try:
            run_copy(
                src_path=str(template_dir),
                dst_path=str(project),
                user_defaults=answers,
                defaults=True,
                unsafe=True,
                quiet=True,
                # The working tree, as every render of the run: the latest tag may
                # lack a dependency that the code under test imports.
                vcs_ref="HEAD",
            )
        except BaseException as exc:  # copier raises SystemExit too
            raise RuntimeError(
                f"rendering the richest combination {answers} failed: {exc!r}"
            ) from exc
        done = run(
            [uv_binary(), "sync", "--all-extras", "--all-groups", "--no-install-project"],
            cwd=project,
            timeout=1200,
        )
        if done.returncode != 0:
            raise RuntimeError("uv sync of the richest combination failed: " + explain(done))

    return build_once(shared_dir / f"richest-{framework}", build) / "project"


@pytest.fixture(scope="session")
def project_mypy(shared_dir: Path, template_dir: Path) -> Callable[[str], Path]:
    """framework -> the mypy of a virtualenv with that framework's richest dependencies."""

    def mypy_for(framework: str) -> Path:
        try:
            project = richest_project(framework, shared_dir, template_dir)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        mypy = project / ".venv" / "bin" / "mypy"
        if not mypy.exists():
            pytest.fail(
                "the generated project's development dependencies do not include mypy "
                f"(no {mypy} after `uv sync --all-groups`)",
                pytrace=False,
            )
        return mypy

    return mypy_for


@pytest.fixture(scope="session")
def mypy_cache_dir(shared_dir: Path) -> Path:
    """One mypy cache per worker: third-party modules are analysed once, not once per combination."""
    path = shared_dir / f"mypy-cache-{worker_id()}"
    path.mkdir(exist_ok=True)
    return path


# --- real servers -------------------------------------------------------------------


class Server(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


def running(start: Callable[[], S], unavailable: type[Exception]) -> Iterator[S]:
    """A server for the session, stopped afterwards; a missing one fails the tests, never skips."""
    try:
        server = start()
    except unavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the session: fails (never skips) when PostgreSQL is missing."""
    yield from running(PostgresServer.start, PostgresUnavailable)


@pytest.fixture(scope="session")
def clamd() -> Iterator[ClamdServer]:
    """A throwaway clamd knowing the EICAR test string: fails (never skips) when clamd is missing."""
    yield from running(ClamdServer.start, ClamdUnavailable)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server with a password: fails (never skips) when redis-server is missing."""
    yield from running(RedisServer.start, RedisUnavailable)


@pytest.fixture
def fresh_database_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's cluster, as a postgresql+psycopg URL."""
    return postgres.create_database(request.node.name)


@pytest.fixture(scope="session")
def make_binary() -> str:
    found = shutil.which("make")
    if not found:
        pytest.fail(
            "`make` is required to run a generated project's README commands", pytrace=False
        )
    return found
