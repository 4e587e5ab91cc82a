"""The harness's throwaway PostgreSQL: real, loopback-only, password-protected, fresh per database, deleted after."""

from __future__ import annotations

import os
import pwd
import re
import subprocess

import pytest

from postgres import OS_USER, PostgresServer

pytestmark = pytest.mark.deep

URL_FORM = re.compile(
    r"^postgresql\+psycopg://(?P<user>[^:@/]+):(?P<password>[^@/]+)@127\.0\.0\.1:(?P<port>\d+)/(?P<db>\w+)$"
)


def test_database_url_has_the_sqlalchemy_psycopg_form(postgres: PostgresServer) -> None:
    url = postgres.create_database("form")
    match = URL_FORM.match(url)
    assert match, url
    assert int(match["port"]) == postgres.port


def test_server_answers_on_loopback_with_the_password(postgres: PostgresServer) -> None:
    assert postgres.psql("SELECT 1") == "1"
    assert postgres.psql("SHOW listen_addresses") == "127.0.0.1"


def test_server_rejects_a_wrong_password(postgres: PostgresServer) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        postgres.psql("SELECT 1", password="wrong-password")
    assert "password authentication failed" in failure.value.stderr


def test_each_database_is_fresh_and_separate(postgres: PostgresServer) -> None:
    first = postgres.create_database("first").rsplit("/", 1)[1]
    second = postgres.create_database("second").rsplit("/", 1)[1]
    assert first != second
    postgres.psql("CREATE TABLE marker (id int)", dbname=first)
    tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert postgres.psql(tables, dbname=first) == "1"
    assert postgres.psql(tables, dbname=second) == "0"


def test_cluster_never_runs_as_root(postgres: PostgresServer) -> None:
    owner = postgres.data_dir.stat().st_uid
    assert owner != 0, "PostgreSQL refuses to run as root: the cluster must belong to another user"
    if os.geteuid() == 0:
        assert owner == pwd.getpwnam(OS_USER).pw_uid


def test_stopping_deletes_the_cluster() -> None:
    server = PostgresServer.start()
    root = server.root
    assert (server.data_dir / "PG_VERSION").is_file()
    server.stop()
    assert not root.exists()
    server.stop()  # a second stop is harmless
