"""The arithmetic of the benchmarks: summaries of repeated runs, ratios, text tables.

Kept apart from everything that starts processes so that tests/test_benchmarks.py
can check it in milliseconds (`make test`), without running a benchmark.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Min, median and max of repeated measurements of one thing.

    All three are kept: on a shared machine the minimum is the least disturbed
    run, the median the typical one, and a max far above them says the machine
    was busy.
    """

    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        if not samples:
            raise ValueError("a summary needs at least one measurement")
        return cls(tuple(samples))

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def as_dict(self) -> dict[str, float | list[float]]:
        return {
            "min": self.min,
            "median": self.median,
            "max": self.max,
            "samples": list(self.samples),
        }


def ratio(measured: float, floor: float) -> float | None:
    """measured / floor; None when the floor is zero (nothing to compare against)."""
    if floor == 0:
        return None
    return measured / floor


def format_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def format_percent_change(value: float | None) -> str:
    """A ratio as the change it means: 0.80 -> "-20%", 1.25 -> "+25%"."""
    if value is None:
        return "n/a"
    return f"{(value - 1) * 100:+.0f}%"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(headers)} columns")
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
