"""The harness's throwaway redis-server: real, loopback-only, password-protected, not root,
one database per suite, and it stops and restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from redis import RedisServer, ask, ping

pytestmark = pytest.mark.deep


def test_redis_answers_only_with_its_password(redis_server: RedisServer) -> None:
    assert ping(redis_server.port, redis_server.password)
    assert not ping(redis_server.port, None)
    assert not ping(redis_server.port, "wrong-password")
    assert ask(redis_server.port, None, "PING").startswith(b"-NOAUTH")


def test_redis_listens_on_loopback_only(redis_server: RedisServer) -> None:
    reply = ask(redis_server.port, redis_server.password, "CONFIG", "GET", "bind", timeout=5)
    assert reply == [b"bind", b"127.0.0.1"]
    config = (redis_server.root / "redis.conf").read_text(encoding="ascii")
    assert "bind 127.0.0.1\n" in config
    assert (redis_server.root / "redis.conf").stat().st_mode & 0o077 == 0


def test_redis_never_runs_as_root(redis_server: RedisServer) -> None:
    assert redis_server.process is not None
    status = Path(f"/proc/{redis_server.process.pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert uid != 0 or os.geteuid() != 0


def test_each_suite_gets_a_database_of_its_own(redis_server: RedisServer) -> None:
    first, second = redis_server.new_database(), redis_server.new_database()
    numbers = {int(first.rsplit("/", 1)[1]), int(second.rsplit("/", 1)[1])}
    assert len(numbers) == 2
    assert 0 not in numbers
    assert first.startswith(f"redis://:{redis_server.password}@127.0.0.1:{redis_server.port}/")


def test_a_stopped_redis_is_unreachable_until_it_comes_back(redis_server: RedisServer) -> None:
    with redis_server.stopped():
        assert not ping(redis_server.port, redis_server.password)
    assert ping(redis_server.port, redis_server.password)


def test_stopping_deletes_the_server_and_its_directory() -> None:
    server = RedisServer.start()
    root, port = server.root, server.port
    assert (root / "redis.conf").is_file()
    server.stop()
    assert not root.exists()
    assert not ping(port, server.password)
    server.stop()  # a second stop is harmless
