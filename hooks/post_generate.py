"""Post-generation task, run by Copier in the new project after `copier copy`.

It does three things, each safe to run again:

1. writes `.env` from `.env.example`, replacing every `change-me` placeholder
   with a fresh random secret; an existing `.env` is never touched;
2. locks the dependencies with `uv lock` when uv is installed and the package
   index answers (a project without a lockfile still works: `uv sync` makes it);
3. makes the project a git repository with a first commit, so that
   `copier update` can later merge template changes three ways.

Secrets never leave this process: they are not passed on a command line,
not printed, and `.env` is git-ignored, so the first commit cannot hold them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from env_file import fill

LOCK_TIMEOUT_SECONDS = 120


def write_env(project: Path) -> None:
    """Create `.env` with one fresh secret per placeholder, readable by the owner only."""
    env_file = project / ".env"
    if env_file.exists():
        print("  .env exists: kept as it is")
        return
    example = (project / ".env.example").read_text(encoding="utf-8")
    lines = fill(example, {}, only_missing=False)
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("  .env written with fresh secrets (git-ignored, never committed)")


def lock_dependencies(project: Path) -> None:
    """Pin every dependency in `uv.lock`; skipped, with a message, when uv or the index is missing."""
    if os.environ.get("RAMPART_SKIP_LOCK") == "1":
        return
    uv = shutil.which("uv")
    if uv is None:
        print("  uv not found: run `uv lock` in the project to pin dependencies")
        return
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [uv, "lock", "--quiet"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print("  uv lock timed out: run `uv lock` in the project to pin dependencies")
        return
    if done.returncode != 0:
        print("  uv lock failed (is the package index reachable?): run `uv lock` later")
    else:
        print("  dependencies locked in uv.lock")


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    git_bin = shutil.which("git") or "git"
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [git_bin, *args], cwd=project, capture_output=True, text=True, check=False
    )


def first_commit(project: Path, answers: dict[str, object]) -> None:
    """Initialise git and commit the generated tree, unless the project lives in a repo already."""
    if shutil.which("git") is None:
        print("  git not found: run `git init` and commit before `copier update`")
        return
    if git(project, "rev-parse", "--is-inside-work-tree").returncode == 0:
        print("  inside an existing git repository: commit the new project yourself")
        return
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    author = f"{answers['author_name']} <{answers['author_email']}>"
    identity = [
        "-c",
        f"user.name={answers['author_name']}",
        "-c",
        f"user.email={answers['author_email']}",
    ]
    message = "Generate the project from the Rampart template"
    done = git(project, *identity, "commit", "--quiet", "--author", author, "-m", message)
    if done.returncode != 0:
        print(f"  git commit failed: {done.stderr.strip()}")
        sys.exit(1)
    print("  git repository created with a first commit")


def main() -> None:
    project = Path.cwd()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    write_env(project)
    lock_dependencies(project)
    first_commit(project, answers)


if __name__ == "__main__":
    main()
