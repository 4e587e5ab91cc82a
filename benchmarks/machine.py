"""The machine the numbers were measured on, for the JSON report and docs/performance.md.

A benchmark's numbers mean nothing without the machine: CPU model and cores,
memory, OS and the versions of the tools measured. The load average at the
start is kept too, as a warning sign: the machine was not idle.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def _cpuinfo_field(name: str, text: str) -> str | None:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def cpu_model(cpuinfo: str) -> str:
    """The CPU's model name from /proc/cpuinfo's text (x86 and ARM spell it differently)."""
    for name in ("model name", "Model", "Hardware", "cpu model"):
        value = _cpuinfo_field(name, cpuinfo)
        if value:
            return value
    return platform.processor() or "unknown"


def physical_cores(cpuinfo: str) -> int | None:
    """Distinct (physical id, core id) pairs; None when /proc/cpuinfo does not say."""
    cores: set[tuple[str, str]] = set()
    physical = core = None
    for line in [*cpuinfo.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not key:
            if physical is not None and core is not None:
                cores.add((physical, core))
            physical = core = None
    return len(cores) or None


def memory_bytes(meminfo: str) -> int | None:
    """MemTotal from /proc/meminfo's text, in bytes."""
    value = _cpuinfo_field("MemTotal", meminfo)
    if not value:
        return None
    number, _, unit = value.partition(" ")
    return int(number) * (1024 if unit.strip().lower() == "kb" else 1)


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def tool_version(argv: list[str]) -> str | None:
    """The first line a tool prints for its version; None when it is missing."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def describe(tools: dict[str, list[str]]) -> dict[str, Any]:
    """The machine and the versions of `tools` (name -> the command that prints its version)."""
    cpuinfo = _read("/proc/cpuinfo")
    memory = memory_bytes(_read("/proc/meminfo"))
    return {
        "cpu_model": cpu_model(cpuinfo),
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical_cores(cpuinfo),
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "os": os_name(),
        "kernel": platform.release(),
        "architecture": platform.machine(),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
        "tools": {name: tool_version(argv) for name, argv in tools.items()},
    }
