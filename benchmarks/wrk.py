"""wrk, the HTTP load generator: its Lua script, its command line and its output.

The request (method, headers, body) is given to wrk as a small Lua script,
since wrk's command line takes headers only and the session cookie, the CSRF
token and the login body come from the run. The same script's `done` hook
prints the summary as one JSON line: exact percentiles in microseconds, the
number of answers that were not 2xx/3xx and the socket errors, instead of
wrk's rounded human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The line of wrk's output that holds the JSON summary the script's `done` hook writes.
MARKER = "RAMPART_WRK "

INSTALL_HINT = (
    "wrk (the HTTP load generator) is missing: `make bench` installs it with apt-get "
    "(.ci/ensure-services wrk), or run `apt-get install -y wrk`"
)

DONE_HOOK = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f}}\n',
    "MARKER", summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
""".replace("MARKER", MARKER)


class WrkError(RuntimeError):
    """wrk is missing, failed, or its output holds no summary."""


def lua_string(text: str) -> str:
    """`text` as a Lua string literal (double-quoted, escaped)."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )
    return f'"{escaped}"'


def request_script(method: str, headers: Mapping[str, str], body: str | None = None) -> str:
    """The Lua script that makes wrk send this request, and report as JSON when done."""
    lines = [f"wrk.method = {lua_string(method)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    return "\n".join(lines) + "\n" + DONE_HOOK


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles (milliseconds) and failures."""

    requests: int
    duration_s: float
    bytes: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    # Answers that were not 2xx or 3xx (a 401, 403 or 429 would make the run meaningless).
    non_2xx: int
    # Sockets that failed to connect, read, write, or timed out.
    socket_errors: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failures(self) -> int:
        return self.non_2xx + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "duration_s": self.duration_s,
            "requests_per_second": self.requests_per_second,
            "bytes": self.bytes,
            "latency_ms": {
                "p50": self.p50_ms,
                "p90": self.p90_ms,
                "p99": self.p99_ms,
                "max": self.max_ms,
                "mean": self.mean_ms,
            },
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
        }


def parse_output(output: str) -> WrkResult:
    """The summary that the script's `done` hook wrote into wrk's output."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise WrkError(f"wrk printed no summary line ({MARKER.strip()}):\n{output[-2000:]}")
    errors = data["errors"]
    latency = data["latency_us"]
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        bytes=int(data["bytes"]),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=latency["mean"] / 1000,
        non_2xx=int(errors["status"]),
        socket_errors=int(errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]),
    )


def find_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise WrkError(INSTALL_HINT)
    return found


@dataclass(frozen=True)
class Load:
    """How hard wrk pushes: the same for both sides of a comparison."""

    threads: int
    connections: int
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "connections": self.connections,
            "duration_s": self.duration_s,
        }


def run_wrk(url: str, script: Path, load: Load, duration_s: float | None = None) -> WrkResult:
    """Load `url` with the request of `script`; `duration_s` overrides the load's (warm-ups)."""
    seconds = load.duration_s if duration_s is None else duration_s
    argv = [
        find_wrk(),
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={max(1, round(seconds))}s",  # wrk counts whole seconds
        "--timeout=30s",
        f"--script={script}",
        url,
    ]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish: {error}") from None
    if done.returncode != 0:
        raise WrkError(f"`{' '.join(argv)}` exited with {done.returncode}:\n{done.stderr}")
    return parse_output(done.stdout)
