"""The pure parts of the benchmarks (benchmarks/, `make bench`), checked without running one.

`make bench` takes minutes and needs a quiet machine, so `make test` never runs
it; what can break without anyone noticing is checked here instead: the
statistics and ratios, the wrk script and the parsing of its output, the
machine description, the tables, the bare apps' sources, and the one-file
template that is the floor of the generation benchmark (rendered for real).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from benchmarks.bare import APP_MODULE, BODY_FILE, RUNNER, SOURCES, write_bare_app
from benchmarks.generation import (
    FLOOR,
    MINIMAL_FILE,
    GenerationResult,
    copier_copy,
    write_minimal_template,
)
from benchmarks.machine import cpu_model, memory_bytes, physical_cores
from benchmarks.protections import ENDPOINTS, LOGIN, NOTES, LoadSettings, ProtectionResult
from benchmarks.stats import Summary, format_percent_change, format_ratio, ratio, render_table
from benchmarks.wrk import (
    MARKER,
    Load,
    WrkError,
    WrkResult,
    lua_string,
    parse_output,
    request_script,
)

from combinations import FRAMEWORKS
from helpers import explain

pytestmark = pytest.mark.fast


# --- statistics -------------------------------------------------------------------------


def test_summary_gives_min_median_and_max() -> None:
    summary = Summary.of([3.0, 1.0, 2.0, 10.0])
    assert (summary.min, summary.median, summary.max) == (1.0, 2.5, 10.0)
    assert summary.as_dict()["samples"] == [3.0, 1.0, 2.0, 10.0]
    assert Summary.of([4.0]).median == 4.0


def test_a_summary_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Summary.of([])


def test_ratios_and_how_they_read() -> None:
    assert ratio(8.0, 10.0) == pytest.approx(0.8)
    assert ratio(1.0, 0.0) is None
    assert format_ratio(0.8) == "0.80x"
    assert format_ratio(None) == "n/a"
    assert format_percent_change(0.8) == "-20%"
    assert format_percent_change(1.25) == "+25%"
    assert format_percent_change(None) == "n/a"


def test_tables_align_their_columns() -> None:
    table = render_table(["what", "seconds"], [["floor", "0.5"], ["fastapi richest", "12.25"]])
    lines = table.splitlines()
    assert lines[0].startswith("what") and lines[0].endswith("seconds")
    assert set(lines[1]) == {"-", " "}
    assert lines[2].startswith("floor ") and lines[2].endswith("   0.5")
    assert len({len(line) for line in lines}) == 1
    with pytest.raises(ValueError, match="cells"):
        render_table(["a", "b"], [["only one"]])


# --- wrk ----------------------------------------------------------------------------------

WRK_OUTPUT = f"""\
Running 10s test @ https://127.0.0.1:41234/api/notes
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.02ms    4.10ms  95.12ms   88.00%
    Req/Sec     1.45k   120.00     1.70k    70.00%
  29000 requests in 10.00s, 30.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2900.00
Transfer/sec:      3.01MB
{MARKER}{{"requests":29000,"duration_us":10000000,"bytes":31561113,"errors":{{"connect":0,"read":1,"write":0,"status":3,"timeout":2}},"latency_us":{{"p50":10500,"p90":15000,"p99":40250,"max":95120,"mean":11020.5}}}}
"""


def test_wrk_output_is_read_from_the_summary_line() -> None:
    result = parse_output(WRK_OUTPUT)
    assert result.requests == 29000
    assert result.duration_s == 10.0
    assert result.requests_per_second == pytest.approx(2900.0)
    assert (result.p50_ms, result.p90_ms, result.p99_ms) == (10.5, 15.0, 40.25)
    assert result.max_ms == pytest.approx(95.12)
    assert result.non_2xx == 3
    assert result.socket_errors == 3
    assert result.failures == 6
    assert result.as_dict()["latency_ms"]["p99"] == 40.25


def test_wrk_output_without_a_summary_is_an_error() -> None:
    with pytest.raises(WrkError, match="no summary"):
        parse_output("Running 10s test @ https://127.0.0.1:1/\nRequests/sec: 10\n")


def test_lua_strings_are_escaped() -> None:
    assert lua_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_the_request_script_sets_method_headers_body_and_reports() -> None:
    script = request_script(
        "POST",
        {"Cookie": "__Host-session=abc; csrftoken=x.y", "X-CSRFToken": "x.y"},
        '{"email": "a@example.test", "password": "p\\"w"}',
    )
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Cookie"] = "__Host-session=abc; csrftoken=x.y"' in script
    assert 'wrk.headers["X-CSRFToken"] = "x.y"' in script
    assert (
        'wrk.body = "{\\"email\\": \\"a@example.test\\", \\"password\\": \\"p\\\\\\"w\\"}"'
        in script
    )
    assert "done = function(summary, latency, requests)" in script
    assert MARKER.strip() in script
    assert "wrk.body" not in request_script("GET", {})


# --- the machine ----------------------------------------------------------------------------

CPUINFO = """\
processor\t: 0
model name\t: AMD EPYC 7B13
physical id\t: 0
core id\t: 0

processor\t: 1
model name\t: AMD EPYC 7B13
physical id\t: 0
core id\t: 0

processor\t: 2
model name\t: AMD EPYC 7B13
physical id\t: 0
core id\t: 1
"""


def test_the_machine_is_read_from_proc() -> None:
    assert cpu_model(CPUINFO) == "AMD EPYC 7B13"
    assert physical_cores(CPUINFO) == 2
    assert physical_cores("processor\t: 0\n") is None
    assert memory_bytes("MemTotal:       24641528 kB\nMemFree: 1 kB\n") == 24641528 * 1024
    assert memory_bytes("") is None


# --- results ----------------------------------------------------------------------------------


def test_generation_ratio_is_median_over_the_floor_median() -> None:
    result = GenerationResult(3, {FLOOR: [1.0, 2.0, 1.5], "fastapi": [6.0, 4.0, 5.0]})
    assert result.ratio("fastapi") == pytest.approx(5.0 / 1.5)
    result.failures["django"] = "copier copy failed: boom\nmore"
    table = result.table()
    assert "fastapi richest" in table and "3.33x" in table
    assert "django richest" in table and "FAILED" in table
    data = result.as_dict()
    assert data["subjects"]["fastapi"]["ratio_median_to_floor"] == pytest.approx(5.0 / 1.5)
    assert data["subjects"]["fastapi"]["answers"]["framework"] == "fastapi"
    assert data["failures"] == {"django": "copier copy failed: boom\nmore"}


def wrk_result(rps: float, p50: float, p99: float) -> WrkResult:
    return WrkResult(
        requests=int(rps * 10),
        duration_s=10.0,
        bytes=0,
        p50_ms=p50,
        p90_ms=p50,
        p99_ms=p99,
        max_ms=p99,
        mean_ms=p50,
        non_2xx=0,
        socket_errors=0,
    )


def test_protection_ratios_compare_the_service_with_the_bare_app() -> None:
    settings = LoadSettings(Load(2, 32, 10), workers=2, rounds=2, warmup_s=3, notes=10)
    result = ProtectionResult("fastapi", {"framework": "fastapi"}, settings)
    result.runs[NOTES]["bare"] += [wrk_result(1000, 10, 40), wrk_result(1200, 12, 44)]
    result.runs[NOTES]["service"] += [wrk_result(800, 13, 50), wrk_result(900, 14, 60)]
    result.runs[LOGIN]["bare"] += [wrk_result(2000, 5, 9), wrk_result(2000, 5, 9)]
    result.runs[LOGIN]["service"] += [wrk_result(20, 900, 2000), wrk_result(30, 800, 1800)]
    assert result.rps_ratio(NOTES) == pytest.approx(850 / 1100)
    assert result.rps_ratio(LOGIN) == pytest.approx(25 / 2000)
    data = result.as_dict()
    assert set(data["endpoints"]) == set(ENDPOINTS)
    assert data["endpoints"][NOTES]["ratio_p99_service_to_bare"] == pytest.approx(55 / 42)
    assert data["load"]["connections"] == 32
    table = result.table()
    assert "GET /api/notes service/bare" in table and "-23%" in table


# --- the bare apps and the floor template ----------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_has_a_bare_app_that_parses(framework: str, tmp_path: Path) -> None:
    runner = write_bare_app(framework, tmp_path, {"items": [], "next_cursor": None})
    assert runner == tmp_path / RUNNER
    ast.parse((tmp_path / f"{APP_MODULE}.py").read_text(encoding="utf-8"))
    # Server workers are spawned and import the runner again: it must start only as __main__.
    tree = ast.parse(runner.read_text(encoding="utf-8"))
    assert any(isinstance(node, ast.If) and "__main__" in ast.unparse(node) for node in tree.body)
    assert json.loads((tmp_path / BODY_FILE).read_text(encoding="utf-8"))["items"] == []
    assert set(SOURCES) == set(FRAMEWORKS)


def test_the_floor_template_renders(tmp_path: Path) -> None:
    template = write_minimal_template(tmp_path / "template")
    assert {p.name for p in template.iterdir()} == {".git", "copier.yml", MINIMAL_FILE}
    done = copier_copy(template, tmp_path / "out")
    assert done.returncode == 0, explain(done)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["README.md"]
    assert (tmp_path / "out" / "README.md").read_text(encoding="utf-8") == "# floor\n"
