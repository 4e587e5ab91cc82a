"""`python -m benchmarks` (what `make bench` runs): every benchmark, its tables and a JSON file.

Each benchmark prints a table as soon as it is done, and the JSON file
(benchmarks/results/<date>.json unless --output says otherwise) gets the
machine's description, the settings and every raw measurement, for
docs/performance.md. Numbers from a busy or shared machine are not worth
publishing: the load average at the start is recorded to tell.

A framework that cannot be generated, installed or served is an error: the
run stops (exit 1) and says why. With --keep-going the other frameworks and
benchmarks still run, the failure is printed in the tables and recorded in
the JSON file, and the exit status is still 1: nothing is ever skipped in
silence.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import REPO_ROOT
from benchmarks.generation import run_generation
from benchmarks.machine import describe
from benchmarks.project import ProjectResult, generate, measure_project, project_table, uv_sync
from benchmarks.protections import LoadSettings, ProtectionResult, measure_protections
from benchmarks.wrk import Load, WrkError, find_wrk

from combinations import FRAMEWORKS
from helpers import harness_tool, uv_binary

BENCHMARKS = ("generation", "project", "protections")
# What a benchmark that cannot measure raises: its own errors, the harness's (a server that
# will not start, clamd or Redis missing: RuntimeError), a setup step's check of an answer
# (the contract client asserts), a file or process that failed.
FAILURES = (RuntimeError, AssertionError, OSError)
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def comma_list(choices: Sequence[str]) -> Any:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose among {', '.join(choices)}")
        return items

    return parse


def positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be more than 0")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--only",
        type=comma_list(BENCHMARKS),
        default=",".join(BENCHMARKS),
        help="benchmarks to run",
    )
    parser.add_argument(
        "--frameworks", type=comma_list(FRAMEWORKS), default=",".join(FRAMEWORKS), help="frameworks"
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="record a framework that fails and go on with the rest (exit status 1 all the same)",
    )
    parser.add_argument(
        "--runs", type=positive(int), default=5, help="copier copy runs (generation)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database of the project benchmarks (sqlite needs no server)",
    )
    parser.add_argument(
        "--suite-runs", type=positive(int), default=1, help="runs of the project's test suite"
    )
    parser.add_argument(
        "--workers", type=positive(int), default=2, help="server workers, both sides"
    )
    parser.add_argument("--threads", type=positive(int), default=2, help="wrk threads")
    parser.add_argument("--connections", type=positive(int), default=32, help="wrk connections")
    parser.add_argument(
        "--duration", type=positive(int), default=10, help="seconds of each wrk run"
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured load first (0: none)"
    )
    parser.add_argument(
        "--rounds", type=positive(int), default=3, help="wrk rounds per endpoint and side"
    )
    parser.add_argument(
        "--notes", type=int, default=10, help="notes the benchmark's user holds (GET /api/notes)"
    )
    parser.add_argument(
        "--project",
        type=Path,
        help="protections: serve this generated and installed project (`uv sync` done) "
        "instead of generating one, e.g. to measure a change; needs one --frameworks",
    )
    parser.add_argument(
        "--output", type=Path, help="JSON results file; default: benchmarks/results/<date>.json"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep generated projects and logs here; default: a temp dir, removed",
    )
    return parser


def tool_versions() -> dict[str, list[str]]:
    return {
        "copier": [harness_tool("copier"), "--version"],
        "uv": [uv_binary(), "--version"],
        "wrk": [shutil.which("wrk") or "wrk", "--version"],
        "git": ["git", "--version"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.project and len(args.frameworks) != 1:
        parser.error("--project needs exactly one framework in --frameworks, the project's")
    if args.project:
        args.project = args.project.resolve()
    if "protections" in args.only:
        try:
            find_wrk()
        except WrkError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    started = datetime.datetime.now(datetime.UTC)
    output = args.output or RESULTS_DIR / f"{started:%Y-%m-%d}.json"
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": describe(tool_versions()),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "failures": {},
    }
    print(
        f"Machine: {report['machine']['cpu_model']}, {report['machine']['logical_cpus']} CPUs, "
        f"{report['machine']['memory_gib']} GiB, {report['machine']['os']}, "
        f"load average {report['machine']['load_average_at_start'][0]:.2f}\n",
        flush=True,
    )
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=args.workdir))
    else:
        workdir = Path(tempfile.mkdtemp(prefix="rampart-bench-"))
    try:
        ok = run_all(args, workdir, report)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nResults: {output}")
    return 0 if ok and not report["failures"] else 1


def fail(report: dict[str, Any], key: str, error: Exception, keep_going: bool) -> None:
    """Record a failure; without --keep-going, stop the run with it."""
    report["failures"][key] = str(error)
    print(f"\nFAILED {key}: {error}\n", file=sys.stderr, flush=True)
    if not keep_going:
        raise SystemExit(1)


def run_all(args: argparse.Namespace, workdir: Path, report: dict[str, Any]) -> bool:
    """Run the selected benchmarks; True when all of them measured what they measure."""
    try:
        _run_all(args, workdir, report)
    except SystemExit:
        return False
    return True


def _run_all(args: argparse.Namespace, workdir: Path, report: dict[str, Any]) -> None:
    frameworks: list[str] = args.frameworks
    if "generation" in args.only:
        print(f"Generation: {args.runs} runs of copier copy per template ...", flush=True)
        begun = time.perf_counter()
        try:
            generation = run_generation(
                frameworks, args.runs, workdir / "generation", args.keep_going
            )
        except FAILURES as error:
            fail(report, "generation", error, args.keep_going)
        else:
            report["generation"] = generation.as_dict()
            for framework, reason in generation.failures.items():
                report["failures"][f"generation/{framework}"] = reason
            print(f"\n{generation.table()}\n  ({time.perf_counter() - begun:.0f} s)\n", flush=True)

    projects: dict[str, Path] = {}
    if "project" in args.only:
        results: list[ProjectResult] = []
        failed: dict[str, str] = {}
        for framework in frameworks:
            print(f"Project: {framework} uv sync and test suite ...", flush=True)
            try:
                result, projects[framework] = measure_project(
                    framework, args.database, workdir / "project", args.suite_runs
                )
            except FAILURES as error:
                failed[framework] = str(error)
                fail(report, f"project/{framework}", error, args.keep_going)
                continue
            results.append(result)
        report["project"] = {r.framework: r.as_dict() for r in results}
        print(f"\n{project_table(results, failed)}\n", flush=True)

    if "protections" in args.only:
        settings = LoadSettings(
            load=Load(args.threads, args.connections, args.duration),
            workers=args.workers,
            rounds=args.rounds,
            warmup_s=args.warmup,
            notes=args.notes,
        )
        report["protections"] = {}
        for framework in frameworks:
            print(f"Protections: {framework} service against the bare app ...", flush=True)
            try:
                project = (
                    args.project
                    or projects.get(framework)
                    or installed_project(framework, args.database, workdir / "protections")
                )
                measured: ProtectionResult = measure_protections(
                    framework, project, workdir / "protections" / f"{framework}-serve", settings
                )
            except FAILURES as error:
                fail(report, f"protections/{framework}", error, args.keep_going)
                continue
            report["protections"][framework] = measured.as_dict()
            print(f"\n{measured.table()}\n", flush=True)


def installed_project(framework: str, database: str, workdir: Path) -> Path:
    """Generate and install the project when the project benchmark did not."""
    project = generate(framework, database, workdir / f"{framework}-project")
    from helpers import clean_env

    uv_sync(project, clean_env())
    return project


if __name__ == "__main__":
    sys.exit(main())
