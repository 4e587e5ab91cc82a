"""MkDocs hooks of the Rampart documentation site (mkdocs.yml `hooks:`).

Two markers, replaced while the site builds, so that pages never restate by
hand what the repository already says:

- `<!-- rampart:checklist -->` becomes the security checklist overview: the
  per-framework checklist templates (template/docs/*security-checklist.md.jinja)
  are rendered with every option on, and their tables are merged into one
  table per section, with each framework's "where" cell side by side.
- `<!-- rampart:questions -->` becomes a table of copier.yml's questions: the
  values each accepts and its default for each framework, computed the way
  Copier computes them (in order, each default seeing the answers before it).
- `<!-- rampart:include PATH -->` becomes a fenced code block holding the file
  PATH of the repository (the Backstage examples, for instance).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# The overview is rendered with every option on: the template tests' richest answers.
sys.path.insert(0, str(REPO_ROOT / "tests"))
from combinations import RICHEST  # noqa: E402 - found through the line above

TEMPLATE_DOCS = REPO_ROOT / "template" / "docs"
FRAMEWORKS = {"fastapi": "FastAPI", "django": "Django"}

CHECKLIST_MARKER = "<!-- rampart:checklist -->"
QUESTIONS_MARKER = "<!-- rampart:questions -->"
INCLUDE_MARKER = re.compile(r"^<!-- rampart:include (?P<path>[\w./-]+) -->$", re.MULTILINE)
LANGUAGES = {".yaml": "yaml", ".yml": "yaml", ".py": "python", ".ts": "ts", ".toml": "toml"}

# Single changes to RICHEST whose "where" cells are shown too when they differ.
ALTERNATIVES: tuple[tuple[str, Any], ...] = (
    ("rate_limit_store", "database"),
    ("database", "sqlite"),
    ("payment_provider", "paddle"),
    ("payment_provider", "lemonsqueezy"),
    ("ci_provider", "gitlab"),
    ("ci_provider", "none"),
)

ROW = re.compile(r"^\|\s*(?P<id>[A-Z]+-\d+)\s*\|(?P<rest>.*)\|\s*$")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
SENTENCE_END = re.compile(r"(?<=[a-z0-9)`])\.(?:\s+(?=[A-Z`])|$)")


@dataclass
class Rule:
    id: str
    section: str
    text: str
    where: dict[str, str] = field(default_factory=dict)


def checklist_source(framework: str) -> Path:
    return TEMPLATE_DOCS / (
        f"{{% if framework == '{framework}' %}}security-checklist.md{{% endif %}}.jinja"
    )


def copier_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return config


def _environment() -> jinja2.Environment:
    envops: Mapping[str, Any] = copier_config().get("_envops", {})
    environment = jinja2.Environment(  # noqa: S701 - renders Markdown, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=bool(envops.get("keep_trailing_newline", True)),
        trim_blocks=bool(envops.get("trim_blocks", True)),
        lstrip_blocks=bool(envops.get("lstrip_blocks", True)),
    )
    # The two regular-expression filters copier.yml uses (Copier has them from
    # jinja2-ansible-filters).
    environment.filters["regex_replace"] = lambda value, pattern, repl="": re.sub(
        pattern, repl, str(value)
    )
    environment.filters["regex_search"] = lambda value, pattern: (
        m.group(0) if (m := re.search(pattern, str(value))) else None
    )
    return environment


def _default(
    environment: jinja2.Environment, question: Mapping[str, Any], answers: Mapping[str, Any]
) -> Any:
    default = question.get("default")
    if not isinstance(default, str) or "{{" not in default:
        return default
    rendered = environment.from_string(default).render(answers).strip()
    if question.get("type") == "bool":
        return rendered.lower() in {"true", "yes", "1"}
    return rendered


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"`{value}`"


def questions() -> dict[str, dict[str, Any]]:
    return {
        name: q
        for name, q in copier_config().items()
        if not name.startswith("_") and isinstance(q, dict)
    }


def default_answers(framework: str, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every answer as `copier copy --defaults --data ...` would have it: in order, each
    default seeing the answers before it."""
    environment = _environment()
    chosen = {**(given or {}), "framework": framework}
    answers: dict[str, Any] = {}
    for name, question in questions().items():
        answers[name] = chosen[name] if name in chosen else _default(environment, question, answers)
    return answers


def questions_table() -> str:
    """Every question of copier.yml: accepted values and the default for each framework."""
    defaults = {framework: default_answers(framework) for framework in FRAMEWORKS}
    header = " | ".join(f"default with {title}" for title in FRAMEWORKS.values())
    lines = [f"| question | values | {header} |", "|---|---|" + "---|" * len(FRAMEWORKS)]
    for name, question in questions().items():
        choices = question.get("choices")
        if isinstance(choices, dict):
            values = ", ".join(_shown(v) for v in choices.values())
        elif isinstance(choices, list):
            values = ", ".join(_shown(v) for v in choices)
        elif question.get("type") == "bool":
            values = "yes, no"
        else:
            values = "text" if question.get("when") is not False else "computed, not asked"
        if question.get("when") not in (None, True, False):
            values += f" (asked when `{str(question['when']).strip('{} ')}`)"
        if name == "framework":
            cells = [_shown(question.get("default"))] * len(FRAMEWORKS)
        else:
            cells = [_shown(defaults[fw][name]) for fw in FRAMEWORKS]
        lines.append(f"| [`{name}`](#{name}) | {values} | {' | '.join(cells)} |")
    return "\n".join(lines)


def render_checklist(framework: str, answers: Mapping[str, Any]) -> str:
    path = checklist_source(framework)
    try:
        template = _environment().from_string(path.read_text(encoding="utf-8"))
        return template.render({**answers, "framework": framework})
    except jinja2.TemplateError as exc:
        raise RuntimeError(
            f"the checklist overview could not render {path.relative_to(REPO_ROOT)}: {exc}"
            " (see RICHEST in docs/_hooks/rampart_docs.py)"
        ) from exc


def parse_rules(markdown: str) -> Iterator[tuple[str, str, str, str]]:
    """(section, id, rule, where) of every checklist row, in order."""
    section = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = ROW.match(line)
        if not match:
            continue
        cells = [c.strip() for c in CELL_SPLIT.split(match["rest"])]
        rule = cells[0] if cells else ""
        where = cells[1] if len(cells) > 1 else ""
        yield section, match["id"], rule, where


def first_sentence(text: str) -> str:
    match = SENTENCE_END.search(text)
    return text[: match.start() + 1] if match else text


def merged_rules() -> list[Rule]:
    rules: dict[str, Rule] = {}
    for framework in FRAMEWORKS:
        base: dict[str, str] = {}
        richest = default_answers(framework, RICHEST)
        for section, rid, text, where in parse_rules(render_checklist(framework, richest)):
            base[rid] = where
            rule = rules.setdefault(rid, Rule(rid, section, text))
            rule.where[framework] = where or "(nothing to implement)"
        for question, value in ALTERNATIVES:
            answers = default_answers(framework, {**RICHEST, question: value})
            for _, rid, _, where in parse_rules(render_checklist(framework, answers)):
                if rid in base and where and where != base[rid]:
                    rules[rid].where[framework] += f"; with `{question}: {value}`: {where}"
    return list(rules.values())


def checklist_tables() -> str:
    sections: dict[str, list[Rule]] = {}
    for rule in merged_rules():
        sections.setdefault(rule.section, []).append(rule)
    lines: list[str] = []
    names = " | ".join(f"{title}: where" for title in FRAMEWORKS.values())
    for section, rules in sections.items():
        lines += [f"## {section}", "", f"| id | rule, in short | {names} |", "|---|---|---|---|"]
        for rule in rules:
            cells = [rule.where.get(fw, "—") for fw in FRAMEWORKS]
            lines.append(f"| {rule.id} | {first_sentence(rule.text)} | {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def include(match: re.Match[str]) -> str:
    path = (REPO_ROOT / match["path"]).resolve()
    if REPO_ROOT not in path.parents or not path.is_file():
        raise FileNotFoundError(f"rampart:include names no file of the repository: {match['path']}")
    language = LANGUAGES.get(path.suffix, "text")
    body = path.read_text(encoding="utf-8").rstrip("\n")
    return f"```{language}\n{body}\n```"


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: replace the markers of a page before it becomes HTML."""
    if QUESTIONS_MARKER in markdown:
        markdown = markdown.replace(QUESTIONS_MARKER, questions_table())
    if CHECKLIST_MARKER in markdown:
        markdown = markdown.replace(CHECKLIST_MARKER, checklist_tables())
    return INCLUDE_MARKER.sub(include, markdown)
