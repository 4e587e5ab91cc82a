"""Encrypted backups (DB-05) of generated projects: an age round trip finds every row.

The generated suites prove the plain round trip with nothing but Python (and,
on PostgreSQL, the client tools). Encryption needs the `age` binary, so it is
proven here, on both databases: a generated project is installed, its
database filled through its own commands, backed up by `scripts/backup` for a
real age recipient, destroyed, and restored by `scripts/restore` with the
identity. A missing `age` fails these tests; `make test` installs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from helpers import clean_env, explain, project_dir_of, run, uv_binary
from postgres import PostgresServer

pytestmark = pytest.mark.deep

ANSWERS = {
    "project_name": "Vault Keeper",
    "payment_provider": "none",
    "mfa": False,
    "file_uploads": False,
    "ci_provider": "none",
}
SLUG = "vault-keeper"
ADMIN = "backup-admin@example.com"
PASSWORD = "correct horse battery staple 42"

# Every row of every table, as sorted text, printed as JSON by the project's interpreter.
SNAPSHOT = """
import json, os
from sqlalchemy import MetaData, create_engine, select
engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as connection:
    tables = MetaData()
    tables.reflect(connection)
    print(json.dumps({
        name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
        for name, table in tables.tables.items()
    }))
"""
# A note of the administrator, written through the project's own models.
ADD_NOTE = """
import os
from sqlalchemy import select
from vault_keeper.auth.models import User
from vault_keeper.core.database import Database
from vault_keeper.notes.models import Note
database = Database(os.environ["DATABASE_URL"])
with database.sessions.begin() as db:
    admin = db.scalars(select(User).where(User.role == "admin")).one()
    db.add(Note(owner_id=admin.id, title="Grüße", body="kept\\nsecret 😀"))
"""


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is required by the backup encryption tests: install the Debian package "
            "`age` (`make test` does, through .ci/ensure-services)",
            pytrace=False,
        )
    return found


def command(
    argv: list[str], project: Path, env: Mapping[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run one command in the project; stdout and stderr apart, never raise on failure."""
    return subprocess.run(
        argv,
        cwd=project,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def succeeds(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


def snapshot(project: Path, env: Mapping[str, str]) -> dict[str, Any]:
    python = str(project / ".venv" / "bin" / "python")
    tables: dict[str, Any] = json.loads(succeeds(command([python, "-c", SNAPSHOT], project, env)))
    return tables


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_encrypted_backup_restores_every_row_with_the_identity_only(
    database: str, copie: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    age, age_keygen = tool("age"), tool("age-keygen")
    project = project_dir_of(copie.copy(extra_answers={**ANSWERS, "database": database}))
    synced = run([uv_binary(), "sync"], cwd=project, timeout=1200)
    assert synced.returncode == 0, explain(synced)

    identity, stranger = tmp_path / "identity.txt", tmp_path / "stranger.txt"
    for key in (identity, stranger):
        succeeds(command([age_keygen, "--output", str(key)], tmp_path, clean_env()))
    recipient = succeeds(command([age_keygen, "-y", str(identity)], tmp_path, clean_env())).strip()

    postgres: PostgresServer | None = None
    if database == "postgresql":
        postgres = request.getfixturevalue("postgres")
        database_url = postgres.create_database("backup_encryption")
    else:
        database_url = f"sqlite:///{tmp_path / 'data' / 'service.db'}"
    backup_dir = tmp_path / "backups"
    settings = {
        "ENVIRONMENT": "test",
        "SECRET_KEY": "backup-test-secret-" + "x" * 40,
        "DATABASE_URL": database_url,
        "BACKUP_DIR": str(backup_dir),
        "BACKUP_AGE_RECIPIENTS": recipient,
    }
    if postgres is not None:
        # One role does everything here; the project's .env names another owner.
        settings["MIGRATION_DATABASE_URL"] = database_url
    env = clean_env(settings)
    service = str(project / ".venv" / "bin" / SLUG)
    succeeds(command([service, "migrate"], project, env))
    succeeds(
        command(
            [service, "create-admin", "--email", ADMIN, "--password-stdin"],
            project,
            env,
            PASSWORD + "\n",
        )
    )
    succeeds(command([str(project / ".venv" / "bin" / "python"), "-c", ADD_NOTE], project, env))
    before = snapshot(project, env)
    assert before["users"] and before["notes"] and before["audit_events"], before

    backup_path, checksum_path = succeeds(
        command([str(project / "scripts" / "backup")], project, env)
    ).split()
    backup = Path(backup_path)
    assert backup.name.endswith(".age")
    assert checksum_path == f"{backup}.sha256"
    data = backup.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert ADMIN.encode() not in data
    assert sorted(p.name for p in backup_dir.iterdir()) == [backup.name, f"{backup.name}.sha256"]
    # Anyone with the identity can open it with age alone, without the service.
    plain = tmp_path / "plain"
    succeeds(
        command(
            [age, "--decrypt", "--identity", str(identity), "--output", str(plain), str(backup)],
            tmp_path,
            clean_env(),
        )
    )
    assert plain.read_bytes().startswith(b"SQLite format 3\0" if database == "sqlite" else b"PGDMP")

    if postgres is not None:
        name = database_url.rsplit("/", 1)[1]
        postgres.drop_database(name)
        postgres.psql(f'CREATE DATABASE "{name}"')
    else:
        for leftover in (tmp_path / "data").iterdir():
            leftover.unlink()

    restore = [str(project / "scripts" / "restore"), str(backup)]
    without = command(restore, project, env)
    assert without.returncode == 1
    assert "is encrypted" in without.stderr
    wrong = command([*restore, "--identity", str(stranger)], project, env)
    assert wrong.returncode == 1
    assert "no identity matched" in wrong.stderr
    assert snapshot(project, env) == {}, "a refused restore changed the database"
    succeeds(command([*restore, "--identity", str(identity)], project, env))

    assert snapshot(project, env) == before
