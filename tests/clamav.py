"""A throwaway ClamAV daemon (clamd) for the template's tests.

The daemon is real (Debian's `clamav-daemon`), runs in the foreground with a
configuration of its own in a temporary directory, listens on a free TCP port
on 127.0.0.1 and on a Unix socket in that directory, and is stopped and
deleted when the test session ends, whether tests passed or not.

The official signature database cannot be downloaded here, so the daemon
loads one signature of our own: a body-based (.ndb) signature of the EICAR
test string, the file every scanner reports as malware. With a single
signature clamd starts in well under a second.

When the tests run as root, clamd runs as the `clamav` user the package
creates (or `nobody`): a scanner parses hostile input and must not do so as
root. A missing clamd is an error, never a reason to skip: `make test`
installs `clamav-daemon` when it is missing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import stop_process_group
from postgres import free_loopback_port

OS_USERS = ("clamav", "nobody")
SIGNATURE_NAME = "Rampart.Test.EICAR"
# The EICAR test string (https://www.eicar.org), joined at run time so that this
# file does not itself look like the test file to a scanner.
EICAR = b"".join((rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$", b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"))
START_ATTEMPTS = 5
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10

INSTALL_HINT = (
    "clamd (the ClamAV daemon) is required by this test and was not found "
    "(looked in $CLAMD, $PATH and /usr/sbin). Install it with "
    "`apt-get update && apt-get install -y clamav-daemon`, or run `make test`, "
    "which installs it when missing."
)


class ClamdUnavailable(RuntimeError):
    """clamd cannot be started here; the message says why."""


def find_clamd() -> Path:
    for candidate in (os.environ.get("CLAMD"), shutil.which("clamd"), "/usr/sbin/clamd"):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise ClamdUnavailable(INSTALL_HINT)


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user clamd runs as when the tests run as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in OS_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClamdUnavailable(f"none of the users {OS_USERS} exists to run clamd as")


def ping(address: tuple[str, int] | str, timeout: float = 1.0) -> bool:
    """True when the clamd at a TCP (host, port) or Unix socket path answers PONG."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(address)
            connection.sendall(b"zPING\0")
            return connection.recv(16).startswith(b"PONG")
    except OSError:
        return False


@dataclass
class ClamdServer:
    """One running clamd. Use `ClamdServer.start()` and `stop()`."""

    binary: Path
    root: Path
    port: int
    owner: pwd.struct_passwd | None
    process: subprocess.Popen[bytes] | None = None
    _stopped: bool = False

    @property
    def address(self) -> str:
        """The CLAMAV_ADDRESS of the TCP socket."""
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.root / "clamd.sock"

    @property
    def unix_address(self) -> str:
        """The CLAMAV_ADDRESS of the Unix socket."""
        return f"unix://{self.socket_path}"

    @property
    def log_file(self) -> Path:
        return self.root / "clamd.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle -----------------------------------------------------------------------

    @classmethod
    def start(cls) -> ClamdServer:
        """Write a configuration and a signature file into a new directory and start clamd."""
        binary = find_clamd()
        owner = _os_user()
        # mkdtemp makes a 0700 directory; /tmp is traversable by the clamav user.
        root = Path(tempfile.mkdtemp(prefix="rampart-clamd-", dir="/tmp" if owner else None))
        server = cls(binary=binary, root=root, port=0, owner=owner)
        atexit.register(server.stop)  # last resort if the session is interrupted
        try:
            server._prepare()
            server._launch()
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """Stop clamd and delete its directory. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._terminate()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """clamd down for the duration of the block, then up again on the same address."""
        self._terminate()
        try:
            yield
        finally:
            self._launch(keep_port=True)

    # --- internals -------------------------------------------------------------------------

    def _prepare(self) -> None:
        database = self.root / "db"
        database.mkdir()
        # .ndb: name, target type 0 (any file), offset * (anywhere), the bytes in hex.
        (database / "rampart-test.ndb").write_text(
            f"{SIGNATURE_NAME}:0:*:{EICAR.hex()}\n", encoding="ascii"
        )
        if self.owner is not None:
            for path in (self.root, database, database / "rampart-test.ndb"):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def _write_config(self) -> Path:
        config = self.root / "clamd.conf"
        config.write_text(
            "\n".join(
                [
                    "# written by tests/clamav.py",
                    "Foreground yes",
                    f"DatabaseDirectory {self.root / 'db'}",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"LocalSocket {self.socket_path}",
                    f"LogFile {self.log_file}",
                    "LogTime yes",
                    # Above the generated projects' 10 MiB upload limit.
                    "StreamMaxLength 32M",
                    "MaxThreads 4",
                    "Bytecode no",
                    "",
                ]
            ),
            encoding="ascii",
        )
        return config

    def _launch(self, keep_port: bool = False) -> None:
        last_error = ""
        for _ in range(START_ATTEMPTS):
            if not keep_port:
                self.port = free_loopback_port()
            config = self._write_config()
            argv = [str(self.binary), f"--config-file={config}"]
            with open(self.root / "clamd.out", "ab") as output:
                self.process = subprocess.Popen(
                    self._as_owner(argv),
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while time.monotonic() < deadline and self.running:
                if ping(("127.0.0.1", self.port)):
                    return
                time.sleep(0.05)
            # Usually another process took the port between probe and bind.
            last_error = self._output_tail()
            self._terminate()
        raise ClamdUnavailable(
            f"clamd did not start after {START_ATTEMPTS} attempts:\n{last_error}"
        )

    def _terminate(self) -> None:
        # A group of its own (start_new_session): runuser and clamd stop together.
        stop_process_group(self.process, STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def _as_owner(self, argv: list[str]) -> list[str]:
        if self.owner is None:
            return argv
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if os.access(runuser, os.X_OK):
            return [runuser, "-u", self.owner.pw_name, "--", *argv]
        return ["su", self.owner.pw_name, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _output_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("clamd.out", "clamd.log"):
            with contextlib.suppress(OSError):
                text += (self.root / name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_clamd() -> Iterator[ClamdServer]:
    """Start clamd for the duration of the block; always stop it and delete its directory."""
    server = ClamdServer.start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # manual check: python tests/clamav.py
    with running_clamd() as clamd:
        print(clamd.address, clamd.unix_address)
        print(ping(("127.0.0.1", clamd.port)), ping(str(clamd.socket_path)))
