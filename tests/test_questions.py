"""The questions: invalid answers never reach rendering, defaults need no prompt, computed values are right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from combinations import FRAMEWORKS
from helpers import copier_copy_cli, explain, files_under, project_dir_of

pytestmark = pytest.mark.fast

INVALID_ANSWERS = {
    "project_slug": ["Bad_", "-x", "a", "ab--c", "ab-", "9lives", "with space"],
    "author_email": [
        "not-an-email",
        "team@",
        "@example.com",
        "team@example",
        "team @example.com",
        "a@b@example.com",
    ],
    "project_name": ['My "Quoted" Service', "O'Brien Service", "My `rm -rf` Service"],
    "description": ['Says "hello" to everyone', 'A "quoted" description'],
}

INVALID_CASES = [
    pytest.param(question, value, id=f"{question}={value}")
    for question, values in INVALID_ANSWERS.items()
    for value in values
]


def assert_rejected_before_rendering(copie: Any, result: Any, question: str) -> None:
    assert result.exception is not None, f"copier accepted an invalid {question}: {result}"
    assert result.exit_code != 0
    assert question in str(result.exception), (
        f"the error does not name the question: {result.exception!r}"
    )
    rendered = files_under(Path(copie.test_dir))
    assert rendered == [], f"files were rendered despite the invalid answer: {rendered}"


@pytest.mark.parametrize(("question", "value"), INVALID_CASES)
def test_invalid_answer_is_rejected_and_nothing_is_rendered(
    copie: Any, question: str, value: str
) -> None:
    result = copie.copy(extra_answers={question: value})
    assert_rejected_before_rendering(copie, result, question)


@pytest.mark.parametrize("slug", ["Bad_", "-x", "a", "ab--c"])
def test_invalid_slug_on_the_command_line_exits_non_zero_and_creates_nothing(
    template_dir: Path, tmp_path: Path, slug: str
) -> None:
    destination = tmp_path / "out"
    done = copier_copy_cli(template_dir, destination, {"project_slug": slug}, timeout=300)
    assert done.returncode != 0, explain(done)
    assert "project_slug" in done.stdout, explain(done)
    assert not destination.exists() or files_under(destination) == []


def test_defaults_render_with_no_prompt(template_dir: Path, tmp_path: Path) -> None:
    """`copier copy --trust --defaults`, with no terminal to answer on, renders the default project."""
    destination = tmp_path / "svc"
    done = copier_copy_cli(template_dir, destination)
    assert done.returncode == 0, explain(done)
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["project_name"] == "My Service"
    assert answers["project_slug"] == "my-service"
    assert answers["framework"] == "fastapi"
    assert answers["database"] == "sqlite"


def test_slug_is_derived_from_the_name(copie: Any) -> None:
    result = copie.copy(extra_answers={"project_name": "Acme Billing API"})
    project_dir_of(result)
    assert result.answers["project_slug"] == "acme-billing-api"


def test_package_name_is_computed_from_the_slug(copie: Any) -> None:
    result = copie.copy(extra_answers={"project_slug": "acme-billing-api"})
    project = project_dir_of(result)
    package = project / "src" / "acme_billing_api"
    src = (
        sorted(p.name for p in (project / "src").iterdir())
        if (project / "src").is_dir()
        else "no src/ folder"
    )
    assert (package / "__init__.py").is_file(), (
        f"expected src/acme_billing_api/__init__.py; src/ holds: {src}"
    )
    assert not (project / "src" / "acme-billing-api").exists()


def test_package_name_is_not_asked(template_dir: Path) -> None:
    """package_name is computed (`when: false`): never prompted, never stored in the answers file."""
    config = yaml.safe_load((template_dir / "copier.yml").read_text(encoding="utf-8"))
    question = config["package_name"]
    assert question.get("when") in (False, "false", "{{ false }}"), question


def test_package_name_is_not_stored_in_the_answers_file(copie: Any) -> None:
    result = copie.copy(extra_answers={"project_slug": "acme-billing-api"})
    project = project_dir_of(result)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert "package_name" not in answers
    assert answers["project_slug"] == "acme-billing-api"


# --- each framework's defaults ---------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_framework_renders_with_the_default_answers(copie: Any, framework: str) -> None:
    result = copie.copy(extra_answers={"framework": framework})
    assert result.exception is None, result.exception
