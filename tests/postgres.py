"""A throwaway PostgreSQL cluster for the template's tests.

The cluster is real (Debian's `postgresql` server binaries), lives in a
temporary directory, listens on a free TCP port on 127.0.0.1 only (and on a
Unix socket inside that directory), requires a password on TCP, and is
stopped and deleted when the test session ends, whether tests passed or not.

PostgreSQL refuses to run as root: when the tests run as root, `initdb` and
`pg_ctl` run as the `postgres` OS user (created with `useradd` if missing).

A missing server binary is an error, never a reason to skip: `make test`
installs the `postgresql` package when `initdb` or `pg_ctl` is missing.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
CLIENT_BINARIES = ("psql",)
OS_USER = "postgres"
SUPERUSER = "rampart"
START_ATTEMPTS = 5
START_TIMEOUT_SECONDS = 60

INSTALL_HINT = (
    "PostgreSQL server binaries are required by this test and were not found "
    "(looked for {missing} in $PG_BIN, $PATH and /usr/lib/postgresql/*/bin). "
    "Install them with `apt-get update && apt-get install -y postgresql`, "
    "or run `make test`, which installs them when missing."
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says what is missing."""


def _version_key(path: str) -> tuple[int, ...]:
    """Sort /usr/lib/postgresql/<version>/bin by version, newest first."""
    match = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/bin", path)
    if not match:
        return (0,)
    return tuple(int(part) for part in match.groups() if part is not None)


def candidate_bin_dirs() -> list[Path]:
    """Directories that may hold the server binaries, in order of preference."""
    dirs: list[Path] = []
    if os.environ.get("PG_BIN"):
        dirs.append(Path(os.environ["PG_BIN"]))
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    dirs.extend(Path(d) for d in debian)
    for name in SERVER_BINARIES:
        found = shutil.which(name)
        if found:
            # Debian links /usr/bin/psql etc. to a wrapper; use the real directory.
            dirs.append(Path(os.path.realpath(found)).parent)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_bin_dir() -> Path:
    """The first directory that holds every server and client binary we need."""
    needed = SERVER_BINARIES + CLIENT_BINARIES
    for directory in candidate_bin_dirs():
        if all(os.access(directory / name, os.X_OK) for name in needed):
            return directory
    missing = [
        name
        for name in needed
        if not any(os.access(d / name, os.X_OK) for d in candidate_bin_dirs())
    ]
    raise PostgresUnavailable(INSTALL_HINT.format(missing=", ".join(missing or needed)))


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_os_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
        check=True,
        capture_output=True,
        text=True,
    )
    return pwd.getpwnam(OS_USER)


@dataclass
class PostgresServer:
    """One running cluster. Use `PostgresServer.start()` and `stop()`."""

    bin_dir: Path
    root: Path
    port: int
    password: str
    user: str = SUPERUSER
    host: str = "127.0.0.1"
    _db_counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stopped: bool = False

    # --- lifecycle -----------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb a new cluster in a temporary directory and start it on a free port."""
        bin_dir = find_bin_dir()
        as_root = os.geteuid() == 0
        owner = _ensure_os_user() if as_root else None
        # mkdtemp makes a 0700 directory; /tmp is traversable by the postgres user.
        root = Path(tempfile.mkdtemp(prefix="rampart-pg-", dir="/tmp" if as_root else None))
        server = cls(bin_dir=bin_dir, root=root, port=0, password=secrets.token_hex(16))
        atexit.register(server.stop)  # last resort if the session is interrupted
        try:
            server._initdb(owner)
            last_error = ""
            for _ in range(START_ATTEMPTS):
                server.port = free_loopback_port()
                server._write_config()
                done = server._pg_ctl(
                    "start", "-w", "-t", str(START_TIMEOUT_SECONDS), "-l", str(server.log_file)
                )
                if done.returncode == 0:
                    return server
                # Usually another process took the port between probe and bind.
                last_error = done.stdout + done.stderr + server._log_tail()
            raise PostgresUnavailable(
                f"PostgreSQL did not start after {START_ATTEMPTS} attempts:\n{last_error}"
            )
        except BaseException:
            server.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast mode) and delete its directory. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- databases -------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for a database on this server."""
        return f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/{dbname}"

    def create_database(self, label: str = "test") -> str:
        """Create a new, empty database and return its SQLAlchemy URL."""
        clean = re.sub(r"[^a-z0-9_]+", "_", label.lower()).strip("_") or "test"
        name = f"{clean[:40]}_{next(self._db_counter)}_{secrets.token_hex(3)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, dbname: str = "postgres", password: str | None = None) -> str:
        """Run one SQL statement over TCP as the superuser; return its unaligned output."""
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "--no-psqlrc",
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname,
                "-c",
                sql,
            ],
            env={
                **os.environ,
                "PGPASSWORD": self.password if password is None else password,
                "PGCONNECT_TIMEOUT": "10",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, "psql", done.stdout, done.stderr)
        return done.stdout.strip()

    # --- internals ---------------------------------------------------------------

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if os.access(runuser, os.X_OK):
            return [runuser, "-u", OS_USER, "--", *argv]
        return ["su", OS_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._as_owner(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
        )

    def _initdb(self, owner: pwd.struct_passwd | None) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        self.socket_dir.mkdir(mode=0o700)
        if owner is not None:
            for path in (self.root, pwfile, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        done = self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        # Password on TCP from 127.0.0.1 only; trust on the Unix socket, which
        # sits in a 0700 directory that only the cluster's owner (and root) can reach.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# written by tests/postgres.py\nlocal all all trust\nhost  all all 127.0.0.1/32 scram-sha-256\n",
            encoding="utf-8",
        )
        if owner is not None:
            os.chown(hba, owner.pw_uid, owner.pw_gid)

    def _write_config(self) -> None:
        conf = self.data_dir / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "300",
            # A throwaway cluster: durability is not needed, speed is.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "off",
        }
        conf.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()), encoding="utf-8")

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args])

    def _log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(
                self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            )
        return ""


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a cluster for the duration of the block; always stop and delete it."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # manual check: python tests/postgres.py
    with running_postgres() as pg:
        url = pg.create_database("manual")
        print(url)
        print(pg.psql("SELECT version()"))
