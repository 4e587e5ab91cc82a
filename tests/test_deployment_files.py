"""The deployment files of a generated project, checked statically.

Dockerfile, .dockerignore, compose.yaml, the CI pipelines, the dependency
update configuration, SECURITY.md and catalog-info.yaml. There is no container
engine where the template is tested, so nothing here builds an image or starts
a container: every file is parsed and its rules are checked as data.

Checklist ids: SRV-02 (locked dependencies, update requests, dependency audit
in CI), SRV-03 (non-root slim container with a health check, nothing unneeded
installed or listening), DB-06 (no database published by the deployment
files), CI-02 (lint, types, tests with coverage, security linter and audit on
every push and pull or merge request).

A handful of combinations covers every value of the answers these files
depend on (ci_provider, database, rate_limit_store, python_version,
file_uploads) and every pair of ci_provider, database and rate_limit_store.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from plumbum import local

from helpers import project_dir_of

pytestmark = pytest.mark.fast

CASES: dict[str, dict[str, Any]] = {
    "github-postgresql-redis-py3.12": {
        "ci_provider": "github",
        "database": "postgresql",
        "rate_limit_store": "redis",
        "python_version": "3.12",
        "file_uploads": True,
    },
    "gitlab-postgresql-database-py3.13": {
        "ci_provider": "gitlab",
        "database": "postgresql",
        "rate_limit_store": "database",
        "python_version": "3.13",
        "file_uploads": False,
    },
    "github-sqlite-database-py3.11": {
        "ci_provider": "github",
        "database": "sqlite",
        "rate_limit_store": "database",
        "python_version": "3.11",
        "file_uploads": True,
    },
    # Unusual identity answers too: they end up in labels, YAML strings and the catalog owner.
    "gitlab-sqlite-redis-py3.11": {
        "ci_provider": "gitlab",
        "database": "sqlite",
        "rate_limit_store": "redis",
        "python_version": "3.11",
        "file_uploads": False,
        "mfa": False,
        "payment_provider": "none",
        "project_name": "Yes",
        "project_slug": "yes-ledger",
        "author_name": "Équipe Données & Co.",
        "description": "Keeps the ledger: #1 for money, 100% audited; no $HOME here.",
    },
    "django-github-sqlite-py3.12": {
        "framework": "django",
        "ci_provider": "github",
        "database": "sqlite",
        "rate_limit_store": "database",
        "python_version": "3.12",
        "file_uploads": False,
        "mfa": False,
        "payment_provider": "none",
    },
    "django-gitlab-sqlite-py3.11": {
        "framework": "django",
        "ci_provider": "gitlab",
        "database": "sqlite",
        "rate_limit_store": "database",
        "python_version": "3.11",
        "file_uploads": False,
        "mfa": False,
        "payment_provider": "none",
    },
    "none-postgresql-redis-py3.12": {
        "ci_provider": "none",
        "database": "postgresql",
        "rate_limit_store": "redis",
        "python_version": "3.12",
        "file_uploads": True,
    },
}

# The files this module owns, checked for clean rendering.
DEPLOYMENT_FILES = (
    "Dockerfile",
    ".dockerignore",
    "compose.yaml",
    "SECURITY.md",
    "catalog-info.yaml",
    ".github/workflows/ci.yml",
    ".github/dependabot.yml",
    ".gitlab-ci.yml",
    "renovate.json",
)


@dataclass(frozen=True)
class Generated:
    """A rendered project and the answers it was rendered with."""

    path: Path
    answers: Mapping[str, Any]

    def __getitem__(self, question: str) -> Any:
        return self.answers[question]

    @property
    def slug(self) -> str:
        return str(self.answers.get("project_slug", "my-service"))

    def text(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8")

    def yaml(self, name: str) -> Any:
        return yaml.safe_load(self.text(name))


def cases(*ci_providers: str) -> list[Any]:
    """The cases whose CI provider is one of `ci_providers` (all cases when none is given)."""
    return [
        pytest.param(answers, id=name, marks=pytest.mark.xdist_group(name))
        for name, answers in CASES.items()
        if not ci_providers or answers["ci_provider"] in ci_providers
    ]


def generate(
    request: pytest.FixtureRequest, render: Callable[[Mapping[str, Any]], Any]
) -> Generated:
    answers: dict[str, Any] = request.param
    # These checks read files only, so the post-generation `uv lock` adds nothing but time
    # (it may even look for an interpreter to download). Copier hands its tasks plumbum's
    # copy of the environment, taken at import, so the flag goes there, not to os.environ.
    with local.env(RAMPART_SKIP_LOCK="1"):
        result = render(answers)
    return Generated(project_dir_of(result), answers)


@pytest.fixture(params=cases())
def project(
    request: pytest.FixtureRequest, render: Callable[[Mapping[str, Any]], Any]
) -> Generated:
    return generate(request, render)


@pytest.fixture(params=cases("github", "gitlab"))
def ci_project(
    request: pytest.FixtureRequest, render: Callable[[Mapping[str, Any]], Any]
) -> Generated:
    """A project with a CI pipeline."""
    return generate(request, render)


@pytest.fixture(params=cases("github"))
def github_project(
    request: pytest.FixtureRequest, render: Callable[[Mapping[str, Any]], Any]
) -> Generated:
    return generate(request, render)


@pytest.fixture(params=cases("gitlab"))
def gitlab_project(
    request: pytest.FixtureRequest, render: Callable[[Mapping[str, Any]], Any]
) -> Generated:
    return generate(request, render)


# --- Dockerfile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
    assert not pending, "the Dockerfile ends with a continuation line"
    return instructions


def dockerfile_stages(project: Generated) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM instruction."""
    stages: list[list[Instruction]] = []
    for instruction in dockerfile_instructions(project.text("Dockerfile")):
        if instruction.keyword == "FROM":
            stages.append([])
        assert stages, f"{instruction.keyword} before the first FROM"
        stages[-1].append(instruction)
    return stages


def final_stage(project: Generated) -> list[Instruction]:
    return dockerfile_stages(project)[-1]


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK CMD arguments."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), args
    return value


def test_image_is_built_in_stages_from_the_slim_python_base_only(project: Generated) -> None:
    """SRV-03: a multi-stage build; every stage starts from the slim Python image of the chosen version."""
    stages = dockerfile_stages(project)
    assert len(stages) >= 2, f"expected a build stage and a runtime stage, found {len(stages)} FROM"
    names = set()
    for stage in stages:
        image, *alias = stage[0].args.split()
        assert image == f"python:{project['python_version']}-slim", f"FROM {stage[0].args}"
        if alias:
            assert alias[0].upper() == "AS" and len(alias) == 2, f"FROM {stage[0].args}"
            names.add(alias[1])
    for stage in stages:
        for instruction in stage:
            source = re.search(r"--from=(\S+)", instruction.args)
            if instruction.keyword == "COPY" and source:
                assert source.group(1) in names, f"COPY from another image: {instruction.args}"


def test_container_runs_as_a_non_root_user(project: Generated) -> None:
    """SRV-03: the final stage switches to a fixed, unprivileged numeric user."""
    users = [i.args for i in final_stage(project) if i.keyword == "USER"]
    assert users, "the final stage has no USER: the container would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}, f"USER {users[-1]}"
    assert user.isdigit() and int(user) >= 1000, (
        f"USER {users[-1]}: use a fixed numeric UID outside system ranges"
    )
    assert group not in {"root", "0"}, f"USER {users[-1]}: the primary group must not be root"


def test_final_stage_installs_no_build_or_download_tools(project: Generated) -> None:
    """SRV-03: nothing unneeded in the runtime image: no compiler, package install, curl or wget."""
    forbidden = re.compile(
        r"\b(curl|wget|build-essential|gcc|g\+\+|make|git|apt-get install|apt install|apk add|pip install|uv sync)\b"
    )
    offending = [
        f"{i.keyword} {i.args}"
        for i in final_stage(project)
        if i.keyword in {"RUN", "HEALTHCHECK"} and forbidden.search(i.args)
    ]
    assert not offending, "the final stage installs or uses build/download tools:\n" + "\n".join(
        offending
    )


def test_final_stage_copies_only_the_virtual_environment(project: Generated) -> None:
    """SRV-03: the runtime image receives the built environment, not the build context."""
    copies = [i.args for i in final_stage(project) if i.keyword in {"COPY", "ADD"}]
    assert copies, "the final stage copies nothing: where does the service come from?"
    for args in copies:
        assert args.startswith("--from="), f"the final stage copies from the build context: {args}"


def test_image_declares_a_health_check_on_the_health_route(project: Generated) -> None:
    """SRV-03: HEALTHCHECK probes /api/health with Python's urllib (no curl in the image)."""
    checks = [i.args for i in final_stage(project) if i.keyword == "HEALTHCHECK"]
    assert len(checks) == 1, f"expected one HEALTHCHECK in the final stage, found {checks}"
    options, marker, command = checks[0].partition("CMD ")
    assert marker, f"HEALTHCHECK without CMD: {checks[0]}"
    assert "--interval=" in options and "--timeout=" in options, f"HEALTHCHECK {checks[0]}"
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"], f"HEALTHCHECK CMD {argv}"
    assert "urllib.request" in argv[2] and "http://127.0.0.1:8000/api/health" in argv[2], argv[2]
    compile(argv[2], "HEALTHCHECK", "exec")


def test_image_exposes_port_8000_and_serves_the_console_script_in_production(
    project: Generated,
) -> None:
    """SRV-03: one port, the service's own console script, production settings and Python hygiene."""
    stage = final_stage(project)
    exposed = [i.args for i in stage if i.keyword == "EXPOSE"]
    assert exposed == ["8000"], f"EXPOSE {exposed}"
    commands = [exec_form(i.args) for i in stage if i.keyword == "CMD"]
    listen_on_every_interface = "0.0.0.0"  # noqa: S104 - inside the container, behind its published port
    assert commands[-1:] == [
        [project.slug, "serve", "--host", listen_on_every_interface, "--port", "8000"]
    ], commands
    assert not [i for i in stage if i.keyword == "ENTRYPOINT"], (
        "an ENTRYPOINT would wrap the console script"
    )
    env = " ".join(i.args for i in stage if i.keyword == "ENV")
    for setting in ("ENVIRONMENT=production", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        assert setting in env, f"the final stage does not set {setting}"


def test_image_installs_the_locked_dependencies_without_development_tools(
    project: Generated,
) -> None:
    """SRV-02: the image is built from uv.lock, never re-resolved, without the dev group."""
    build = dockerfile_stages(project)[0]
    copied = " ".join(i.args for i in build if i.keyword == "COPY")
    assert "uv.lock" in copied, "the build stage does not copy uv.lock"
    syncs = [i.args for i in build if i.keyword == "RUN" and "uv sync" in i.args]
    assert syncs, "the build stage never runs `uv sync`"
    for args in syncs:
        assert "--frozen" in args and "--no-dev" in args, f"RUN {args}"


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether the build context leaves out `path` (Docker's rule: the last matching pattern wins)."""

    def matches(pattern: str, candidate: str) -> bool:
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        parts = candidate.split("/")
        return any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1))

    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if matches(pattern.lstrip("!"), path):
            excluded = not negated
    return excluded


def test_secrets_and_local_state_stay_out_of_the_build_context(project: Generated) -> None:
    """SRV-03: .env, git history, local data and virtual environments never reach the image build."""
    patterns = [
        line.strip()
        for line in project.text(".dockerignore").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for private in (
        ".env",
        ".git/config",
        "data/app.db",
        ".venv/bin/python",
        "uploads/x.pdf",
        "tests/conftest.py",
    ):
        assert dockerignore_excludes(patterns, private), (
            f".dockerignore lets {private} into the build context"
        )
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        f"src/{project.slug.replace('-', '_')}/cli.py",
    ):
        assert not dockerignore_excludes(patterns, needed), (
            f".dockerignore leaves out {needed}, the build needs it"
        )


# --- compose.yaml -----------------------------------------------------------------------------------


def compose(project: Generated) -> dict[str, Any]:
    data = project.yaml("compose.yaml")
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), (
        "compose.yaml has no services"
    )
    return data


def service_networks(service: Mapping[str, Any]) -> list[str]:
    networks = service.get("networks", [])
    return sorted(networks) if isinstance(networks, (list, dict)) else []


def backing_services(project: Generated) -> list[str]:
    return [name for name in ("db", "redis", "clamav") if name in compose(project)["services"]]


# clamd also joins `updates`, the network its freshclam downloads signatures through.
EXTRA_NETWORKS = {"clamav": ["updates"]}


def test_compose_has_the_services_the_answers_call_for(project: Generated) -> None:
    """DB-06: app and migrate always; db and roles (which creates its roles) only with
    PostgreSQL, redis only with the Redis store, clamav (the upload scanner) only with uploads."""
    expected = {"app", "migrate"}
    if project["database"] == "postgresql":
        expected |= {"db", "roles"}
    if project["rate_limit_store"] == "redis":
        expected.add("redis")
    if project["file_uploads"]:
        expected.add("clamav")
    assert set(compose(project)["services"]) == expected


def test_database_and_redis_publish_no_ports(project: Generated) -> None:
    """DB-06: only the app publishes a port, and only on the loopback interface."""
    services = compose(project)["services"]
    published = {
        name: s["ports"] for name, s in services.items() if s.get("ports") and name != "app"
    }
    assert not published, f"services other than the app publish ports: {published}"
    assert services["app"].get("ports") == ["127.0.0.1:8000:8000"], services["app"].get("ports")


def test_database_and_redis_sit_only_on_the_internal_network(project: Generated) -> None:
    """DB-06: the backend network is internal; db, redis and migrate reach nothing else."""
    data = compose(project)
    networks = data.get("networks", {})
    assert networks.get("backend", {}).get("internal") is True, (
        "the backend network must be `internal: true`"
    )
    assert not (networks.get("public") or {}).get("internal"), (
        "the public network must not be internal"
    )
    services = data["services"]
    for name in [*backing_services(project), "migrate"]:
        expected = sorted(["backend", *EXTRA_NETWORKS.get(name, [])])
        assert service_networks(services[name]) == expected, (
            f"{name} is on {service_networks(services[name])}"
        )
    if "clamav" in services:
        on_updates = [n for n, s in services.items() if "updates" in service_networks(s)]
        assert on_updates == ["clamav"], f"only clamav may join `updates`: {on_updates}"
    assert service_networks(services["app"]) == ["backend", "public"], service_networks(
        services["app"]
    )


SECRET_KEY_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|AUTH", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/@:\s]*:([^@\s]+)@")
SUBSTITUTION = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?\}$")


def walk_strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        yield where, value


def test_compose_holds_no_literal_secrets(project: Generated) -> None:
    """DB-06 (and DB-07): passwords come from .env through ${...} substitution, never from the file."""
    data = compose(project)
    problems = []
    for name, service in data["services"].items():
        environment = service.get("environment", {})
        if isinstance(environment, list):
            environment = {item.partition("=")[0]: item.partition("=")[2] for item in environment}
        for key, value in environment.items():
            # An empty value keeps a secret that .env holds away from that service.
            if SECRET_KEY_NAME.search(key) and value and not SUBSTITUTION.match(str(value)):
                problems.append(f"{name}: {key}={value}")
        command = service.get("command") or []
        if isinstance(command, list):
            for flag, value in itertools.pairwise(command):
                if flag == "--requirepass" and not SUBSTITUTION.match(value):
                    problems.append(f"{name}: --requirepass {value}")
    for where, value in walk_strings(data):
        for password in URL_PASSWORD.findall(value):
            if not SUBSTITUTION.match(password):
                problems.append(f"{where}: a URL with a literal password")
    assert not problems, "literal secrets in compose.yaml:\n" + "\n".join(problems)
    assert "env_file" in data["services"]["app"], (
        "the app must take its settings and secrets from .env"
    )


def test_migrations_run_once_before_the_app_starts(project: Generated) -> None:
    """DB-06: a one-shot `migrate` service; the app waits for its success."""
    services = compose(project)["services"]
    assert services["migrate"]["command"] == [project.slug, "migrate"]
    assert services["migrate"].get("restart") == "no"
    depends = services["app"].get("depends_on", {})
    assert depends.get("migrate", {}).get("condition") == "service_completed_successfully", depends
    if project["database"] == "postgresql":
        # DB-04: `roles` makes the database's roles first, as the superuser, once the
        # database is healthy; `migrate` waits for it.
        roles = services["roles"]
        assert roles["command"] == [project.slug, "create-roles"]
        assert roles.get("restart") == "no"
        assert roles["depends_on"]["db"]["condition"] == "service_healthy"
        assert (
            services["migrate"]["depends_on"]["roles"]["condition"]
            == "service_completed_successfully"
        )


def test_backing_services_have_health_checks_that_the_app_waits_for(project: Generated) -> None:
    """SRV-03: db and redis declare health checks; the app starts once they are healthy."""
    services = compose(project)["services"]
    depends = services["app"].get("depends_on", {})
    for name in backing_services(project):
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
        assert depends.get(name, {}).get("condition") == "service_healthy", (
            f"the app does not wait for {name}"
        )


def test_app_runs_in_production_against_the_backing_services(project: Generated) -> None:
    """SRV-03 and DB-06: production settings, the database and Redis reached over the backend network."""
    services = compose(project)["services"]
    environment = services["app"]["environment"]
    assert environment["ENVIRONMENT"] == "production"
    assert str(environment["DEBUG"]).lower() == "false"
    url = environment["DATABASE_URL"]
    if project["database"] == "postgresql":
        # DB-04: the app connects as the role that may only read and write rows, and
        # gets neither the schema owner's nor the superuser's password.
        package = project.slug.replace("-", "_")
        assert url.startswith(
            f"postgresql+psycopg://{package}_app:${{DATABASE_APP_PASSWORD"
        ) and url.endswith("@db:5432/app"), url
        for hidden in ("MIGRATION_DATABASE_URL", "DATABASE_OWNER_PASSWORD", "POSTGRES_PASSWORD"):
            assert environment[hidden] == "", f"the app must not get {hidden}"
        owner_url = services["migrate"]["environment"]["MIGRATION_DATABASE_URL"]
        assert owner_url.startswith(f"postgresql+psycopg://{package}_owner:"), owner_url
        assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
    else:
        assert url == "sqlite:///./data/app.db", url
    if project["rate_limit_store"] == "redis":
        assert environment["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD"), environment[
            "REDIS_URL"
        ]
        assert environment["REDIS_URL"].endswith("@redis:6379/0"), environment["REDIS_URL"]
    else:
        assert "REDIS_URL" not in environment
    if project["file_uploads"]:
        assert environment["CLAMAV_ADDRESS"] == "tcp://clamav:3310"
        assert environment["UPLOAD_DIR"] == "/app/uploads"
    else:
        assert "CLAMAV_ADDRESS" not in environment


def test_app_container_is_hardened(project: Generated) -> None:
    """SRV-03: read-only root filesystem, no capabilities, no privilege escalation."""
    app = compose(project)["services"]["app"]
    assert app.get("read_only") is True
    assert app.get("cap_drop") == ["ALL"]
    assert "no-new-privileges:true" in app.get("security_opt", [])


def test_state_lives_in_named_volumes(project: Generated) -> None:
    """DB-06: data survives restarts in named volumes; no host directory is mounted."""
    data = compose(project)
    declared = set(data.get("volumes") or {})
    used = set()
    for name, service in data["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source")
            assert source and not source.startswith((".", "/", "~")), (
                f"{name} mounts a host path: {volume}"
            )
            used.add(source)
    assert used == declared, f"volumes used {sorted(used)} but declared {sorted(declared)}"
    expected = {"data"} if project["database"] == "sqlite" else {"pgdata"}
    if project["rate_limit_store"] == "redis":
        expected.add("redisdata")
    if project["file_uploads"]:
        expected |= {"uploads", "clamavdb"}
    assert declared == expected


# --- CI ---------------------------------------------------------------------------------------------

REQUIRED_STEPS = {
    "install from the lockfile": re.compile(r"\buv sync --(locked|frozen)\b"),
    "lint": re.compile(r"\buv run ruff check\b"),
    "format check": re.compile(r"\buv run ruff format --check\b"),
    "strict type check": re.compile(r"\buv run mypy\b"),
    "tests with coverage": re.compile(r"\buv run pytest\b.*--cov\b"),
    "security linter": re.compile(r"\bbandit\b.*\bsrc\b"),
    "dependency audit": re.compile(r"\bpip-audit\b.*(--requirement|-r)\s"),
}


def github_workflow(project: Generated) -> dict[Any, Any]:
    data = project.yaml(".github/workflows/ci.yml")
    assert isinstance(data, dict) and isinstance(data.get("jobs"), dict), "ci.yml has no jobs"
    return data


def gitlab_pipeline(project: Generated) -> dict[str, Any]:
    data = project.yaml(".gitlab-ci.yml")
    assert isinstance(data, dict), ".gitlab-ci.yml is not a mapping"
    return data


def gitlab_jobs(pipeline: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    reserved = {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
    }
    return {
        name: job
        for name, job in pipeline.items()
        if name not in reserved and not name.startswith(".") and isinstance(job, dict)
    }


def ci_commands(project: Generated) -> list[str]:
    """Every shell command the generated pipeline runs."""
    if project["ci_provider"] == "github":
        return [
            line
            for job in github_workflow(project)["jobs"].values()
            for step in job.get("steps", [])
            for line in str(step.get("run", "")).splitlines()
        ]
    pipeline = gitlab_pipeline(project)
    default_before = pipeline.get("default", {}).get("before_script", [])
    return [
        line
        for job in gitlab_jobs(pipeline).values()
        for key in ("before_script", "script")
        for line in job.get(key, default_before if key == "before_script" else [])
    ]


def test_ci_files_exist_only_for_the_chosen_provider(project: Generated) -> None:
    """CI-02 and SRV-02: the pipeline and the update bot of the chosen CI provider, and no other."""
    github = project["ci_provider"] == "github"
    gitlab = project["ci_provider"] == "gitlab"
    assert (project.path / ".github/workflows/ci.yml").is_file() is github
    assert (project.path / ".github/dependabot.yml").is_file() is github
    assert (project.path / ".github").exists() is github
    assert (project.path / ".gitlab-ci.yml").is_file() is gitlab
    assert (project.path / "renovate.json").is_file() is gitlab


def test_ci_runs_lint_types_tests_with_coverage_security_linter_and_audit(
    ci_project: Generated,
) -> None:
    """CI-02 and SRV-02: every required check is a step of the pipeline."""
    commands = ci_commands(ci_project)
    missing = [
        name
        for name, pattern in REQUIRED_STEPS.items()
        if not any(pattern.search(c) for c in commands)
    ]
    assert not missing, f"the pipeline lacks: {missing}\ncommands:\n" + "\n".join(commands)


def test_github_ci_runs_on_every_push_and_pull_request_with_read_only_permissions(
    github_project: Generated,
) -> None:
    """CI-02: triggered by every push and pull request, unfiltered; the token can only read."""
    workflow = github_workflow(github_project)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict) and {"push", "pull_request"} <= set(triggers), triggers
    assert not triggers["push"] and not triggers["pull_request"], (
        "push and pull_request must not be filtered"
    )
    assert workflow.get("permissions") == {"contents": "read"}, workflow.get("permissions")
    for name, job in workflow["jobs"].items():
        assert "permissions" not in job, f"job {name} widens the permissions"


def test_github_actions_are_pinned_to_a_major_version(github_project: Generated) -> None:
    """SRV-02: every action is referenced at a released major version, never a branch."""
    jobs = github_workflow(github_project)["jobs"].values()
    uses = [step["uses"] for job in jobs for step in job["steps"] if "uses" in step]
    assert uses, "no actions used"
    loose = [ref for ref in uses if not re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", ref)]
    assert not loose, f"actions not pinned to a major version: {loose}"


def test_gitlab_ci_runs_on_every_push_and_merge_request(gitlab_project: Generated) -> None:
    """CI-02: merge request pipelines, and branch pipelines for every other push."""
    rules = gitlab_pipeline(gitlab_project).get("workflow", {}).get("rules", [])
    conditions = [rule.get("if", "") for rule in rules if rule.get("when") != "never"]
    assert any('$CI_PIPELINE_SOURCE == "merge_request_event"' in c for c in conditions), rules
    assert "$CI_COMMIT_BRANCH" in conditions, rules


def ci_services(project: Generated) -> list[str]:
    """Images of the service containers of the test job."""
    if project["ci_provider"] == "github":
        services = github_workflow(project)["jobs"]["test"].get("services", {})
        return [str(service["image"]) for service in services.values()]
    services = gitlab_jobs(gitlab_pipeline(project))["test"].get("services", [])
    return [str(service["name"] if isinstance(service, dict) else service) for service in services]


def ci_test_environment(project: Generated) -> dict[str, Any]:
    if project["ci_provider"] == "github":
        return dict(github_workflow(project)["jobs"]["test"].get("env", {}))
    return dict(gitlab_jobs(gitlab_pipeline(project))["test"].get("variables", {}))


def test_ci_tests_against_postgresql_and_redis_exactly_when_chosen(ci_project: Generated) -> None:
    """CI-02: a PostgreSQL service container and TEST_DATABASE_URL exactly when database=postgresql,
    a Redis one and TEST_REDIS_URL exactly when rate_limit_store=redis."""
    images = ci_services(ci_project)
    environment = ci_test_environment(ci_project)
    postgres = ci_project["database"] == "postgresql"
    redis = ci_project["rate_limit_store"] == "redis"
    assert any(image.startswith("postgres:") for image in images) is postgres, images
    assert any(image.startswith("redis:") for image in images) is redis, images
    assert ("TEST_DATABASE_URL" in environment) is postgres, environment
    assert ("TEST_REDIS_URL" in environment) is redis, environment
    if postgres:
        assert environment["TEST_DATABASE_URL"].startswith("postgresql+psycopg://"), environment
    if redis:
        assert environment["TEST_REDIS_URL"].startswith("redis://"), environment


def test_ci_installs_a_pg_dump_as_new_as_the_server_exactly_when_postgresql(
    ci_project: Generated,
) -> None:
    """DB-05: the backup tests run pg_dump, which refuses a server newer than itself."""
    images = [image for image in ci_services(ci_project) if image.startswith("postgres:")]
    installs = [c for c in ci_commands(ci_project) if "postgresql-client-" in c]
    assert bool(installs) is (ci_project["database"] == "postgresql"), installs
    for image in images:
        server = image.removeprefix("postgres:").split("-")[0]
        assert any(f"postgresql-client-{server}" in c for c in installs), (image, installs)


def test_ci_tests_uploads_against_clamav_exactly_when_chosen(ci_project: Generated) -> None:
    """CI-02: a clamd service container and TEST_CLAMAV_ADDRESS exactly when file_uploads is on."""
    images = ci_services(ci_project)
    environment = ci_test_environment(ci_project)
    uploads = bool(ci_project["file_uploads"])
    assert any(image.startswith("clamav/clamav:") for image in images) is uploads, images
    assert ("TEST_CLAMAV_ADDRESS" in environment) is uploads, environment
    if uploads:
        assert environment["TEST_CLAMAV_ADDRESS"].startswith("tcp://"), environment


def test_ci_uses_the_chosen_python_version(ci_project: Generated) -> None:
    """CI-02: the pipeline tests with the Python version the image runs."""
    version = ci_project["python_version"]
    if ci_project["ci_provider"] == "github":
        found = {
            str(step["with"]["python-version"])
            for job in github_workflow(ci_project)["jobs"].values()
            for step in job["steps"]
            if str(step.get("uses", "")).startswith("actions/setup-python@")
        }
        assert found == {version}, found
    else:
        assert gitlab_pipeline(ci_project)["default"]["image"] == f"python:{version}-slim"


def test_dependency_updates_are_proposed_weekly(ci_project: Generated) -> None:
    """SRV-02: Dependabot (GitHub) or Renovate (GitLab) proposes updates every week."""
    if ci_project["ci_provider"] == "github":
        config = ci_project.yaml(".github/dependabot.yml")
        assert config["version"] == 2
        updates = {entry["package-ecosystem"]: entry for entry in config["updates"]}
        assert {"uv", "github-actions", "docker"} <= set(updates), sorted(updates)
        for ecosystem, entry in updates.items():
            assert entry["directory"] == "/" and entry["schedule"]["interval"] == "weekly", (
                ecosystem
            )
    else:
        config = json.loads(ci_project.text("renovate.json"))
        assert "config:recommended" in config["extends"], config["extends"]
        assert any("monday" in entry for entry in config["schedule"]), config["schedule"]
        assert config["lockFileMaintenance"]["enabled"] is True
        assert config.get("osvVulnerabilityAlerts") is True


# --- catalog-info.yaml and SECURITY.md ---------------------------------------------------------------

ENTITY_NAME = re.compile(r"[a-zA-Z0-9]([-_.]?[a-zA-Z0-9])*")
ENTITY_REF = re.compile(
    r"((component|group|user|system):)?([a-z0-9]([-_.]?[a-z0-9])*/)?[a-z0-9]([-_.]?[a-z0-9])*"
)
TAG = re.compile(r"[a-z0-9:+#]+(-[a-z0-9:+#]+)*")


def test_catalog_info_is_a_valid_backstage_component(project: Generated) -> None:
    """A Backstage Component entity: name from the slug, owner derived from the author, a service."""
    documents = list(yaml.safe_load_all(project.text("catalog-info.yaml")))
    assert len(documents) == 1, "catalog-info.yaml should hold exactly one entity"
    entity = documents[0]
    assert entity["apiVersion"] == "backstage.io/v1alpha1"
    assert entity["kind"] == "Component"
    metadata, spec = entity["metadata"], entity["spec"]
    assert metadata["name"] == project.slug
    assert ENTITY_NAME.fullmatch(metadata["name"]) and len(metadata["name"]) <= 63
    assert metadata["title"] == project.answers.get("project_name", "My Service")
    assert metadata["description"] == project.answers.get(
        "description", "A secure Python backend generated by Rampart."
    )
    for key, value in metadata.get("annotations", {}).items():
        assert isinstance(key, str) and isinstance(value, str) and ":" in value, (key, value)
    for tag in metadata.get("tags", []):
        assert isinstance(tag, str) and TAG.fullmatch(tag) and len(tag) <= 63, tag
    assert spec["type"] == "service"
    assert spec["lifecycle"] in {"experimental", "production", "deprecated"}
    owner = spec["owner"]
    assert (
        isinstance(owner, str) and ENTITY_REF.fullmatch(owner) and len(owner.split(":")[-1]) <= 63
    ), owner


def test_security_policy_names_the_contact_and_the_checklist(project: Generated) -> None:
    """SECURITY.md says where to report (the author's email) and points to the checklist."""
    policy = project.text("SECURITY.md")
    assert project.answers.get("author_email", "platform@example.com") in policy
    assert "docs/security-checklist.md" in policy
    assert "Supported versions" in policy


# --- clean rendering ----------------------------------------------------------------------------------


def test_deployment_files_look_hand_written(project: Generated) -> None:
    """No template syntax left, no trailing spaces, no runs of blank lines, one final newline."""
    problems = []
    for name in DEPLOYMENT_FILES:
        path = project.path / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if not text.endswith("\n") or text.endswith("\n\n") or text.startswith("\n"):
            problems.append(f"{name}: must start with content and end with exactly one newline")
        if "\n\n\n" in text:
            problems.append(f"{name}: two blank lines in a row")
        for number, line in enumerate(text.splitlines(), start=1):
            if line != line.rstrip():
                problems.append(f"{name}:{number}: trailing whitespace")
            checked = re.sub(r"\$\{\{.*?\}\}", "", line)  # GitHub Actions expressions belong there
            if any(marker in checked for marker in ("{{", "}}", "{%", "%}", "{#", "#}")):
                problems.append(f"{name}:{number}: template syntax: {line.strip()}")
    assert not problems, "\n".join(problems)
