"""The delivery rules: the Dockerfile, compose.yaml, the lockfile and the answers file.

Nothing here builds an image or starts a container: each file is read as
data and held to the rules of docs/security-checklist.md. Edit one of these
files in a way that breaks a rule and this suite fails, naming the rule.

The CI configuration has its own rules in test_ci.py, which exists only when
a CI provider was chosen.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from helpers import PROJECT, answers, load_yaml, read

# Names of settings that hold secrets, in compose.yaml, .env and .env.example.
SECRET_SETTING = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|AUTH|_KEY$|^KEY$", re.IGNORECASE)
# A value taken from .env by compose: `${NAME}` or `${NAME:?message}`, never with a default.
SUBSTITUTION = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}")
# The password of a URL such as postgresql://user:password@host/db.
URL_PASSWORD = re.compile(r"://[^/@:\s]*:(\$\{[^}]*\}|[^@\s/]+)@")
PLACEHOLDER = "change-me"


def env_file_values(name: str) -> dict[str, str]:
    """The NAME=value lines of a .env-style file."""
    values = {}
    for line in read(name).splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def local_secrets() -> list[str]:
    """The secret values of this working copy's .env, when it has one (CI has none)."""
    if not (PROJECT / ".env").is_file():
        return []
    return [
        value
        for key, value in env_file_values(".env").items()
        if SECRET_SETTING.search(key) and len(value) >= 8 and value != PLACEHOLDER
    ]


# --- Dockerfile (SRV-03) ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass(frozen=True)
class Stage:
    image: str
    name: str
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]


def dockerfile_stages() -> list[Stage]:
    """The stages of the Dockerfile: comments dropped, continuation lines joined."""
    instructions = []
    pending = ""
    for raw in read("Dockerfile").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        pending = ""
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(words[0], name.lower(), []))
        elif stages:
            stages[-1].instructions.append(instruction)
    assert stages, "the Dockerfile has no FROM"
    return stages


def runtime_stage() -> Stage:
    return dockerfile_stages()[-1]


@pytest.mark.checklist("SRV-03")
def test_image_is_built_in_stages_and_runs_from_a_slim_image() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "build in one stage and run in another, so build tools stay behind"
    runtime = stages[-1]
    earlier = {stage.name for stage in stages[:-1]}
    assert runtime.image.lower() not in earlier, (
        f"the final stage starts FROM {runtime.image}, an earlier stage, and inherits its tools"
    )
    assert re.search(r":[^@/]*slim", runtime.image), (
        f"the final stage starts FROM {runtime.image}, not a slim image"
    )


@pytest.mark.checklist("SRV-03")
def test_container_runs_as_a_numeric_non_root_user() -> None:
    users = runtime_stage().all("USER")
    assert users, "the final stage sets no USER, so the container runs as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit(), f"USER {users[-1]}: use a numeric user id (for runAsNonRoot checks)"
    assert int(user) != 0, f"USER {users[-1]}: user id 0 is root"
    assert group not in {"0", "root"}, f"USER {users[-1]}: the group must not be root"


@pytest.mark.checklist("SRV-03")
def test_image_checks_its_own_health_on_api_health() -> None:
    checks = runtime_stage().all("HEALTHCHECK")
    assert checks, "the final stage has no HEALTHCHECK"
    assert checks[-1].upper() != "NONE", "HEALTHCHECK NONE turns the health check off"
    assert "/api/health" in checks[-1], f"the HEALTHCHECK does not probe /api/health: {checks[-1]}"


@pytest.mark.checklist("SRV-03")
def test_image_exposes_only_port_8000() -> None:
    ports = {port.split("/")[0] for args in runtime_stage().all("EXPOSE") for port in args.split()}
    assert ports == {"8000"}, f"the final stage exposes {sorted(ports)}; only 8000 is served"


@pytest.mark.checklist("SRV-03")
def test_image_installs_no_download_tools_or_compilers() -> None:
    tool = re.compile(
        r"(?<![\w.-])(curl|wget|gcc|g\+\+|clang|build-essential|make|cmake|cargo|rustc)(?![\w.-])"
    )
    found = [
        f"{i.keyword} {i.args}"
        for i in runtime_stage().instructions
        if i.keyword in {"RUN", "HEALTHCHECK", "CMD", "ENTRYPOINT"} and tool.search(i.args)
    ]
    assert not found, "the final stage installs or uses build or download tools:\n" + "\n".join(
        found
    )


# --- compose.yaml (DB-06) ------------------------------------------------------------------

DATA_STORES = {"db", "database", "postgres", "postgresql", "redis", "valkey", "mysql", "mariadb"}


def compose() -> dict[str, Any]:
    data = load_yaml("compose.yaml")
    assert isinstance(data.get("services"), dict), "compose.yaml has no services"
    return data


def image_name(service: Mapping[str, Any]) -> str:
    """`postgres` for docker.io/library/postgres:17-alpine."""
    return str(service.get("image", "")).split("@")[0].rsplit("/", 1)[-1].split(":")[0]


def data_services() -> dict[str, dict[str, Any]]:
    """The database and Redis services of compose.yaml, found by name or by image."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if name in DATA_STORES or image_name(service) in DATA_STORES
    }


@pytest.mark.checklist("DB-06")
def test_compose_has_the_database_and_redis_services_the_answers_call_for() -> None:
    """The tests below find the services to check (they would pass vacuously otherwise)."""
    images = {image_name(service) for service in data_services().values()}
    if answers().get("database") == "postgresql":
        assert "postgres" in images, "no postgres service found in compose.yaml"
    if answers().get("rate_limit_store") == "redis":
        assert images & {"redis", "valkey"}, "no redis service found in compose.yaml"


@pytest.mark.checklist("DB-06")
def test_database_and_redis_publish_no_port() -> None:
    for name, service in data_services().items():
        assert not service.get("ports"), f"{name} publishes {service['ports']}: remove `ports`"
        assert service.get("network_mode") != "host", f"{name} shares the host's network"


@pytest.mark.checklist("DB-06")
def test_database_and_redis_sit_only_on_internal_networks() -> None:
    declared = compose().get("networks") or {}
    for name, service in data_services().items():
        networks = service.get("networks")
        assert networks, f"{name} is on compose's default network, which is not internal"
        for network in networks:
            assert (declared.get(network) or {}).get("internal") is True, (
                f"{name} joins the network {network}, which is not `internal: true`"
            )


def strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a parsed YAML document, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        yield where, value


@pytest.mark.checklist("DB-06")
def test_compose_holds_no_literal_password() -> None:
    problems = []
    for name, service in compose()["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(str(item).partition("=")[::2] for item in environment)
        for key, value in environment.items():
            # An empty value keeps a secret of .env (env_file) from that service.
            if SECRET_SETTING.search(key) and value and not SUBSTITUTION.fullmatch(str(value)):
                problems.append(f"{name}: {key}: {value}")
        command = service.get("command") or []
        words = command.split() if isinstance(command, str) else [str(w) for w in command]
        for flag, value in itertools.pairwise(words):
            if flag == "--requirepass" and not SUBSTITUTION.fullmatch(value):
                problems.append(f"{name}: --requirepass {value}")
    for where, text in strings(compose(), "compose"):
        for password in URL_PASSWORD.findall(text):
            if not SUBSTITUTION.fullmatch(password):
                problems.append(f"{where}: a URL with a literal password")
    text = read("compose.yaml")
    problems += ["a secret of .env is written out" for secret in local_secrets() if secret in text]
    assert not problems, (
        "compose.yaml must take passwords from .env as ${NAME} or ${NAME:?message}:\n"
        + "\n".join(problems)
    )


# --- The lockfile and dependency updates (SRV-02) ------------------------------------------


def normalized(requirement: str) -> str:
    """The project name of a requirement, normalized: `Psycopg[binary]>=3` -> `psycopg`."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"not a requirement: {requirement!r}"
    return re.sub(r"[-_.]+", "-", match[1]).lower()


@pytest.mark.checklist("SRV-02")
def test_dependencies_are_locked_in_uv_lock() -> None:
    lock_path = PROJECT / "uv.lock"
    if not lock_path.is_file():
        pytest.fail("uv.lock is missing: run `uv lock` and commit uv.lock")
    pyproject = tomllib.loads(read("pyproject.toml"))
    wanted = {normalized(r) for r in pyproject["project"].get("dependencies", [])}
    for group in pyproject.get("dependency-groups", {}).values():
        wanted |= {normalized(r) for r in group if isinstance(r, str)}
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    locked = {normalized(package["name"]) for package in lock.get("package", [])}
    assert normalized(pyproject["project"]["name"]) in locked, "uv.lock is not this project's lock"
    missing = sorted(wanted - locked)
    assert not missing, f"uv.lock does not pin {missing}: run `uv lock` and commit uv.lock"


@pytest.mark.checklist("SRV-02")
def test_image_installs_exactly_the_locked_dependencies() -> None:
    syncs = [
        args for stage in dockerfile_stages() for args in stage.all("RUN") if "uv sync" in args
    ]
    assert syncs, "the Dockerfile does not install with `uv sync`"
    for args in syncs:
        assert re.search(r"--(frozen|locked)\b", args), f"`{args}` may resolve anew: add --frozen"
        assert "--no-dev" in args, f"`{args}` installs the dev tools into the image"


# --- CI (CI-02, SRV-02) ---------------------------------------------------------------------


@pytest.mark.checklist("CI-03")
def test_answers_file_records_where_copier_update_starts_from() -> None:
    recorded = answers()
    for key in ("_src_path", "_commit"):
        assert recorded.get(key), f".copier-answers.yml has no {key}: `copier update` needs it"
        assert isinstance(recorded[key], str), f"{key} in .copier-answers.yml is not a string"


@pytest.mark.checklist("CI-03", "DB-07")
def test_answers_file_holds_no_secret() -> None:
    secret_name = re.compile(
        r"password|passwd|secret|token|api_?key|private_?key|credential", re.IGNORECASE
    )
    named = [key for key in answers() if secret_name.search(str(key))]
    assert not named, f".copier-answers.yml holds secret settings: {named}"
    text = read(".copier-answers.yml")
    leaked = [secret for secret in local_secrets() if secret in text]
    assert not leaked, ".copier-answers.yml holds a secret of .env"


# --- .env and .env.example (DB-07) -----------------------------------------------------------


def ignores(ignore_file: str, path: str) -> bool:
    """Whether a top-level .gitignore or .dockerignore leaves out `path` (last match wins)."""
    ignored = False
    for line in read(ignore_file).splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        glob = pattern.lstrip("!").strip("/").removeprefix("**/")
        if fnmatch.fnmatchcase(path, glob):
            ignored = not pattern.startswith("!")
    return ignored


@pytest.mark.checklist("DB-07")
def test_env_is_git_ignored_and_env_example_is_not() -> None:
    assert ignores(".gitignore", ".env"), ".gitignore must ignore .env: it holds the secrets"
    assert not ignores(".gitignore", ".env.example"), ".env.example must be committed"


@pytest.mark.checklist("DB-07", "SRV-03")
def test_env_stays_out_of_the_image_build() -> None:
    assert ignores(".dockerignore", ".env"), ".dockerignore must leave .env out of the image"


@pytest.mark.checklist("DB-07")
def test_env_example_holds_only_placeholders_for_secrets() -> None:
    problems = []
    for key, value in env_file_values(".env.example").items():
        if SECRET_SETTING.search(key) and value not in {"", PLACEHOLDER}:
            problems.append(f"{key}={value}")
        for password in URL_PASSWORD.findall(value):
            if password != PLACEHOLDER and not SUBSTITUTION.fullmatch(password):
                problems.append(f"{key}: a URL with a literal password")
    assert not problems, (
        f".env.example may only hold {PLACEHOLDER} or nothing for secrets:\n" + "\n".join(problems)
    )
