"""Every combination of the code-changing answers renders a clean, lint-free, type-correct project.

Each combination is rendered once per run, whichever xdist worker asks first
(the `render` fixture keeps renders in a folder shared by the workers), and
every rule below is checked on it. The xdist_group marks keep a family of
combinations (`Combination.family`) on one worker with `--dist loadgroup`, so
that its mypy cache stays warm from one to the next: a matter of speed only
(pytest-xdist 3.8 ignores the marks on pytest >= 9.2, pytest-xdist issue 1386).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from combinations import PAYMENT_PROVIDERS, Combination, all_code_combinations, by_family
from helpers import (
    clean_env,
    explain,
    harness_tool,
    project_dir_of,
    read_pyproject,
    run,
    walk_files,
)

pytestmark = pytest.mark.fast

COMBINATIONS = all_code_combinations()


@pytest.fixture(
    params=by_family(COMBINATIONS),
)
def combo(request: pytest.FixtureRequest) -> Combination:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def project(combo: Combination, render: Callable[[Mapping[str, Any]], Any]) -> Path:
    return project_dir_of(render(combo.answers))


def package_name(project: Path) -> str:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return str(answers["project_slug"]).replace("-", "_")


# --- files present or absent as the answers say -----------------------------------------
#
# One row per rule. `paths`: the file (or folder, ending in "/") must exist when
# `present_when(answers)` is true and none of them may exist when it is false;
# several paths mean "any one of these". `{package}` is the package name.
# Later issues add their rows here (Dockerfile, SECURITY.md, catalog-info.yaml,
# docs/security-checklist.md, scripts/backup, payments, uploads, ...).

Answers = Mapping[str, Any]


def always(_: Answers) -> bool:
    return True


def ci_is(provider: str) -> Callable[[Answers], bool]:
    def rule(answers: Answers) -> bool:
        return bool(answers["ci_provider"] == provider)

    rule.__name__ = f"ci_provider == {provider!r}"
    return rule


def fastapi_app(answers: Answers) -> bool:
    return bool(answers["framework"] == "fastapi")


def django_app(answers: Answers) -> bool:
    return bool(answers["framework"] == "django")


fastapi_app.__name__ = "framework == 'fastapi'"
django_app.__name__ = "framework == 'django'"


def mfa_on(answers: Answers) -> bool:
    return bool(answers["mfa"])


def payments_on(answers: Answers) -> bool:
    return bool(answers["payment_provider"] != "none")


payments_on.__name__ = "payment_provider != 'none'"


def sqlite_db(answers: Answers) -> bool:
    return bool(answers["database"] == "sqlite")


def postgresql_db(answers: Answers) -> bool:
    return bool(answers["database"] == "postgresql")


sqlite_db.__name__ = "database == 'sqlite'"
postgresql_db.__name__ = "database == 'postgresql'"


def uploads_on(answers: Answers) -> bool:
    return bool(answers["file_uploads"])


uploads_on.__name__ = "file_uploads"


def redis_counters(answers: Answers) -> bool:
    return bool(answers["rate_limit_store"] == "redis")


def database_counters(answers: Answers) -> bool:
    return bool(answers["rate_limit_store"] == "database")


redis_counters.__name__ = "rate_limit_store == 'redis'"
database_counters.__name__ = "rate_limit_store == 'database'"


@dataclass(frozen=True)
class FileRule:
    paths: tuple[str, ...]
    present_when: Callable[[Answers], bool]
    why: str


RENOVATE_CONFIGS = (
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".gitlab/renovate.json",
)

FILE_RULES: tuple[FileRule, ...] = (
    FileRule(("README.md",), always, "the project explains its two commands"),
    FileRule(("pyproject.toml",), always, "uv, ruff, mypy and pytest are configured there"),
    FileRule(("Makefile",), always, "`make dev` and `make test`"),
    FileRule(("compose.yaml",), always, "app, database and Redis for local runs"),
    FileRule((".copier-answers.yml",), always, "`copier update` needs the answers"),
    FileRule((".env.example",), always, "documents every setting"),
    FileRule((".env",), always, "fresh secrets written at generation"),
    FileRule(("src/{package}/__init__.py",), always, "the package is named after the slug"),
    FileRule(("src/{package}/cli.py",), always, "serve, migrate, check, create-admin, backups"),
    FileRule(("src/{package}/settings.py",), always, "settings and the production guard"),
    FileRule(("src/{package}/security/",), always, "the framework-free security primitives"),
    FileRule(("src/{package}/app.py",), fastapi_app, "the FastAPI application factory"),
    FileRule(("alembic.ini",), fastapi_app, "Alembic migrations"),
    FileRule(("src/{package}/auth/",), fastapi_app, "FastAPI's accounts and sessions"),
    FileRule(("src/{package}/config/",), django_app, "Django settings, URLs and the NinjaAPI"),
    FileRule(("src/{package}/accounts/",), django_app, "Django's accounts app"),
    FileRule(("src/{package}/admin_api/",), django_app, "Django's admin routes app"),
    FileRule(("tests/",), always, "the project ships its own test suite"),
    FileRule(("scripts/backup",), always, "backups for cron and operators (DB-05)"),
    FileRule(("scripts/restore",), always, "restores for operators (DB-05)"),
    FileRule(("src/{package}/backups/",), always, "backup and restore commands (DB-05)"),
    FileRule(("docs/backups.md",), always, "scheduling, off-site copies, restore drills"),
    FileRule(("docs/monitoring.md",), always, "event schema, collectors, fail2ban (LOG-01..03)"),
    FileRule(("src/{package}/monitoring/",), always, "security events, detection and alerts"),
    FileRule(("tests/test_backups.py",), always, "a restored backup holds every row (DB-05)"),
    FileRule(("src/{package}/backups/sqlite.py",), sqlite_db, "SQLite's online backup API"),
    FileRule(("src/{package}/backups/postgres.py",), postgresql_db, "pg_dump and pg_restore"),
    FileRule((".github/workflows/ci.yml",), ci_is("github"), "GitHub Actions pipeline"),
    FileRule((".github/dependabot.yml",), ci_is("github"), "GitHub comes with Dependabot"),
    FileRule(
        (".github/workflows/template-update.yml",), ci_is("github"), "weekly template updates"
    ),
    FileRule(("scripts/update_template.py",), always, "`make update` and its conflict checks"),
    FileRule(("docs/updating.md",), always, "how to take template updates"),
    FileRule((".gitlab-ci.yml",), ci_is("gitlab"), "GitLab CI pipeline"),
    FileRule(RENOVATE_CONFIGS, ci_is("gitlab"), "GitLab comes with Renovate"),
    FileRule(("src/{package}/payments/",), payments_on, "checkout, orders and webhook routes"),
    FileRule(("src/{package}/payments/catalogue.toml",), payments_on, "prices live on the server"),
    FileRule(
        ("src/{package}/security/payments/",),
        payments_on,
        "webhook verifiers, order state machine, idempotency keys",
    ),
    FileRule(("docs/payments.md",), payments_on, "how operators connect the provider"),
    FileRule(("tests/test_payments.py",), payments_on, "the payment rules PAY-01 to PAY-05"),
    FileRule(("tests/test_webhook_signatures.py",), payments_on, "the provider's signature scheme"),
    FileRule(("tests/test_order_states.py",), payments_on, "the order state machine"),
    FileRule(("src/{package}/files/",), uploads_on, "upload, list, download and delete routes"),
    FileRule(("src/{package}/security/sniffing.py",), uploads_on, "file types by content"),
    FileRule(("src/{package}/security/filenames.py",), uploads_on, "safe display names"),
    FileRule(("src/{package}/security/clamav.py",), uploads_on, "the clamd INSTREAM client"),
    FileRule(("docs/uploads.md",), uploads_on, "running clamd with the official signatures"),
    FileRule(("tests/test_uploads.py",), uploads_on, "UP-01 to UP-04 over HTTP, with clamd"),
    FileRule(("tests/test_upload_checks.py",), uploads_on, "the content, name and scan rules"),
    FileRule(("tests/upload_samples.py",), uploads_on, "real files and disguised ones"),
    FileRule(("src/{package}/mfa/",), mfa_on, "TOTP setup, enable, disable and verify routes"),
    FileRule(("src/{package}/security/totp.py",), mfa_on, "RFC 6238 codes with replay protection"),
    FileRule(("src/{package}/security/encryption.py",), mfa_on, "TOTP secrets encrypted at rest"),
    FileRule(("docs/mfa.md",), mfa_on, "enrolment, recovery and key rotation for operators"),
    FileRule(("tests/test_mfa.py",), mfa_on, "the rules AUTH-06 and DATA-01"),
    FileRule(("src/{package}/ratelimit/redis_store.py",), redis_counters, "atomic Redis counters"),
    FileRule(("src/{package}/ratelimit/store.py",), database_counters, "counters in the database"),
    FileRule(("docs/redis.md",), redis_counters, "Redis for operators: security, outages"),
    FileRule(("tests/test_redis_counters.py",), redis_counters, "RATE-02 against a real Redis"),
    FileRule(("src/{package}/postgres/",), postgresql_db, "roles, privileges, row security"),
    FileRule(("docs/database.md",), postgresql_db, "roles, row-level security and TLS"),
    FileRule(("tests/test_row_security.py",), postgresql_db, "DB-03 as the service's role"),
    FileRule(("tests/test_database_roles.py",), postgresql_db, "DB-04: what each role may do"),
    FileRule(("tests/test_database_tls.py",), postgresql_db, "DB-06: verify-full when remote"),
)


def path_exists(project: Path, path: str) -> bool:
    return (project / path).is_dir() if path.endswith("/") else (project / path).is_file()


def file_rule_violations(project: Path, answers: Answers) -> list[str]:
    package = package_name(project)
    problems = []
    for rule in FILE_RULES:
        paths = [p.format(package=package) for p in rule.paths]
        existing = [p for p in paths if path_exists(project, p)]
        wanted = rule.present_when(answers)
        condition = getattr(rule.present_when, "__name__", "rule")
        if wanted and not existing:
            problems.append(f"missing {' or '.join(paths)} ({rule.why}; {condition})")
        if not wanted and existing:
            problems.append(f"unexpected {', '.join(existing)} ({rule.why}; only when {condition})")
    return problems


def test_files_are_present_or_absent_as_the_answers_say(project: Path, combo: Combination) -> None:
    problems = file_rule_violations(project, combo.answers)
    assert not problems, "\n".join(problems)


# Only the chosen provider's code is rendered: its modules carry its name
# (`security/payments/stripe_webhooks.py`, ...), so no file or folder may be
# named after another provider.
PROVIDERS = tuple(p for p in PAYMENT_PROVIDERS if p != "none")


def other_provider_files(project: Path, chosen: str) -> list[str]:
    others = [p for p in PROVIDERS if p != chosen]
    found = []
    for path in walk_files(project):
        rel = path.relative_to(project)
        if any(other in part.lower() for part in rel.parts for other in others):
            found.append(str(rel))
    return found


def test_no_module_of_another_payment_provider(project: Path, combo: Combination) -> None:
    found = other_provider_files(project, combo["payment_provider"])
    assert not found, (
        f"payment_provider={combo['payment_provider']!r} rendered files of other providers:\n"
        + "\n".join(found)
    )


# --- no leftover Jinja -----------------------------------------------------------------------

JINJA_MARKERS = ("{{", "{%", "{#")


def jinja_leftovers(project: Path) -> list[str]:
    found = []
    for path in walk_files(project):
        rel = path.relative_to(project)
        if path.name.endswith(".jinja") or any(m in str(rel) for m in JINJA_MARKERS):
            found.append(f"{rel}: Jinja in the file name")
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary files are copied, never rendered
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            # GitHub Actions expressions `${{ ... }}` are meant to be there.
            checked = line.replace("${{", "") if rel.parts[0] == ".github" else line
            if any(m in checked for m in JINJA_MARKERS):
                found.append(f"{rel}:{number}: {line.strip()[:160]}")
    return found


def test_rendered_tree_has_no_leftover_jinja(project: Path) -> None:
    leftovers = jinja_leftovers(project)
    assert not leftovers, "unrendered Jinja:\n" + "\n".join(leftovers[:50])


# --- no trace of payments when payments are off ------------------------------------------
#
# `payment_provider: none` renders no payment code, setting, dependency, doc or
# test. Every rendered text file is searched for the words payments bring.
# Not searched: uv.lock (third-party metadata) and .copier-answers.yml, which
# records `payment_provider: none` by design. Allowed: `actions/checkout`, the
# GitHub Action that clones the repository in CI, and the alert webhook of
# security monitoring (ALERT_WEBHOOK_URL, docs/monitoring.md), which every project has.

PAYMENT_WORDS = re.compile(r"stripe|paddle|lemon ?squeezy|payment_|checkout|webhook", re.IGNORECASE)
NOT_PAYMENT_PHRASES = re.compile(r"actions/checkout@|alert.?webhook", re.IGNORECASE)
NOT_SEARCHED = frozenset({"uv.lock", ".copier-answers.yml"})
# .env holds fresh random secrets, in which any short word may turn up by chance
# ("mFa" in a 64-character key): only its setting names are searched.
NAMES_ONLY = frozenset({".env"})


def word_traces(project: Path, words: re.Pattern[str], allowed: re.Pattern[str]) -> list[str]:
    """Every file name and line of the project where `words` occur outside `allowed`."""
    found = []
    for path in walk_files(project):
        rel = path.relative_to(project)
        if rel.as_posix() in NOT_SEARCHED:
            continue
        if words.search(rel.as_posix()):
            found.append(f"{rel}: in the file name")
        data = path.read_bytes()
        if b"\0" in data:
            continue
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            searched = line.partition("=")[0] if rel.as_posix() in NAMES_ONLY else line
            if words.search(allowed.sub("", searched)):
                found.append(f"{rel}:{number}: {line.strip()[:160]}")
    return found


def payment_traces(project: Path) -> list[str]:
    return word_traces(project, PAYMENT_WORDS, NOT_PAYMENT_PHRASES)


NO_PAYMENT_COMBINATIONS = [c for c in COMBINATIONS if c["payment_provider"] == "none"]


@pytest.mark.parametrize(
    "combo",
    by_family(NO_PAYMENT_COMBINATIONS),
)
def test_no_payment_trace_when_payments_are_off(project: Path) -> None:
    traces = payment_traces(project)
    assert not traces, "payment words in a project without payments:\n" + "\n".join(traces)


# `mfa: false` renders no MFA route, column, setting, dependency, doc or test.
# Allowed: `mfa_enabled`, a field of the contract's `{user}` (always false here).
MFA_WORDS = re.compile(r"mfa|totp|otpauth|recovery.code|encryption.key|second factor", re.I)
NOT_MFA_PHRASES = re.compile(r"mfa_enabled", re.IGNORECASE)
NO_MFA_COMBINATIONS = [c for c in COMBINATIONS if not c["mfa"]]


@pytest.mark.parametrize(
    "combo",
    by_family(NO_MFA_COMBINATIONS),
)
def test_no_mfa_trace_when_mfa_is_off(project: Path) -> None:
    traces = word_traces(project, MFA_WORDS, NOT_MFA_PHRASES)
    assert not traces, "MFA words in a project without MFA:\n" + "\n".join(traces)


# `file_uploads: false` renders no upload route, table, setting, dependency, compose
# service, doc or test. Allowed: the `/uploads/` line of .gitignore, which keeps local
# data out of git whatever the answers, and Django's names for its request body
# limits (DATA_UPLOAD_MAX_MEMORY_SIZE, FILE_UPLOAD_MAX_MEMORY_SIZE), which every
# Django project sets.
UPLOAD_WORDS = re.compile(
    r"upload|clamav|clamd|malware|eicar|python.multipart|sniffing|/api/files|\.files\b|\"files\"",
    re.IGNORECASE,
)
NOT_UPLOAD_PHRASES = re.compile(r"^/uploads/$|\b(DATA|FILE)_UPLOAD_MAX_MEMORY_SIZE\b")
NO_UPLOAD_COMBINATIONS = [c for c in COMBINATIONS if not c["file_uploads"]]


@pytest.mark.parametrize(
    "combo",
    by_family(NO_UPLOAD_COMBINATIONS),
)
def test_no_upload_trace_when_uploads_are_off(project: Path) -> None:
    traces = word_traces(project, UPLOAD_WORDS, NOT_UPLOAD_PHRASES)
    assert not traces, "upload words in a project without uploads:\n" + "\n".join(traces)


# `rate_limit_store: database` renders no Redis client, setting, dependency, compose
# service, doc or test. Allowed: "Redistribution" in a licence text. Not searched:
# tests/test_delivery.py, which checks compose.yaml against whatever answers a project
# records, and so names every data store it may meet.
REDIS_WORDS = re.compile(r"\bredis(?!tribut)|valkey|rate_limit_fail_open", re.IGNORECASE)
NOT_REDIS_PHRASES = re.compile(r"(?!)")
REDIS_AGNOSTIC_FILES = ("tests/test_delivery.py",)
DATABASE_COUNTER_COMBINATIONS = [c for c in COMBINATIONS if c["rate_limit_store"] == "database"]


@pytest.mark.parametrize(
    "combo",
    by_family(DATABASE_COUNTER_COMBINATIONS),
)
def test_no_redis_trace_when_counters_live_in_the_database(project: Path) -> None:
    traces = [
        trace
        for trace in word_traces(project, REDIS_WORDS, NOT_REDIS_PHRASES)
        if not trace.startswith(REDIS_AGNOSTIC_FILES)
    ]
    assert not traces, "Redis words in a project without Redis:\n" + "\n".join(traces)


# `database: sqlite` renders no database role, row-level security, bypass or TLS
# setting: SQLite has no roles and no network. Every rendered text file is searched.
ROLE_WORDS = re.compile(
    r"row.level|\brls\b|set_config|app\.user_id|system.access|sslmode|verify-full"
    r"|migration_database_url|bootstrap_database_url|create.roles|schema.owner|schema's owner",
    re.IGNORECASE,
)
NOT_ROLE_PHRASES = re.compile(r"(?!)")
SQLITE_COMBINATIONS = [c for c in COMBINATIONS if c["database"] == "sqlite"]


@pytest.mark.parametrize(
    "combo",
    by_family(SQLITE_COMBINATIONS),
)
def test_no_role_or_row_security_trace_on_sqlite(project: Path) -> None:
    traces = word_traces(project, ROLE_WORDS, NOT_ROLE_PHRASES)
    assert not traces, "PostgreSQL role words in a SQLite project:\n" + "\n".join(traces)


# --- configuration files parse ---------------------------------------------------------------


class YamlLoader(yaml.SafeLoader):
    """yaml.SafeLoader plus GitLab CI's `!reference` tag."""


YamlLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def files_with_suffix(project: Path, *suffixes: str) -> list[Path]:
    return [p for p in walk_files(project) if p.suffix in suffixes]


def test_every_toml_file_parses(project: Path) -> None:
    errors = []
    for path in files_with_suffix(project, ".toml"):
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            errors.append(f"{path.relative_to(project)}: {exc}")
    assert not errors, "\n".join(errors)


def test_every_yaml_file_parses(project: Path) -> None:
    errors = []
    for path in files_with_suffix(project, ".yml", ".yaml"):
        try:
            list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=YamlLoader))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            errors.append(f"{path.relative_to(project)}: {exc}")
    assert not errors, "\n".join(errors)


def test_every_json_file_parses(project: Path) -> None:
    errors = []
    for path in files_with_suffix(project, ".json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            errors.append(f"{path.relative_to(project)}: {exc}")
    assert not errors, "\n".join(errors)


# --- lint and types ----------------------------------------------------------------------------


def test_ruff_check_is_clean(project: Path) -> None:
    done = run(
        [harness_tool("ruff"), "check", "--no-cache", "--output-format=concise", "."],
        cwd=project,
        env=clean_env(),
        timeout=300,
    )
    assert done.returncode == 0, explain(done)


def test_ruff_format_is_clean(project: Path) -> None:
    done = run(
        [harness_tool("ruff"), "format", "--check", "--no-cache", "."],
        cwd=project,
        env=clean_env(),
        timeout=300,
    )
    assert done.returncode == 0, explain(done)


def test_mypy_is_configured_strict(project: Path) -> None:
    mypy = read_pyproject(project).get("tool", {}).get("mypy", {})
    assert mypy.get("strict") is True, (
        f"[tool.mypy] in pyproject.toml must set strict = true, found {mypy}"
    )


def mypy_targets(project: Path) -> list[str]:
    """Use the project's own `[tool.mypy] files` when set, else its src/ and tests/."""
    configured = read_pyproject(project).get("tool", {}).get("mypy", {}).get("files")
    if configured:
        return []
    targets = [name for name in ("src", "tests") if (project / name).is_dir()]
    assert targets, "nothing to type-check: no src/ or tests/ folder and no [tool.mypy] files"
    return targets


def test_mypy_strict_is_clean(
    project: Path,
    combo: Combination,
    project_mypy: Callable[[str], Path],
    mypy_cache_dir: Path,
) -> None:
    mypy = project_mypy(combo["framework"])
    done = run(
        [
            str(mypy),
            "--cache-dir",
            str(mypy_cache_dir / combo["framework"]),
            *mypy_targets(project),
        ],
        cwd=project,
        env=clean_env(),
        timeout=900,
    )
    assert done.returncode == 0, explain(done)


# --- what the post-generation task leaves behind -------------------------------------------------


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["git", *args], cwd=project, env=clean_env(), timeout=60)


def test_env_file_is_private_and_never_committed(project: Path) -> None:
    env_file = project / ".env"
    assert env_file.is_file(), ".env was not written at generation"
    mode = stat.S_IMODE(os.stat(env_file).st_mode)
    assert mode & 0o077 == 0, f".env is readable by others (mode {oct(mode)})"
    placeholders = [
        line.partition("=")[0]
        for line in env_file.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#") and line.partition("=")[2].strip() == "change-me"
    ]
    assert not placeholders, f".env still holds change-me placeholders: {placeholders}"
    tracked = git(project, "ls-files", "--error-unmatch", ".env")
    assert tracked.returncode != 0, ".env is committed to git"
    ignored = git(project, "check-ignore", "-q", ".env")
    assert ignored.returncode == 0, ".env is not git-ignored"


def test_project_is_a_git_repository_with_a_clean_first_commit(project: Path) -> None:
    log = git(project, "log", "--oneline")
    assert log.returncode == 0, explain(log)
    assert len(log.stdout.strip().splitlines()) == 1, log.stdout
    status = git(project, "status", "--porcelain")
    assert status.stdout.strip() == "", f"uncommitted files after generation:\n{status.stdout}"
