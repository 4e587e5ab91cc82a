"""A throwaway Redis server for the template's tests.

The server is real (Debian's `redis-server`), runs in the foreground with a
configuration of its own in a temporary directory, listens on a free TCP port
on 127.0.0.1 only, requires a password (as production does), keeps nothing on
disk, and is stopped and deleted when the test session ends, whether tests
passed or not. It offers 64 databases: each generated project, or contract
target, gets a database number of its own (`new_database`), so that suites
that empty their database before each test never empty another's.

When the tests run as root, redis-server runs as the `redis` user the package
creates (or `nobody`): a server reachable over the network must not run as root. A missing redis-server is an error, never a reason to
skip: `make test` installs `redis-server` when it is missing.

This module never imports redis-py: the harness speaks the few commands it
needs (AUTH, PING) in RESP over a socket.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from helpers import stop_process_group
from postgres import free_loopback_port

OS_USERS = ("redis", "nobody")
DATABASES = 64
START_ATTEMPTS = 5
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10

INSTALL_HINT = (
    "redis-server is required by this test and was not found "
    "(looked in $REDIS_SERVER, $PATH and /usr/bin). Install it with "
    "`apt-get update && apt-get install -y redis-server`, or run `make test`, "
    "which installs it when missing."
)


class RedisUnavailable(RuntimeError):
    """redis-server cannot be started here; the message says why."""


def find_redis_server() -> Path:
    for candidate in (
        os.environ.get("REDIS_SERVER"),
        shutil.which("redis-server"),
        "/usr/bin/redis-server",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise RedisUnavailable(INSTALL_HINT)


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user redis-server runs as when the tests run as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in OS_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RedisUnavailable(f"none of the users {OS_USERS} exists to run redis-server as")


def resp(*args: str) -> bytes:
    """One command in the Redis protocol (RESP2)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def read_reply(reader: BinaryIO) -> Any:
    """One RESP2 reply: simple strings, errors and integers as their raw line (`+PONG`,
    `-NOAUTH ...`), bulk strings as bytes (None when null), arrays as lists."""
    line = reader.readline()
    if not line:
        raise ConnectionError("redis-server closed the connection")
    kind, value = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"$":
        return None if int(value) < 0 else reader.read(int(value) + 2)[:-2]
    if kind == b"*":
        return [read_reply(reader) for _ in range(int(value))]
    return line.rstrip(b"\r\n")


def ask(port: int, password: str | None, *command: str, timeout: float = 1.0) -> Any:
    """Send AUTH (when a password is given), then one command; return the command's reply.

    Raises OSError when nothing answers.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        reader = connection.makefile("rb")
        if password is not None:
            connection.sendall(resp("AUTH", password))
            read_reply(reader)
        connection.sendall(resp(*command))
        return read_reply(reader)


def ping(port: int, password: str | None) -> bool:
    """True when the server on the port answers PONG to this password."""
    try:
        return bool(ask(port, password, "PING") == b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One running redis-server. Use `RedisServer.start()` and `stop()`."""

    binary: Path
    root: Path
    port: int
    password: str
    owner: pwd.struct_passwd | None
    process: subprocess.Popen[bytes] | None = None
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stopped: bool = False

    def url(self, database: int = 0) -> str:
        """The REDIS_URL of one of the server's databases, with the password."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a database no one else of this session uses (1 to 63; 0 is left alone)."""
        number = next(self._numbers)
        if number >= DATABASES:
            raise RedisUnavailable(f"all {DATABASES - 1} databases of the test Redis are taken")
        return self.url(number)

    @property
    def log_file(self) -> Path:
        return self.root / "redis.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle -----------------------------------------------------------------------

    @classmethod
    def start(cls) -> RedisServer:
        """Write a configuration into a new directory and start redis-server on a free port."""
        binary = find_redis_server()
        owner = _os_user()
        # mkdtemp makes a 0700 directory; /tmp is traversable by the redis user.
        root = Path(tempfile.mkdtemp(prefix="rampart-redis-", dir="/tmp" if owner else None))
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        server = cls(
            binary=binary, root=root, port=0, password=secrets.token_urlsafe(24), owner=owner
        )
        atexit.register(server.stop)  # last resort if the session is interrupted
        try:
            server._launch()
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """Stop redis-server and delete its directory. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._terminate()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Redis down for the duration of the block, then up again (empty) on the same port."""
        self._terminate()
        try:
            yield
        finally:
            self._launch(keep_port=True)

    # --- internals -------------------------------------------------------------------------

    def _write_config(self) -> Path:
        config = self.root / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "# written by tests/redis.py",
                    "bind 127.0.0.1",
                    "protected-mode yes",
                    f"port {self.port}",
                    f"requirepass {self.password}",
                    f"databases {DATABASES}",
                    f"dir {self.root}",
                    f"logfile {self.log_file}",
                    "daemonize no",
                    # A throwaway server: nothing is written to disk.
                    'save ""',
                    "appendonly no",
                    "",
                ]
            ),
            encoding="ascii",
        )
        # The password is in the file: readable by the server's user only.
        config.chmod(0o600)
        if self.owner is not None:
            os.chown(config, self.owner.pw_uid, self.owner.pw_gid)
        return config

    def _launch(self, keep_port: bool = False) -> None:
        last_error = ""
        for _ in range(START_ATTEMPTS):
            if not keep_port:
                self.port = free_loopback_port()
            config = self._write_config()
            # Started as the unprivileged user directly (not through runuser, which
            # would wait two seconds after redis-server has gone before it exits).
            owner = self.owner
            with open(self.root / "redis.out", "ab") as output:
                self.process = subprocess.Popen(
                    [str(self.binary), str(config)],
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    user=owner.pw_uid if owner else None,
                    group=owner.pw_gid if owner else None,
                    extra_groups=[] if owner else None,
                )
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while time.monotonic() < deadline and self.running:
                if ping(self.port, self.password):
                    return
                time.sleep(0.02)
            # Usually another process took the port between probe and bind.
            last_error = self._output_tail()
            self._terminate()
        raise RedisUnavailable(
            f"redis-server did not start after {START_ATTEMPTS} attempts:\n{last_error}"
        )

    def _terminate(self) -> None:
        stop_process_group(self.process, STOP_TIMEOUT_SECONDS)

    def _output_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("redis.out", "redis.log"):
            with contextlib.suppress(OSError):
                text += (self.root / name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start redis-server for the duration of the block; always stop it and delete its directory."""
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # manual check: python tests/redis.py
    with running_redis() as redis:
        print(redis.url(), ping(redis.port, redis.password), ping(redis.port, None))
