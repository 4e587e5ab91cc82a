"""The harness's throwaway clamd: real, loopback-only, not root, knows EICAR, stops and restarts."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

import pytest

from clamav import EICAR, SIGNATURE_NAME, ClamdServer, ping

pytestmark = pytest.mark.deep


def scan(address: tuple[str, int] | str, data: bytes) -> str:
    """clamd's INSTREAM verdict on `data`, as it answers it."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as connection:
        connection.settimeout(10)
        connection.connect(address)
        connection.sendall(b"zINSTREAM\0" + struct.pack(">I", len(data)) + data + bytes(4))
        reply = b""
        while not reply.endswith(b"\0"):
            chunk = connection.recv(4096)
            assert chunk, "clamd closed the connection without a verdict"
            reply += chunk
    return reply.rstrip(b"\0").decode()


def test_clamd_finds_eicar_on_tcp_and_on_its_unix_socket(clamd: ClamdServer) -> None:
    for address in (("127.0.0.1", clamd.port), str(clamd.socket_path)):
        assert scan(address, EICAR) == f"stream: {SIGNATURE_NAME}.UNOFFICIAL FOUND"
        assert scan(address, b"plain text, nothing to see\n") == "stream: OK"
    assert clamd.address == f"tcp://127.0.0.1:{clamd.port}"
    assert clamd.unix_address == f"unix://{clamd.socket_path}"


def clamd_uid(server: ClamdServer) -> int:
    """The real uid of the clamd process (the child of runuser when the tests run as root)."""
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    status = Path(f"/proc/{children[0] if children else pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return int(uid_line.split()[1])


def test_clamd_never_runs_as_root(clamd: ClamdServer) -> None:
    assert clamd_uid(clamd) != 0 or os.geteuid() != 0


def test_a_stopped_clamd_is_unreachable_until_it_comes_back(clamd: ClamdServer) -> None:
    with clamd.stopped():
        assert not ping(("127.0.0.1", clamd.port))
        assert not clamd.socket_path.exists()
    assert ping(("127.0.0.1", clamd.port))
    assert scan(("127.0.0.1", clamd.port), EICAR).endswith(" FOUND")


def test_stopping_deletes_the_daemon_and_its_directory() -> None:
    server = ClamdServer.start()
    root, port = server.root, server.port
    assert (root / "db" / "rampart-test.ndb").is_file()
    server.stop()
    assert not root.exists()
    assert not ping(("127.0.0.1", port))
    server.stop()  # a second stop is harmless
