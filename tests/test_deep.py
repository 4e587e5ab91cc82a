"""Generated projects install with uv and pass their own test suites.

The combinations are a pairwise-covering set of the code-changing answers
(see combinations.py and test_combinations.py). PostgreSQL combinations get a
fresh database on the harness's throwaway cluster through TEST_DATABASE_URL;
SQLite combinations run with TEST_DATABASE_URL unset. Combinations with
uploads scan with the harness's clamd through TEST_CLAMAV_ADDRESS: every
other one on its Unix socket, the rest on TCP, so both transports are proven.
Combinations with rate_limit_store=redis count in a database of their own
(a number no other suite of the run empties) on the harness's password-protected
redis-server, through TEST_REDIS_URL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from combinations import Combination, pairwise_code_combinations
from helpers import clean_env, copier_copy_cli, explain, project_dir_of, run, uv_binary

pytestmark = pytest.mark.deep

DEEP_COMBINATIONS = pairwise_code_combinations()
# Every other combination with uploads reaches clamd on its Unix socket, the rest on TCP.
UNIX_SOCKET_COMBINATIONS = frozenset(
    sorted(c.id for c in DEEP_COMBINATIONS if c["file_uploads"])[1::2]
)

SYNC_TIMEOUT = 1200
SUITE_TIMEOUT = 1800


def own_temp_root(tmp_path: Path) -> dict[str, str]:
    """A pytest temp root for the generated project's own session (see conftest.use_own_temp_root)."""
    root = tmp_path / "pytest-temp-root"
    root.mkdir(exist_ok=True)
    return {"PYTEST_DEBUG_TEMPROOT": str(root)}


def shared_work(request: pytest.FixtureRequest, framework: str) -> dict[str, str]:
    """What one generated suite leaves to the next instead of doing it again.

    TYPE-01 runs mypy in every suite: with one cache per worker (the fast layer's),
    the dependencies all projects share are analysed once, not once per project
    (mypy checks each module's source hash, so a cache from another project is
    never stale). A suite starts several interpreters (pytest, its subprocesses):
    with PYTHONDONTWRITEBYTECODE set, as in some environments, each would compile
    every import again.
    """
    mypy_cache: Path = request.getfixturevalue("mypy_cache_dir") / framework
    return {"MYPY_CACHE_DIR": str(mypy_cache), "PYTHONDONTWRITEBYTECODE": ""}


def clamav_env(request: pytest.FixtureRequest, unix_socket: bool = False) -> dict[str, str]:
    """TEST_CLAMAV_ADDRESS of the session's clamd, on its TCP or its Unix socket."""
    clamd = request.getfixturevalue("clamd")
    return {"TEST_CLAMAV_ADDRESS": clamd.unix_address if unix_socket else clamd.address}


def project_env(
    combo: Combination, request: pytest.FixtureRequest, tmp_path: Path
) -> dict[str, str]:
    extra = own_temp_root(tmp_path) | shared_work(request, combo["framework"])
    if combo["database"] == "postgresql":
        postgres = request.getfixturevalue("postgres")
        extra["TEST_DATABASE_URL"] = postgres.create_database(combo.id)
    if combo["file_uploads"]:
        extra |= clamav_env(request, unix_socket=combo.id in UNIX_SOCKET_COMBINATIONS)
    if combo["rate_limit_store"] == "redis":
        extra["TEST_REDIS_URL"] = request.getfixturevalue("redis_server").new_database()
    return clean_env(extra)


@pytest.mark.parametrize("combo", [pytest.param(c, id=c.id) for c in DEEP_COMBINATIONS])
def test_generated_project_passes_its_own_test_suite(
    combo: Combination, copie: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    project = project_dir_of(copie.copy(extra_answers=combo.answers))
    env = project_env(combo, request, tmp_path)

    started = time.monotonic()
    synced = run([uv_binary(), "sync"], cwd=project, env=env, timeout=SYNC_TIMEOUT)
    assert synced.returncode == 0, explain(synced)
    installed = time.monotonic()

    # Without coverage: it gates nothing here (no fail_under) and costs about 40% more
    # CPU; the README test below runs `make test`, coverage included.
    suite = run(
        [uv_binary(), "run", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"],
        cwd=project,
        env=env,
        timeout=SUITE_TIMEOUT,
    )
    print(f"uv sync {installed - started:.1f}s, test suite {time.monotonic() - installed:.1f}s")
    assert suite.returncode == 0, explain(suite)


def test_defaults_pass_the_readme_test_command(
    template_dir: Path, tmp_path: Path, make_binary: str, request: pytest.FixtureRequest
) -> None:
    """The acceptance path: `copier copy --trust --defaults <repo> <dir>`, then the README's `make test`.

    Uploads are on by default, and their tests scan with a real clamd: the
    README names TEST_CLAMAV_ADDRESS, which the harness's clamd provides.
    """
    project = tmp_path / "svc"
    copied = copier_copy_cli(template_dir, project, timeout=SYNC_TIMEOUT)
    assert copied.returncode == 0, explain(copied)

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme, (
        "the generated README does not give `make test` as its test command"
    )
    assert (project / "Makefile").is_file(), "the generated project has no Makefile for `make test`"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    extra = own_temp_root(tmp_path) | shared_work(request, answers["framework"])
    if answers.get("file_uploads"):
        assert "TEST_CLAMAV_ADDRESS" in readme, "the README does not say how the tests find clamd"
        extra |= clamav_env(request)

    tested = run(
        [make_binary, "test"],
        cwd=project,
        env=clean_env(extra),
        timeout=SYNC_TIMEOUT + SUITE_TIMEOUT,
    )
    assert tested.returncode == 0, explain(tested)
