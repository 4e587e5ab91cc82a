"""The update machinery, checked without running an update (CI-03).

The versions (CHANGELOG.md, RELEASES), Copier's `_migrations`, the `.env`
filling shared by generation and updates (hooks/env_file.py, hooks/sync_env.py),
and the scheduled update jobs of the generated CI, which cannot run here (no
GitHub or GitLab runner): they are parsed and their triggers, permissions and
steps checked. tests/test_update.py runs real updates.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import REPO_ROOT, project_dir_of, run
from template_versions import RELEASES, changelog_versions

pytestmark = [pytest.mark.fast, pytest.mark.checklist("CI-03")]

sys.path.insert(0, str(REPO_ROOT / "hooks"))
from env_file import PLACEHOLDER, fill, settings_of  # noqa: E402

EXAMPLE = """\
# Header comment.
ENVIRONMENT=development
SECRET_KEY=change-me
# The password inside the URL below.
POSTGRES_PASSWORD=change-me
DATABASE_URL=postgresql://app:${POSTGRES_PASSWORD}@db/app
"""


def copier_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "copier.yml").read_text("utf-8"))
    return config


def test_changelog_has_a_section_per_release_newest_first() -> None:
    versions = changelog_versions()
    assert versions == sorted(versions, reverse=True), "CHANGELOG sections must be newest first"
    released = {tuple(int(p) for p in v.split(".")) for v in RELEASES}
    assert released <= set(versions), "a released version has no CHANGELOG section"
    assert versions[0] > max(released), "the first section must be the version being built"


def test_every_migration_runs_a_script_of_the_template() -> None:
    migrations = copier_config()["_migrations"]
    assert migrations, "copier.yml has no _migrations"
    for migration in migrations:
        command = migration["command"]
        script = command[-1].replace("{{ _copier_conf.src_path }}/", "")
        assert (REPO_ROOT / script).is_file(), f"{script} does not exist"
        assert command[0] == "{{ _copier_python }}", "migrations run with Copier's interpreter"


def test_generation_fills_every_placeholder_with_a_distinct_fresh_secret() -> None:
    filled = fill(EXAMPLE, {}, only_missing=False)
    settings = settings_of("\n".join(filled))
    assert PLACEHOLDER not in "\n".join(filled)
    assert len(settings["SECRET_KEY"]) >= 48
    assert settings["SECRET_KEY"] != settings["POSTGRES_PASSWORD"]
    assert settings["DATABASE_URL"] == f"postgresql://app:{settings['POSTGRES_PASSWORD']}@db/app"
    assert filled[0] == "# Header comment."
    assert (
        settings_of("\n".join(fill(EXAMPLE, {}, only_missing=False)))["SECRET_KEY"]
        != (settings["SECRET_KEY"])
    )


def test_an_update_adds_only_missing_settings_with_their_comments() -> None:
    known = {"ENVIRONMENT": "production", "SECRET_KEY": "kept", "POSTGRES_PASSWORD": "pw"}
    added = fill(EXAMPLE, known, only_missing=True)
    assert added == ["DATABASE_URL=postgresql://app:pw@db/app"]
    assert fill(EXAMPLE, {**known, "DATABASE_URL": "x"}, only_missing=True) == []
    missing_password = fill(EXAMPLE, {"SECRET_KEY": "kept"}, only_missing=True)
    assert missing_password[0] == "# Header comment."
    assert "# The password inside the URL below." in missing_password
    assert "SECRET_KEY=kept" not in missing_password


def test_sync_env_appends_new_settings_and_keeps_every_existing_line(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(EXAMPLE, encoding="utf-8")
    existing = "# Our own comment\nENVIRONMENT=production\nSECRET_KEY=ours\nEXTRA=kept\n"
    env_file = tmp_path / ".env"
    env_file.write_text(existing, encoding="utf-8")
    env_file.chmod(0o644)

    done = run(
        [sys.executable, str(REPO_ROOT / "hooks/sync_env.py")],
        cwd=tmp_path,
        env={**os.environ, "VERSION_PEP440_TO": "9.9.9"},
    )

    assert done.returncode == 0, done.stdout
    text = env_file.read_text(encoding="utf-8")
    assert text.startswith(existing)
    added = settings_of(text[len(existing) :])
    assert set(added) == {"POSTGRES_PASSWORD", "DATABASE_URL"}
    assert "9.9.9" in text[len(existing) :]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "POSTGRES_PASSWORD" in done.stdout and added["POSTGRES_PASSWORD"] not in done.stdout
    again = run([sys.executable, str(REPO_ROOT / "hooks/sync_env.py")], cwd=tmp_path)
    assert again.returncode == 0 and env_file.read_text(encoding="utf-8") == text


# --- the scheduled update jobs -----------------------------------------------------


@pytest.fixture(scope="module")
def github_workflow(render: Any) -> dict[Any, Any]:
    project = project_dir_of(render({"ci_provider": "github"}))
    path = project / ".github/workflows/template-update.yml"
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def gitlab_job(render: Any) -> dict[str, Any]:
    project = project_dir_of(render({"ci_provider": "gitlab"}))
    config = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    job: dict[str, Any] = config["template-update"]
    return job


def steps_text(workflow: dict[Any, Any]) -> str:
    steps = workflow["jobs"]["update"]["steps"]
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_github_update_runs_weekly_and_by_hand(github_workflow: dict[Any, Any]) -> None:
    triggers = github_workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"].endswith("* * 1")


def test_github_update_may_only_push_its_branch_and_open_a_pull_request(
    github_workflow: dict[Any, Any],
) -> None:
    assert github_workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    checkout = github_workflow["jobs"]["update"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@v")
    assert checkout["with"]["fetch-depth"] == 0, "the three-way merge needs the history"


def test_github_update_proposes_the_result_and_fails_on_conflicts(
    github_workflow: dict[Any, Any],
) -> None:
    text = steps_text(github_workflow)
    assert "make update" in text and "--summary" in text
    assert "gh pr create" in text and "--body-file" in text and "--draft" in text
    assert 'git push --force origin "$BRANCH"' in text
    last = github_workflow["jobs"]["update"]["steps"][-1]
    assert last["if"] == "steps.update.outputs.status == '1'" and "exit 1" in last["run"]


def test_gitlab_update_runs_only_in_its_schedule(gitlab_job: dict[str, Any]) -> None:
    assert gitlab_job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" && $TEMPLATE_UPDATE == "true"'}
    ]
    assert gitlab_job["variables"]["GIT_DEPTH"] == 0


def test_gitlab_update_proposes_the_result_and_fails_on_conflicts(
    gitlab_job: dict[str, Any],
) -> None:
    script = "\n".join(gitlab_job["script"])
    assert "make update" in script and "--summary /tmp/update-summary.md" in script
    assert "description@/tmp/update-summary.md" in script
    assert "/merge_requests" in script and "Draft: " in script
    assert script.rstrip().endswith("exit 1; fi")
    # The token goes into the push URL and a header, never into the output.
    assert "echo" not in " ".join(
        line for line in gitlab_job["script"] if "TEMPLATE_UPDATE_TOKEN" in line
    )
