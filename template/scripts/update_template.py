"""Take the newest template version into this project, and fail loudly on conflicts.

`make update` runs this with Copier installed (docs/updating.md). It runs
`copier update` with inline conflict markers, then checks the result, because
Copier itself exits 0 even when it leaves conflicts behind:

- files with conflict markers or unmerged index entries, and `.rej` files;
- files the new version deletes or moves although this project changed them
  since the last update: Copier would drop them silently, so they are put back
  from the last commit and reported.

After a clean update it refreshes `uv.lock`, since the template may have
changed the dependencies. It writes a summary (the versions, the CHANGELOG
entries in between, anything to resolve) for the pull or merge request that the
scheduled CI job opens.

Exit status: 0 updated cleanly (or nothing to do), 1 conflicts to resolve by
hand, 2 the update could not run. Only the standard library is needed here.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ANSWERS = Path(".copier-answers.yml")
MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")
VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
HOSTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
GIT = shutil.which("git") or "git"

CLEAN, CONFLICTS, FAILED = 0, 1, 2


@dataclass
class Outcome:
    before: str
    after: str = ""
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts and not self.kept


def git(*args: str, check: bool = True) -> str:
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from this script
        [GIT, *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def answer(name: str) -> str:
    """One top-level answer of `.copier-answers.yml` (written by Copier, one scalar per line)."""
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip().strip("'\"")
    return ""


def copier_command() -> list[str]:
    """COPIER names the command (e.g. `uvx copier`); by default this interpreter's Copier."""
    configured = os.environ.get("COPIER")
    return shlex.split(configured) if configured else [sys.executable, "-m", "copier"]


def run_update(ref: str | None, data: list[str]) -> None:
    command = [*copier_command(), "update", "--trust", "--defaults", "--conflict", "inline"]
    if ref:
        command += ["--vcs-ref", ref]
    for item in data:
        command += ["--data", item]
    done = subprocess.run(command, check=False)  # noqa: S603 - the operator's own command
    if done.returncode != 0:
        raise RuntimeError(f"copier update exited with {done.returncode}")


def relock() -> None:
    """Refresh uv.lock for dependencies the new version changed (CI installs `--locked`)."""
    uv = shutil.which("uv")
    if uv is None or not Path("uv.lock").exists():
        return
    done = subprocess.run([uv, "lock", "--quiet"], check=False)  # noqa: S603 - fixed arguments
    if done.returncode != 0:
        raise RuntimeError("uv lock failed after the update: fix pyproject.toml, then run it")


def conflicted_files() -> list[str]:
    unmerged = set(git("diff", "--name-only", "--diff-filter=U").split())
    changed = git("status", "--porcelain", "--untracked-files=all").splitlines()
    for line in changed:
        path = line[3:].split(" -> ")[-1]
        if path.endswith(".rej"):
            unmerged.add(path)
            continue
        candidate = Path(path)
        if candidate.is_file() and has_markers(candidate):
            unmerged.add(path)
    return sorted(unmerged)


def has_markers(path: Path) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return False
    return any(line.rstrip() in MARKERS for line in lines)


def restore_changed_deletions() -> list[str]:
    """Put back files the update deleted that the project changed since the last update."""
    last_update = git("log", "-1", "--format=%H", "--", str(ANSWERS)).strip()
    if not last_update:
        return []
    deleted = git("ls-files", "--deleted").split()
    kept = []
    for path in deleted:
        at_update = git("rev-parse", "--verify", "--quiet", f"{last_update}:{path}", check=False)
        if at_update.strip() != git("rev-parse", f"HEAD:{path}").strip():
            git("restore", "--source=HEAD", "--worktree", "--", path)
            kept.append(path)
    return kept


def changelog_between(source: str, before: str, after: str) -> str:
    """The CHANGELOG sections after `before` up to `after`, read from the template's git."""
    low, high = version_of(before), version_of(after)
    if low is None or high is None:
        return ""
    for prefix, url in HOSTS.items():
        if source.startswith(prefix):
            source = url + source.removeprefix(prefix)
    ref = after.rsplit("-g", 1)[-1] if "-g" in after else after
    with tempfile.TemporaryDirectory() as clone:
        try:
            git("clone", "--quiet", "--bare", source, clone)
            text = git("-C", clone, "show", f"{ref}:CHANGELOG.md")
        except RuntimeError:
            return ""
    sections: list[str] = []
    keep = False
    for line in text.splitlines():
        if line.startswith("## "):
            version = version_of(line[3:])
            keep = version is not None and low < version <= high
        if keep:
            sections.append(line)
    return "\n".join(sections).strip()


def version_of(text: str) -> tuple[int, int, int] | None:
    match = VERSION.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def summary(outcome: Outcome, changelog: str) -> str:
    lines = [f"Template update from `{outcome.before}` to `{outcome.after}` (`make update`).", ""]
    if outcome.conflicts:
        lines += ["**Conflicts to resolve** (markers `<<<<<<< before updating`):", ""]
        lines += [f"- `{path}`" for path in outcome.conflicts] + [""]
    if outcome.kept:
        lines += ["**Removed or moved by the template, but changed here: kept, review them:**", ""]
        lines += [f"- `{path}`" for path in outcome.kept] + [""]
    lines += ["## What changed", "", changelog or "(CHANGELOG not available)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Update this project from its Copier template.")
    parser.add_argument("--vcs-ref", help="template version to update to (default: the newest)")
    parser.add_argument("--data", action="append", default=[], help="changed answer, KEY=VALUE")
    parser.add_argument("--summary", type=Path, help="write a Markdown summary to this file")
    args = parser.parse_args(argv)
    try:
        outcome = Outcome(before=answer("_commit"))
        run_update(args.vcs_ref, args.data)
        outcome.after = answer("_commit")
        outcome.conflicts = conflicted_files()
        outcome.kept = restore_changed_deletions()
        if outcome.clean:
            relock()
        changelog = changelog_between(answer("_src_path"), outcome.before, outcome.after)
    except (RuntimeError, OSError) as error:
        print(f"update failed: {error}", file=sys.stderr)
        return FAILED
    if args.summary:
        args.summary.write_text(summary(outcome, changelog), encoding="utf-8")
    for path in outcome.conflicts:
        print(f"CONFLICT {path}", file=sys.stderr)
    for path in outcome.kept:
        print(f"KEPT {path} (the template removed or moved it; you changed it)", file=sys.stderr)
    if not outcome.clean:
        print("Resolve the files above, run the tests, then commit.", file=sys.stderr)
        return CONFLICTS
    print(f"Updated from {outcome.before} to {outcome.after}: review `git diff`, run the tests.")
    return CLEAN


if __name__ == "__main__":
    sys.exit(main())
