"""Small helpers shared by the template's test layers (no fixtures here: see conftest.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Folders that are never part of the rendered tree we inspect.
IGNORED_DIRS = frozenset(
    {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
)

# Environment variables of the harness's own tooling that must not leak into a
# generated project's commands (they would point uv or pytest at our environment).
LEAKY_ENV = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PROJECT",
    "UV_RUN_RECURSION_DEPTH",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTEST_DEBUG_TEMPROOT",
    "MYPYPATH",
    "TEST_DATABASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "COV_CORE_SOURCE",
    "COV_CORE_CONFIG",
    "COV_CORE_DATAFILE",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands run inside a generated project."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
    # The harness venv's bin dir is first on PATH under `uv run`; drop it so the
    # generated project uses its own tools, but keep uv itself reachable.
    harness_bin = str(Path(sys.executable).parent)
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != harness_bin]
    uv_dir = str(Path(uv_binary()).parent)
    if uv_dir not in parts:
        parts.insert(0, uv_dir)
    env["PATH"] = os.pathsep.join(parts)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env["NO_COLOR"] = "1"
    if extra:
        env.update(extra)
    return env


def uv_binary() -> str:
    """uv, as given by the Makefile ($UV), else from PATH."""
    candidates = [os.environ.get("UV"), shutil.which("uv"), str(Path.home() / ".local/bin/uv")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "uv was not found: run `make test`, which installs it with `python3 -m pip install uv`"
    )


def harness_tool(name: str) -> str:
    """A tool installed in the harness's own environment (ruff, copier)."""
    local = Path(sys.executable).parent / name
    if os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(
            f"{name} is missing from the test environment: run `uv sync` at the repository root"
        )
    return found


def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture stdout and stderr together, never raise on a non-zero exit."""
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else clean_env(),
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (
            exc.stdout.decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
        return subprocess.CompletedProcess(
            list(argv), returncode=-9, stdout=out + f"\n[timed out after {timeout}s]"
        )


def copier_copy_cli(
    template: Path,
    destination: Path,
    data: Mapping[str, str] | None = None,
    timeout: float = 600,
    vcs_ref: str = "HEAD",
) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults --vcs-ref R [--data k=v ...] TEMPLATE DEST`, as a user types it.

    HEAD by default: the working tree, uncommitted changes included. Without
    `--vcs-ref`, Copier would render the newest version tag instead.
    """
    argv = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", vcs_ref]
    for key, value in (data or {}).items():
        argv += ["--data", f"{key}={value}"]
    return run(
        [*argv, str(template), str(destination)],
        cwd=destination.parent,
        env=clean_env(),
        timeout=timeout,
    )


def stop_process_group(process: subprocess.Popen[Any] | None, timeout: float) -> None:
    """Stop a server started with `start_new_session=True`, and everything it started.

    SIGTERM to the whole group (runuser and the server, a server and its
    workers), SIGKILL when it does not stop within `timeout`.
    """
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def tail(text: str, lines: int = 80) -> str:
    chunk = text.rstrip().splitlines()[-lines:]
    return "\n".join(chunk)


def explain(done: subprocess.CompletedProcess[str], lines: int = 80) -> str:
    """A failure message: the command, its exit code and the tail of its output."""
    cmd = " ".join(str(a) for a in done.args)
    return f"`{cmd}` exited with {done.returncode}; last {lines} lines of output:\n{tail(done.stdout or '', lines)}"


def walk_files(root: Path) -> Iterator[Path]:
    """Every file of a rendered project, skipping .git and tool caches."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name


def files_under(root: Path) -> list[Path]:
    """Every file below root, including hidden ones and .git (for "nothing was rendered" checks)."""
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def project_dir_of(result: Any) -> Path:
    """The rendered project of a pytest-copie result, or a test failure that says why rendering failed."""
    if result.exception is not None or result.exit_code != 0 or result.project_dir is None:
        exc = result.exception
        details = (
            "".join(traceback.format_exception(exc))
            if isinstance(exc, BaseException)
            else repr(exc)
        )
        pytest.fail(
            f"copier copy failed (exit code {result.exit_code}):\n{details[-6000:]}", pytrace=False
        )
    return Path(result.project_dir)


def read_pyproject(project: Path) -> dict[str, Any]:
    with open(project / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)
