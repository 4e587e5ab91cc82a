"""Every checklist id that applies to a generated project is proven there and documented.

The generated tests carry `@pytest.mark.checklist("ID", ...)` (on a test, a
class or a module's `pytestmark`); this reads them with `ast`, without
importing or running the project.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from checklist import ALL_IDS, BUILT, required_ids

from combinations import Combination, all_code_combinations, by_family
from helpers import REPO_ROOT, project_dir_of

pytestmark = pytest.mark.fast

SHARED_CHECKLIST = REPO_ROOT.parent / "shared" / "CHECKLIST.md"
ID_PATTERN = re.compile(r"\b([A-Z]+-\d{2})\b")


def marked_ids(tests_dir: Path) -> dict[str, set[str]]:
    """Checklist id -> names of the test files that mark at least one test with it."""
    found: dict[str, set[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "checklist"
            ):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, set()).add(path.name)
    return found


def documented_rows(doc: Path) -> dict[str, str]:
    """Checklist id -> its row in the project's docs/security-checklist.md."""
    rows = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*([A-Z]+-\d{2})\s*\|", line)
        if match:
            rows[match[1]] = line
    return rows


# One representative per value of every code-changing answer is enough: the rule
# is about which files exist, and every option appears at least once.
COMBINATIONS = all_code_combinations()


@pytest.fixture(params=by_family(COMBINATIONS))
def combo(request: pytest.FixtureRequest) -> Combination:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def project(combo: Combination, render: Callable[[Mapping[str, Any]], Any]) -> Path:
    return project_dir_of(render(combo.answers))


def test_our_id_list_matches_the_shared_checklist() -> None:
    assert SHARED_CHECKLIST.is_file(), (
        f"{SHARED_CHECKLIST} is missing: CI puts shared/ beside the repo"
    )
    listed = set(
        re.findall(r"^- ([A-Z]+-\d{2}) ", SHARED_CHECKLIST.read_text(encoding="utf-8"), re.M)
    )
    assert listed == set(ALL_IDS)
    assert set(BUILT) <= listed


def test_every_applicable_built_id_has_a_marked_test(combo: Combination, project: Path) -> None:
    marked = marked_ids(project / "tests")
    missing = [i for i in required_ids(combo.answers) if i not in marked]
    assert not missing, f"ids with no test marked in the generated project: {missing}"


def test_markers_use_only_real_ids(project: Path) -> None:
    unknown = set(marked_ids(project / "tests")) - set(ALL_IDS)
    assert not unknown, f"tests marked with ids that are not in the checklist: {sorted(unknown)}"


def test_the_checklist_doc_names_each_id_with_the_tests_that_prove_it(
    combo: Combination, project: Path
) -> None:
    rows = documented_rows(project / "docs" / "security-checklist.md")
    marked = marked_ids(project / "tests")
    problems = []
    for checklist_id in required_ids(combo.answers):
        row = rows.get(checklist_id)
        if row is None:
            problems.append(f"{checklist_id}: no row")
            continue
        cited = set(re.findall(r"tests/(test_\w+\.py)", row))
        if not cited:
            problems.append(f"{checklist_id}: the row cites no test file")
        for name in sorted(cited - marked.get(checklist_id, set())):
            problems.append(f"{checklist_id}: {name} has no test marked with it")
    assert not problems, "\n".join(problems)


# A "where" cell names files and folders relative to the package (src/<package>/),
# or to the project root (tests/, docs/, pyproject.toml, ...).
CITED_PATH = re.compile(r"`([\w./-]+(?:\.py|\.toml|\.ya?ml|\.md|/))`")


def test_the_checklist_doc_points_only_at_files_that_exist(project: Path) -> None:
    (package,) = (project / "src").iterdir()
    missing = []
    for checklist_id, row in documented_rows(project / "docs" / "security-checklist.md").items():
        where = row.split("|")[3]
        for cited in CITED_PATH.findall(where):
            if not any((base / cited).exists() for base in (package, project)):
                missing.append(f"{checklist_id}: {cited}")
    assert not missing, "the checklist doc cites paths that do not exist:\n" + "\n".join(missing)
