"""A throwaway git repository of this template holding several tagged versions.

`copier update` needs a template in git with PEP 440 version tags. The update
layer builds one from this repository: the previous release (its tag, or the
commit recorded in RELEASES when the checkout carries no tags), the working
tree as the version CHANGELOG.md names first (uncommitted changes included,
so that the tests see what is about to be committed), and a synthetic next
version with a few deliberate template changes, to prove how updates merge,
conflict and migrate.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from helpers import REPO_ROOT

# Released versions and their commits, for checkouts that carry no tags.
RELEASES = {"0.1.0": "74224776f647de6eccdee78c7f65f8d3e342572d"}
HEADING = re.compile(r"^## (\d+)\.(\d+)\.(\d+)\b", re.MULTILINE)

# The synthetic next version: a changed README line (tests edit the same line to
# make a conflict), a new setting in .env.example, and a removed file.
README_LINE_OLD = "## Settings"
README_LINE_NEW = "## Settings and secrets"
NEW_SETTING = "UPDATE_TEST_SECRET"
REMOVED_FILE = "SECURITY.md"


@dataclass(frozen=True)
class TemplateVersions:
    repo: Path
    previous: str  # the last release before the working tree, e.g. "v0.1.0"
    current: str  # the working tree, e.g. "v0.2.0"
    next: str  # the working tree plus the synthetic changes, e.g. "v0.2.1"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Rampart tests", "-c", "user.email=tests@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return done.stdout


def changelog_versions() -> list[tuple[int, int, int]]:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return [(int(a), int(b), int(c)) for a, b, c in HEADING.findall(text)]


def tag(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def release_commit(version: str) -> str:
    """The commit of a released version: its tag if the checkout has it, else RELEASES."""
    try:
        return git(REPO_ROOT, "rev-parse", "--verify", "--quiet", f"v{version}^{{commit}}").strip()
    except RuntimeError:
        pass
    commit = RELEASES[version]
    try:
        git(REPO_ROOT, "cat-file", "-e", f"{commit}^{{commit}}")
    except RuntimeError as error:
        raise RuntimeError(
            f"release {version} ({commit}) is not in this checkout's history: "
            "the update layer needs a full clone (git fetch --unshallow)"
        ) from error
    return commit


def build(destination: Path) -> TemplateVersions:
    versions = changelog_versions()
    current = versions[0]
    previous = next(v for v in versions[1:] if ".".join(map(str, v)) in RELEASES)
    git(REPO_ROOT.parent, "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(destination))
    for name in git(destination, "tag", "--list").split():
        git(destination, "tag", "--delete", name)
    old = release_commit(".".join(map(str, previous)))
    git(destination, "tag", tag(previous), old)

    git(destination, "checkout", "--quiet", "--detach", old)
    snapshot_working_tree(destination)
    git(destination, "commit", "--quiet", "--allow-empty", "-m", "Working tree")
    git(destination, "tag", tag(current))

    next_version = (current[0], current[1], current[2] + 1)
    make_next_version(destination, tag(next_version))
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "-m", "Synthetic next version")
    git(destination, "tag", tag(next_version))
    return TemplateVersions(destination, tag(previous), tag(current), tag(next_version))


def snapshot_working_tree(destination: Path) -> None:
    """Make the clone's files exactly this repository's working tree (tracked and new)."""
    listed = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    wanted = {name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()}
    for name in git(destination, "ls-files", "-z").split("\0"):
        if name and name not in wanted:
            (destination / name).unlink(missing_ok=True)
    for name in wanted:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    git(destination, "add", "--all")


def make_next_version(repo: Path, version: str) -> None:
    template = repo / "template"
    readme = template / "README.md.jinja"
    text = readme.read_text(encoding="utf-8")
    if f"\n{README_LINE_OLD}\n" not in text:
        raise RuntimeError(f"README.md.jinja has no line {README_LINE_OLD!r} to change")
    readme.write_text(text.replace(f"\n{README_LINE_OLD}\n", f"\n{README_LINE_NEW}\n"), "utf-8")
    example = template / ".env.example.jinja"
    example.write_text(
        example.read_text(encoding="utf-8")
        + f"# A secret that the next version needs.\n{NEW_SETTING}=change-me\n",
        encoding="utf-8",
    )
    removed = [p for p in template.iterdir() if p.name.startswith(REMOVED_FILE)]
    if not removed:
        raise RuntimeError(f"the template has no {REMOVED_FILE} to remove")
    for path in removed:
        path.unlink()
    changelog = repo / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    first = HEADING.search(text)
    assert first is not None
    entry = f"## {version.removeprefix('v')}\n\nSynthetic release notes of the update tests.\n\n"
    changelog.write_text(text[: first.start()] + entry + text[first.start() :], "utf-8")
