"""Benchmark 3: the generated project's own `uv sync`, cold and warm cache, and its test suite.

These are the waits a developer of the generated service meets every day: a
fresh clone's first `uv sync` (a cold cache: every wheel downloaded), the
next ones (a warm cache: only the virtualenv made again), and `pytest`, as
the project's `make test` runs it (coverage included). The richest
combination is measured, on the database the benchmarks run on (--database),
with the throwaway servers its suite needs: the harness's clamd and Redis (and
PostgreSQL when asked for), the same ones the deep test layer gives it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generation import BenchmarkError, copier_copy
from benchmarks.stats import Summary, render_table

from clamav import ClamdServer
from combinations import local_python_version, richest_answers
from helpers import REPO_ROOT, clean_env, explain, run, uv_binary
from postgres import PostgresServer
from redis import RedisServer

SYNC_TIMEOUT = 1800
SUITE_TIMEOUT = 1800


def bench_answers(framework: str, database: str) -> dict[str, Any]:
    """The richest combination of the framework, on `database`, for this machine's Python.

    The local Python: the project is installed here, and uv must not download
    an interpreter (UV_PYTHON_DOWNLOADS=never, as in the tests).
    """
    answers = richest_answers(framework)
    answers["python_version"] = local_python_version()
    answers["database"] = database
    return answers


def generate(framework: str, database: str, destination: Path) -> Path:
    """`copier copy` of the benchmarked combination into `destination` (not installed yet)."""
    done = copier_copy(REPO_ROOT, destination, bench_answers(framework, database))
    if done.returncode != 0:
        raise BenchmarkError(f"{framework}: copier copy failed: " + explain(done, 40))
    return destination


def uv_sync(project: Path, env: dict[str, str]) -> float:
    """Seconds of `uv sync` in the project, from no virtualenv; a failure is an error."""
    shutil.rmtree(project / ".venv", ignore_errors=True)
    started = time.perf_counter()
    done = run([uv_binary(), "sync"], cwd=project, env=env, timeout=SYNC_TIMEOUT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError("uv sync failed: " + explain(done, 40))
    return elapsed


@contextlib.contextmanager
def suite_services(answers: dict[str, Any]) -> Iterator[dict[str, str]]:
    """The throwaway servers the project's suite needs, as its TEST_* variables."""
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if answers.get("file_uploads"):
            clamd = ClamdServer.start()
            stack.callback(clamd.stop)
            env["TEST_CLAMAV_ADDRESS"] = clamd.address
        if answers.get("rate_limit_store") == "redis":
            redis = RedisServer.start()
            stack.callback(redis.stop)
            env["TEST_REDIS_URL"] = redis.new_database()
        if answers.get("database") == "postgresql":
            postgres = PostgresServer.start()
            stack.callback(postgres.stop)
            env["TEST_DATABASE_URL"] = postgres.create_database("bench")
        yield env


@dataclass
class ProjectResult:
    """One framework's project timings, in seconds."""

    framework: str
    answers: dict[str, Any]
    sync_cold: list[float] = field(default_factory=list)
    sync_warm: list[float] = field(default_factory=list)
    suite: list[float] = field(default_factory=list)
    suite_summary_line: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "uv_sync_cold_seconds": Summary.of(self.sync_cold).as_dict(),
            "uv_sync_warm_seconds": Summary.of(self.sync_warm).as_dict(),
            "test_suite_seconds": Summary.of(self.suite).as_dict(),
            "test_suite_outcome": self.suite_summary_line,
        }


def project_table(results: list[ProjectResult], failures: dict[str, str]) -> str:
    rows = []
    for result in results:
        for label, samples in (
            ("uv sync, cold cache", result.sync_cold),
            ("uv sync, warm cache", result.sync_warm),
            ("test suite (pytest, coverage)", result.suite),
        ):
            s = Summary.of(samples)
            rows.append(
                [f"{result.framework}: {label}", f"{s.min:.1f}", f"{s.median:.1f}", f"{s.max:.1f}"]
            )
    notes = [f"  {r.framework} suite, last run: {r.suite_summary_line}" for r in results]
    notes += [f"  {f}: FAILED: {reason.splitlines()[0][:100]}" for f, reason in failures.items()]
    table = render_table(["what", "min", "median", "max"], rows)
    return "\n".join(["Generated project: uv sync and test suite, seconds", table, *notes])


def measure_project(
    framework: str, database: str, workdir: Path, suite_runs: int
) -> tuple[ProjectResult, Path]:
    """Generate the project, time its syncs and suite; the installed project for the next benchmark.

    Cold: `uv sync` with a new, empty UV_CACHE_DIR. Warm: the virtualenv is
    removed and `uv sync` runs again with that cache, now full.
    """
    answers = bench_answers(framework, database)
    project = generate(framework, database, workdir / f"{framework}-project")
    result = ProjectResult(framework, answers)
    cache = Path(tempfile.mkdtemp(prefix="uv-cache-", dir=workdir))
    env = clean_env({"UV_CACHE_DIR": str(cache)})
    result.sync_cold.append(uv_sync(project, env))
    result.sync_warm.append(uv_sync(project, env))
    print(f"  {framework}: uv sync cold and warm done", flush=True)
    with suite_services(answers) as services:
        for index in range(suite_runs):
            temp_root = workdir / f"{framework}-pytest-{index}"
            temp_root.mkdir()
            suite_env = {**env, **services, "PYTEST_DEBUG_TEMPROOT": str(temp_root)}
            started = time.perf_counter()
            done = run(
                [uv_binary(), "run", "pytest", "-q", "-p", "no:cacheprovider"],
                cwd=project,
                env=suite_env,
                timeout=SUITE_TIMEOUT,
            )
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise BenchmarkError(
                    f"{framework}: the project's test suite failed: " + explain(done)
                )
            result.suite.append(elapsed)
            result.suite_summary_line = last_summary_line(done.stdout)
            print(f"  {framework}: test suite run {index + 1}/{suite_runs} done", flush=True)
    # The cache goes now: the protections benchmark needs the project, not its cache.
    shutil.rmtree(cache, ignore_errors=True)
    return result, project


def last_summary_line(output: str) -> str:
    """pytest's last line, e.g. "212 passed in 41.20s"."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else ""
