"""`copier update` of generated projects: local work survives, template work arrives (CI-03).

Each test generates a project from a tagged version of a throwaway copy of this
template (template_versions.py), commits changes in it as a team would, updates
it, and checks the result: the team's edits, the template's changes, the update
migrations (hooks/sync_env.py), the secrets in `.env`, the rows in the database,
and the project's own test suite. Conflicts must leave markers and fail.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from helpers import clean_env, copier_copy_cli, explain, run, uv_binary
from template_versions import (
    NEW_SETTING,
    README_LINE_NEW,
    README_LINE_OLD,
    REMOVED_FILE,
    TemplateVersions,
    build,
    git,
)

pytestmark = [pytest.mark.update, pytest.mark.checklist("CI-03")]

SLUG = "my-service"
PACKAGE = "my_service"
ADMIN_EMAIL = "owner@example.com"
ADMIN_PASSWORD = "update-test-Passphrase-42"
NOTE_TITLES = ["first note", "second note", "third note"]
MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")
TIMEOUT = 1200
# The answers of the tests that never install the project: the least to render.
MINIMAL = {"payment_provider": "none", "mfa": False, "file_uploads": False}

# A team's own work after generation: a new feature folder with a route, its
# test, and the line in the template-owned app.py that mounts the route.
GREETINGS_ROUTES = '''\
"""`/api/greetings`: a route the team added after generation."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ..auth.dependencies import CurrentAuth

router = APIRouter(prefix="/greetings", tags=["greetings"])


class Greeting(BaseModel):
    greeting: str


@router.get("")
def greet(auth: CurrentAuth) -> Greeting:
    return Greeting(greeting=f"Hello, {auth.user.email}")
'''
GREETINGS_TEST = '''\
"""The team's own test, kept by updates."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_greetings_need_a_session(client: TestClient) -> None:
    assert client.get("/api/greetings").status_code == 401
'''
# Places in app.py that the template has not changed since the previous release.
MOUNT_BEFORE = "    # Added last means outermost: SecurityMiddleware sees every response.\n"
MOUNT_LINES = """\
    app.include_router(
        greetings_router,
        prefix=API_PREFIX,
        dependencies=[Depends(verify_csrf), Depends(require_authenticated)],
    )

"""
IMPORT_AFTER = "from .core.openapi import API_ERRORS, TRANSPORT_ERRORS, error_responses\n"
IMPORT_LINE = "from .greetings.routes import router as greetings_router\n"
README_TEAM_SECTION = "## Our team's notes\n\nOn-call: #payments-oncall.\n\n"
README_TEAM_BEFORE = "## The two commands\n"

# Run inside the project's environment, against the API that every version serves
# (API.md): sign in as the administrator, and add notes or read them back.
API_SCRIPT = """
import json, os, sys
from fastapi.testclient import TestClient
from {package}.app import create_app

with TestClient(create_app(), base_url="http://testserver") as client:
    csrf = lambda: {{"X-CSRFToken": client.get("/api/auth/csrf").json()["csrf_token"]}}
    login = client.post(
        "/api/auth/login",
        json={{"email": os.environ["SEED_EMAIL"], "password": os.environ["SEED_PASSWORD"]}},
        headers=csrf(),
    )
    assert login.status_code == 200, login.text
    if sys.argv[1] == "seed":
        for title in json.loads(os.environ["SEED_TITLES"]):
            created = client.post("/api/notes", json={{"title": title, "body": "<p>kept</p>"}}, headers=csrf())
            assert created.status_code == 201, created.text
    notes = client.get("/api/notes", params={{"limit": 100}}).json()["items"]
    print("RESULT " + json.dumps(sorted(note["title"] for note in notes)))
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> TemplateVersions:
    return build(tmp_path_factory.mktemp("template-versions") / "rampart")


class Project:
    """A generated project driven the way its team drives it."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = dict(env)

    def run(self, *argv: str, stdin: str | None = None) -> str:
        done = run(list(argv), cwd=self.path, env=self.env, timeout=TIMEOUT, stdin=stdin)
        assert done.returncode == 0, explain(done)
        return done.stdout

    def uv(self, *argv: str, stdin: str | None = None) -> str:
        return self.run(uv_binary(), *argv, stdin=stdin)

    def read(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8")

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str) -> None:
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "-m", message)

    def answers(self) -> str:
        return self.read(".copier-answers.yml")

    def seed(self) -> list[str]:
        """Migrate, create the administrator, add notes through the API."""
        self.uv("sync", "--quiet")
        self.uv("run", SLUG, "migrate")
        admin = ("run", SLUG, "create-admin", "--email", ADMIN_EMAIL, "--password-stdin")
        self.uv(*admin, stdin=ADMIN_PASSWORD + "\n")
        return self.api("seed")

    def api(self, action: str) -> list[str]:
        script = textwrap.dedent(API_SCRIPT.format(package=PACKAGE))
        output = self.uv("run", "python", "-c", script, action)
        line = next(line for line in output.splitlines() if line.startswith("RESULT "))
        titles: list[str] = json.loads(line.removeprefix("RESULT "))
        return titles

    def update_script(self, *args: str) -> tuple[int, str]:
        """`make update`'s script, run with the harness's Copier (the Makefile's uv run does the same)."""
        done = run(
            [sys.executable, "scripts/update_template.py", *args],
            cwd=self.path,
            env=self.env,
            timeout=TIMEOUT,
        )
        return done.returncode, done.stdout

    def unresolved(self) -> list[str]:
        unmerged = git(self.path, "diff", "--name-only", "--diff-filter=U").split()
        marked = [
            name
            for name in git(self.path, "ls-files").split()
            if (self.path / name).is_file() and has_markers(self.path / name)
        ]
        return sorted({*unmerged, *marked})


def has_markers(path: Path) -> bool:
    try:
        return any(
            line.rstrip() in MARKERS for line in path.read_text(encoding="utf-8").splitlines()
        )
    except UnicodeDecodeError:
        return False


def generate(
    versions: TemplateVersions,
    ref: str,
    destination: Path,
    answers: Mapping[str, object],
    extra_env: Mapping[str, str],
) -> Project:
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in answers.items()}
    copied = copier_copy_cli(versions.repo, destination, data=data, vcs_ref=ref, timeout=TIMEOUT)
    assert copied.returncode == 0, explain(copied)
    seed = {
        "SEED_EMAIL": ADMIN_EMAIL,
        "SEED_PASSWORD": ADMIN_PASSWORD,
        "SEED_TITLES": json.dumps(NOTE_TITLES),
    }
    project = Project(destination, clean_env({"ALLOWED_HOSTS": "testserver", **seed, **extra_env}))
    assert f"_commit: {ref}" in project.answers()
    return project


def settings_lines(env_text: str) -> list[str]:
    return [line for line in env_text.splitlines() if line and not line.startswith("#")]


def add_local_work(project: Project) -> None:
    project.write(f"src/{PACKAGE}/greetings/__init__.py", "")
    project.write(f"src/{PACKAGE}/greetings/routes.py", GREETINGS_ROUTES)
    project.write("tests/test_greetings.py", GREETINGS_TEST)
    app = project.read(f"src/{PACKAGE}/app.py")
    assert IMPORT_AFTER in app and MOUNT_BEFORE in app
    app = app.replace(IMPORT_AFTER, IMPORT_AFTER + IMPORT_LINE)
    project.write(f"src/{PACKAGE}/app.py", app.replace(MOUNT_BEFORE, MOUNT_LINES + MOUNT_BEFORE))
    readme = project.read("README.md")
    assert README_TEAM_BEFORE in readme
    project.write(
        "README.md", readme.replace(README_TEAM_BEFORE, README_TEAM_SECTION + README_TEAM_BEFORE)
    )
    project.uv("add", "--quiet", "humanize>=4")
    project.commit("Our greetings route, on-call notes and a new dependency")


def servers_env(
    request: pytest.FixtureRequest, tmp_path: Path, database: str, uploads: bool
) -> dict[str, str]:
    """Where the app keeps its rows, and the servers its own test suite needs."""
    root = tmp_path / "pytest-temp-root"
    root.mkdir(exist_ok=True)
    env = {"PYTEST_DEBUG_TEMPROOT": str(root)}
    if database == "postgresql":
        postgres = request.getfixturevalue("postgres")
        env["DATABASE_URL"] = postgres.create_database("update_app")
        # A deployment of the previous release runs as one role; the update appends the
        # schema owner's URL to .env, and this one keeps using its single role for both
        # until it runs `create-roles` (docs/database.md of the generated project).
        env["MIGRATION_DATABASE_URL"] = env["DATABASE_URL"]
        env["TEST_DATABASE_URL"] = postgres.create_database("update_tests")
    if uploads:
        env["TEST_CLAMAV_ADDRESS"] = request.getfixturevalue("clamd").address
    return env


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_update_from_the_previous_release_keeps_local_work_secrets_and_rows(
    database: str,
    versions: TemplateVersions,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """The path of every existing project: the defaults, generated from the last release."""
    extra = servers_env(request, tmp_path, database, uploads=True)
    project = generate(versions, versions.previous, tmp_path / "svc", {"database": database}, extra)
    env_before = project.read(".env")
    assert project.seed() == sorted(NOTE_TITLES)
    add_local_work(project)

    # How a project of the previous release updates (it has no `make update` yet).
    updated = run(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--conflict",
         "inline", "--vcs-ref", versions.current],
        cwd=project.path, env=project.env, timeout=TIMEOUT,
    )  # fmt: skip
    assert updated.returncode == 0, explain(updated)
    assert project.unresolved() == []

    # The team's work is still there, merged with the template's changes.
    app = project.read(f"src/{PACKAGE}/app.py")
    assert IMPORT_LINE in app and MOUNT_LINES + MOUNT_BEFORE in app
    assert project.read(f"src/{PACKAGE}/greetings/routes.py") == GREETINGS_ROUTES
    assert project.read("tests/test_greetings.py") == GREETINGS_TEST
    assert README_TEAM_SECTION + README_TEAM_BEFORE in project.read("README.md")
    assert "humanize>=4" in project.read("pyproject.toml")
    # The template's changes arrived, and the answers file names the new version.
    assert (project.path / "scripts/update_template.py").is_file()
    assert (project.path / ".github/workflows/template-update.yml").is_file()
    assert (project.path / f"src/{PACKAGE}/migrations/versions/mfa_0001_tables.py").is_file()
    assert f"_commit: {versions.current}" in project.answers()
    # .env is the project's: every setting it had is unchanged (new ones may follow).
    env_after = project.read(".env")
    assert env_after.startswith(env_before)
    assert set(settings_lines(env_before)) <= set(settings_lines(env_after))

    project.uv("lock", "--quiet")
    project.uv("sync", "--quiet")
    project.uv("run", SLUG, "migrate")
    assert project.api("read") == sorted(NOTE_TITLES)
    project.uv("run", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov")


def test_turning_features_on_later_migrates_the_existing_database(
    versions: TemplateVersions,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """`make update --data ...`: MFA and payments added to a project that has data."""
    answers = {"payment_provider": "none", "mfa": False, "file_uploads": False}
    extra = servers_env(request, tmp_path, "sqlite", uploads=False)
    project = generate(versions, versions.current, tmp_path / "svc", answers, extra)
    env_before = project.read(".env")
    assert "ENCRYPTION_KEYS" not in env_before
    assert project.seed() == sorted(NOTE_TITLES)

    status, output = project.update_script(
        "--vcs-ref", versions.current, "--data", "payment_provider=stripe", "--data", "mfa=true"
    )
    assert status == 0, output
    answers_now = project.answers()
    assert "payment_provider: stripe" in answers_now and "mfa: true" in answers_now
    assert (project.path / f"src/{PACKAGE}/payments").is_dir()
    assert (project.path / f"src/{PACKAGE}/mfa").is_dir()
    # The update migration gave .env the key that MFA needs, and kept the rest.
    env_after = project.read(".env")
    assert env_after.startswith(env_before)
    added = dict(line.split("=", 1) for line in settings_lines(env_after[len(env_before) :]))
    assert len(added.get("ENCRYPTION_KEYS", "")) >= 32
    assert "change-me" not in added.values()
    assert "ENCRYPTION_KEYS" in output

    project.uv("sync", "--quiet")
    project.uv("run", SLUG, "migrate")
    assert project.api("read") == sorted(NOTE_TITLES)
    project.uv("run", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov")


def test_a_clean_update_brings_changes_removals_and_new_settings(
    versions: TemplateVersions, tmp_path: Path
) -> None:
    project = generate(versions, versions.current, tmp_path / "svc", MINIMAL, {})
    env_before = project.read(".env")
    summary = tmp_path / "summary.md"

    status, output = project.update_script("--vcs-ref", versions.next, "--summary", str(summary))

    assert status == 0, output
    assert f"\n{README_LINE_NEW}\n" in project.read("README.md")
    assert not (project.path / REMOVED_FILE).exists()
    env_after = project.read(".env")
    assert env_after.startswith(env_before)
    new_value = dict(line.split("=", 1) for line in settings_lines(env_after))[NEW_SETTING]
    assert len(new_value) >= 32 and new_value != "change-me"
    notes = summary.read_text(encoding="utf-8")
    assert "Synthetic release notes" in notes
    assert f"## {versions.current.removeprefix('v')}" not in notes, "notes of the version it had"
    assert project.unresolved() == []


def test_a_conflicting_edit_leaves_markers_and_fails_the_update(
    versions: TemplateVersions, tmp_path: Path
) -> None:
    project = generate(versions, versions.current, tmp_path / "svc", MINIMAL, {})
    readme = project.read("README.md")
    assert f"\n{README_LINE_OLD}\n" in readme
    project.write("README.md", readme.replace(f"\n{README_LINE_OLD}\n", "\n## Configuration\n"))
    project.write(REMOVED_FILE, project.read(REMOVED_FILE) + "\nOur own disclosure address.\n")
    project.commit("Our README heading and disclosure address")
    summary = tmp_path / "summary.md"

    status, output = project.update_script("--vcs-ref", versions.next, "--summary", str(summary))

    assert status == 1, output
    assert "CONFLICT README.md" in output
    assert "README.md" in project.unresolved()
    merged = project.read("README.md")
    assert "## Configuration" in merged and README_LINE_NEW in merged
    # The template removed a file the team had changed: it is put back, and reported.
    assert project.read(REMOVED_FILE).endswith("\nOur own disclosure address.\n")
    assert f"KEPT {REMOVED_FILE}" in output
    notes = summary.read_text(encoding="utf-8")
    assert "README.md" in notes and REMOVED_FILE in notes
