"""Benchmark 1: how long `copier copy` of the richest combination takes, against Copier's floor.

The floor is `copier copy` of a template with one question and one file,
made at run time as a git repository and copied the same way (`--vcs-ref
HEAD`, so Copier clones it just as it clones this template): what is left
above it is this template's own cost, its questions, files and
post-generation task (which locks the dependencies with uv and makes the
first commit; a user waits for those too). Runs alternate between the floor
and each framework so that a busy minute on the machine falls on both sides.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.stats import Summary, format_ratio, ratio, render_table

from combinations import richest_answers
from helpers import REPO_ROOT, clean_env, explain, harness_tool, run

COPY_TIMEOUT = 600

MINIMAL_COPIER_YML = """\
# The floor of the generation benchmark: one question, one file.
name:
  type: str
  help: The project's name
  default: floor
"""
MINIMAL_FILE = "README.md.jinja"
MINIMAL_CONTENT = "# {{ name }}\n"


class BenchmarkError(RuntimeError):
    """A benchmark could not measure what it measures; the message says why."""


def write_minimal_template(directory: Path) -> Path:
    """A one-file Copier template, committed in a new git repository at `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "copier.yml").write_text(MINIMAL_COPIER_YML, encoding="utf-8")
    (directory / MINIMAL_FILE).write_text(MINIMAL_CONTENT, encoding="utf-8")
    git = ["git", "-c", "user.name=Rampart bench", "-c", "user.email=bench@example.test"]
    for argv in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        [*git, "commit", "--quiet", "--no-gpg-sign", "-m", "The floor template"],
    ):
        done = subprocess.run(
            argv, cwd=directory, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise BenchmarkError(f"`{' '.join(argv)}` failed: {done.stderr}")
    return directory


def copier_copy(
    template: Path, destination: Path, answers: Mapping[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults --vcs-ref HEAD [--data-file] TEMPLATE DEST`, as a user runs it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    argv = [harness_tool("copier"), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD"]
    if answers:
        answers_file = destination.parent / f"{destination.name}.answers.yml"
        answers_file.write_text(yaml.safe_dump(dict(answers)), encoding="utf-8")
        argv += ["--data-file", str(answers_file)]
    return run(
        [*argv, str(template), str(destination)],
        cwd=destination.parent,
        env=clean_env(),
        timeout=COPY_TIMEOUT,
    )


def timed_copy(template: Path, destination: Path, answers: Mapping[str, Any] | None) -> float:
    """Seconds of one `copier copy`; a failed copy is an error, never a number."""
    started = time.perf_counter()
    done = copier_copy(template, destination, answers)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError("copier copy failed: " + explain(done, 40))
    return elapsed


FLOOR = "floor"


@dataclass
class GenerationResult:
    """Seconds of each run, per subject: the floor, then one entry per framework."""

    runs: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self, subject: str) -> Summary:
        return Summary.of(self.seconds[subject])

    def ratio(self, subject: str) -> float | None:
        """Median over median: the richest combination against the floor."""
        return ratio(self.summary(subject).median, self.summary(FLOOR).median)

    def as_dict(self) -> dict[str, Any]:
        subjects: dict[str, Any] = {}
        for subject, samples in self.seconds.items():
            if not samples:
                continue
            entry: dict[str, Any] = {"seconds": Summary.of(samples).as_dict()}
            if subject != FLOOR:
                entry["answers"] = richest_answers(subject)
                entry["ratio_median_to_floor"] = self.ratio(subject)
            subjects[subject] = entry
        return {"runs": self.runs, "subjects": subjects, "failures": self.failures}

    def table(self) -> str:
        rows = []
        for subject, samples in self.seconds.items():
            if not samples:
                continue
            s = Summary.of(samples)
            label = "floor (one-file template)" if subject == FLOOR else f"{subject} richest"
            shown = "1.00x" if subject == FLOOR else format_ratio(self.ratio(subject))
            rows.append([label, f"{s.min:.2f}", f"{s.median:.2f}", f"{s.max:.2f}", shown])
        for subject, reason in self.failures.items():
            rows.append([f"{subject} richest", "FAILED", "", "", reason.splitlines()[0][:60]])
        return f"Generation: copier copy, {self.runs} runs, seconds\n" + render_table(
            ["combination", "min", "median", "max", "median/floor"], rows
        )


def run_generation(
    frameworks: Sequence[str], runs: int, workdir: Path, keep_going: bool
) -> GenerationResult:
    """Time `runs` copies of the floor and of each framework's richest combination, interleaved."""
    template = write_minimal_template(workdir / "floor-template")
    result = GenerationResult(runs, {FLOOR: [], **{f: [] for f in frameworks}})
    for index in range(runs):
        out = workdir / f"run-{index}"
        result.seconds[FLOOR].append(timed_copy(template, out / FLOOR, None))
        for framework in frameworks:
            if framework in result.failures:
                continue
            try:
                seconds = timed_copy(REPO_ROOT, out / framework, richest_answers(framework))
            except BenchmarkError as error:
                if not keep_going:
                    raise BenchmarkError(f"{framework}: {error}") from None
                result.failures[framework] = str(error)
                result.seconds[framework] = []
                continue
            result.seconds[framework].append(seconds)
        print(f"  generation run {index + 1}/{runs} done", flush=True)
    return result
