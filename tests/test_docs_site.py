"""The documentation site (mkdocs.yml, docs/) and the Backstage examples (backstage/).

The site must build with `mkdocs build --strict` and no warning at all, must
document every question of copier.yml, and its checklist overview must hold
every id of the generated projects' checklists. The Backstage files are
checked statically (no Backstage runs here): they parse, they have the keys
Backstage requires, their references resolve, and the Copier answers they
pass are exactly copier.yml's questions, with the same choices.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import REPO_ROOT, explain, run

pytestmark = pytest.mark.fast

DOCS = REPO_ROOT / "docs"
BACKSTAGE = REPO_ROOT / "backstage"
CHECKLIST_SOURCES = sorted((REPO_ROOT / "template" / "docs").glob("*security-checklist.md*.jinja"))
CHECKLIST_ID = re.compile(r"^\|\s*([A-Z]+-\d{2})\s*\|", re.MULTILINE)
COPIER_ACTION = "rampart:copier:copy"
STEP_REFERENCE = re.compile(r"steps\[['\"]([^'\"]+)['\"]\]|steps\.([A-Za-z0-9_-]+)")
PARAMETER_REFERENCE = re.compile(r"parameters\.([A-Za-z0-9_]+)")
ENTITY_NAME = re.compile(r"^[a-z0-9A-Z]+([-_.][a-z0-9A-Z]+)*$")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def copier_questions() -> dict[str, dict[str, Any]]:
    config = load_yaml(REPO_ROOT / "copier.yml")
    return {k: v for k, v in config.items() if not k.startswith("_") and isinstance(v, dict)}


def asked_questions() -> dict[str, dict[str, Any]]:
    """The questions a user answers: computed values (`when: false`) are not asked."""
    return {k: v for k, v in copier_questions().items() if v.get("when") is not False}


def choice_values(question: dict[str, Any]) -> set[Any]:
    choices = question.get("choices", {})
    return set(choices.values()) if isinstance(choices, dict) else set(choices)


def strings_in(node: Any) -> list[str]:
    """Every string value below a YAML node."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings_in(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings_in(value)]
    return []


# --- the site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with --strict, which also turns every warning into a failure."""
    site_dir = tmp_path_factory.mktemp("site")
    done = run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--clean",
            "--site-dir",
            str(site_dir),
        ],
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, explain(done)
    warnings = [line for line in done.stdout.splitlines() if "WARNING" in line]
    assert warnings == [], explain(done)
    return site_dir


def test_the_site_builds_strictly_without_warnings(site: Path) -> None:
    assert (site / "index.html").is_file()
    pages = {p.parent.name for p in site.glob("*/index.html")}
    for name in ("quickstart", "questions", "security-checklist", "golden-path", "comparison"):
        assert name in pages, f"{name} was not built; built: {sorted(pages)}"


def test_no_marker_is_left_unreplaced(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "rampart:checklist" not in text, page
        assert "rampart:include" not in text, page


def test_the_checklist_overview_holds_every_id_of_both_frameworks(site: Path) -> None:
    assert len(CHECKLIST_SOURCES) == 2, CHECKLIST_SOURCES
    ids = {i for source in CHECKLIST_SOURCES for i in CHECKLIST_ID.findall(source.read_text())}
    assert len(ids) > 40, sorted(ids)
    overview = (site / "security-checklist" / "index.html").read_text(encoding="utf-8")
    cells = set(re.findall(r"<td>([A-Z]+-\d{2})</td>", overview))
    assert ids <= cells, f"missing from the overview: {sorted(ids - cells)}"


def test_the_golden_path_page_shows_the_tested_backstage_files(site: Path) -> None:
    page = (site / "golden-path" / "index.html").read_text(encoding="utf-8")
    assert "rampart-python-service" in page
    assert COPIER_ACTION in page
    assert "kind: Location" in page


def test_every_question_of_copier_yml_is_documented() -> None:
    page = (DOCS / "questions.md").read_text(encoding="utf-8")
    missing = [q for q in copier_questions() if f"### `{q}`" not in page]
    assert missing == [], f"docs/questions.md has no section for: {missing}"


def test_every_page_of_docs_is_in_the_navigation() -> None:
    config = load_yaml(REPO_ROOT / "mkdocs.yml")
    in_nav = {s for s in strings_in(config["nav"]) if s.endswith(".md")}
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages == in_nav, (
        f"not in nav: {sorted(pages - in_nav)}; missing: {sorted(in_nav - pages)}"
    )


# --- the Backstage software template -------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    document = load_yaml(BACKSTAGE / "template.yaml")
    assert isinstance(document, dict)
    return document


def properties_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: prop
        for page in template["spec"]["parameters"]
        for name, prop in page["properties"].items()
    }


def copier_step(template: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in template["spec"]["steps"] if s["action"] == COPIER_ACTION]
    assert len(steps) == 1, f"expected one {COPIER_ACTION} step"
    step: dict[str, Any] = steps[0]
    return step


def test_the_template_has_the_keys_backstage_requires(template: dict[str, Any]) -> None:
    assert template["apiVersion"] == "scaffolder.backstage.io/v1beta3"
    assert template["kind"] == "Template"
    name = template["metadata"]["name"]
    assert ENTITY_NAME.match(name) and len(name) <= 63, name
    spec = template["spec"]
    assert spec["owner"].startswith("group:"), spec["owner"]
    assert spec["type"] == "service"
    assert isinstance(spec["parameters"], list) and spec["parameters"]
    for page in spec["parameters"]:
        assert page.get("title"), page
        assert page["properties"], page
        for required in page.get("required", []):
            assert required in page["properties"], f"{required} is required but not a property"
        for name, prop in page["properties"].items():
            assert prop.get("title") and prop.get("type"), f"{name} needs a title and a type"
            if "enum" in prop and "default" in prop:
                assert prop["default"] in prop["enum"], name
            if "enumNames" in prop:
                assert len(prop["enumNames"]) == len(prop["enum"]), name
    assert isinstance(spec["steps"], list) and spec["steps"]
    for step in spec["steps"]:
        assert {"id", "name", "action"} <= step.keys(), step
    ids = [step["id"] for step in spec["steps"]]
    assert len(ids) == len(set(ids)), ids
    assert template["spec"]["output"]["links"], "the output should link to the new repository"


def test_every_reference_of_the_template_resolves(template: dict[str, Any]) -> None:
    spec = template["spec"]
    properties = properties_of(template)
    earlier: set[str] = set()
    for step in spec["steps"]:
        for text in strings_in(step.get("input", {})):
            for quoted, dotted in STEP_REFERENCE.findall(text):
                assert (quoted or dotted) in earlier, (
                    f"step {step['id']} reads a later or unknown step: {text}"
                )
            for parameter in PARAMETER_REFERENCE.findall(text):
                assert parameter in properties, (
                    f"step {step['id']} reads an unknown parameter: {text}"
                )
        earlier.add(step["id"])
    for text in strings_in(spec["output"]):
        for quoted, dotted in STEP_REFERENCE.findall(text):
            assert (quoted or dotted) in earlier, text


def test_the_template_passes_exactly_the_questions_of_copier_yml(template: dict[str, Any]) -> None:
    step = copier_step(template)
    assert step["input"]["url"] and step["input"]["vcsRef"], step["input"]
    answers = step["input"]["answers"]
    assert set(answers) == set(asked_questions()), (
        f"not passed: {sorted(set(asked_questions()) - set(answers))}; "
        f"not questions: {sorted(set(answers) - set(asked_questions()))}"
    )


def test_the_template_offers_the_choices_of_copier_yml(template: dict[str, Any]) -> None:
    questions = asked_questions()
    properties = properties_of(template)
    shared = set(properties) & set(questions)
    assert {"framework", "database", "payment_provider", "mfa"} <= shared, sorted(shared)
    for name in shared:
        question, prop = questions[name], properties[name]
        if "choices" in question:
            assert set(prop["enum"]) == choice_values(question), name
        expected_type = "boolean" if question["type"] == "bool" else "string"
        assert prop["type"] == expected_type, name


def test_the_copier_action_is_defined_where_the_docs_say() -> None:
    source = (BACKSTAGE / "rampart-copier-action.ts").read_text(encoding="utf-8")
    assert f"id: '{COPIER_ACTION}'" in source
    assert "'--trust'" in source and "'--vcs-ref'" in source and "'--data'" in source


def test_the_catalog_entry_registers_the_template() -> None:
    location = load_yaml(BACKSTAGE / "catalog-info.yaml")
    assert location["apiVersion"] == "backstage.io/v1alpha1"
    assert location["kind"] == "Location"
    assert ENTITY_NAME.match(location["metadata"]["name"])
    targets = location["spec"]["targets"]
    assert targets, location
    for target in targets:
        path = (BACKSTAGE / target).resolve()
        assert path.is_file(), f"the Location targets a missing file: {target}"
        assert load_yaml(path)["kind"] == "Template", target
