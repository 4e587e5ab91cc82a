"""The answers the template is tested with: the one place that lists them.

`CODE_DIMENSIONS` are the answers that change which Python code exists. The
fast layer renders every combination of them; the deep layer installs and
tests a pairwise-covering subset. Answers that change no code, or only a
default value in code that exists either way (`ci_provider`,
`python_version`, `require_admin_mfa`), rotate through their values so that
each value is rendered at least once.

Both frameworks offer every answer, so every combination is one a user can
generate.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from _pytest.mark import ParameterSet

Answers = Mapping[str, Any]

FRAMEWORKS: tuple[str, ...] = ("fastapi", "django")
DATABASES: tuple[str, ...] = ("sqlite", "postgresql")
PAYMENT_PROVIDERS: tuple[str, ...] = ("stripe", "paddle", "lemonsqueezy", "none")
FILE_UPLOADS: tuple[bool, ...] = (True, False)
RATE_LIMIT_STORES: tuple[str, ...] = ("database", "redis")
CI_PROVIDERS: tuple[str, ...] = ("github", "gitlab", "none")
PYTHON_VERSIONS: tuple[str, ...] = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class Value:
    """One value of a dimension: a short label for test ids and the answers it sets."""

    dimension: str
    label: str
    answers: tuple[tuple[str, Any], ...]


def _simple(question: str, values: Iterable[Any], label: Any = None) -> tuple[Value, ...]:
    out = []
    for value in values:
        text = label(value) if label else str(value)
        out.append(Value(question, text, ((question, value),)))
    return tuple(out)


CODE_DIMENSIONS: dict[str, tuple[Value, ...]] = {
    "framework": _simple("framework", FRAMEWORKS),
    "database": _simple("database", DATABASES),
    "payment_provider": _simple("payment_provider", PAYMENT_PROVIDERS, lambda v: f"pay-{v}"),
    "mfa": _simple("mfa", (True, False), lambda v: "mfa" if v else "no-mfa"),
    "file_uploads": _simple(
        "file_uploads", FILE_UPLOADS, lambda v: "uploads" if v else "no-uploads"
    ),
    "rate_limit_store": _simple("rate_limit_store", RATE_LIMIT_STORES, lambda v: f"rl-{v}"),
}

ROTATING_DIMENSIONS: dict[str, tuple[Value, ...]] = {
    "ci_provider": _simple("ci_provider", CI_PROVIDERS, lambda v: f"ci-{v}"),
    "python_version": _simple("python_version", PYTHON_VERSIONS, lambda v: f"py{v}"),
    # Only the default of a setting that both values ship (settings.py): asked when mfa is on.
    "require_admin_mfa": _simple(
        "require_admin_mfa", (True, False), lambda v: "admins-mfa" if v else "admins-optional"
    ),
}

# The order the fast layer walks the product in (ids keep CODE_DIMENSIONS' order):
# the combinations of one family (Combination.family) follow each other, those
# that differ least side by side, which is the order a worker type-checks them in.
WALK_ORDER: tuple[str, ...] = (
    "framework",
    "mfa",
    "file_uploads",
    "payment_provider",
    "database",
    "rate_limit_store",
)

# The richest combination: every optional part on. Its virtualenv type-checks all
# the combinations of its framework.
RICHEST: dict[str, Any] = {
    "framework": FRAMEWORKS[0],
    "database": "postgresql",
    "payment_provider": "stripe",
    "mfa": True,
    "require_admin_mfa": True,
    "file_uploads": True,
    "rate_limit_store": "redis",
    "ci_provider": "github",
    "python_version": "3.11",
}


def richest_answers(framework: str) -> dict[str, Any]:
    """RICHEST on this framework."""
    return {**RICHEST, "framework": framework}


@dataclass(frozen=True)
class Combination:
    """A set of answers plus a readable id (used as the pytest parameter id)."""

    values: tuple[Value, ...]

    @property
    def answers(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for value in self.values:
            merged.update(value.answers)
        return merged

    @property
    def id(self) -> str:
        return "-".join(value.label for value in self.values)

    def __getitem__(self, question: str) -> Any:
        return self.answers[question]

    @property
    def family(self) -> str:
        """The combinations that install the same apps: the fast layer's xdist group.

        One worker type-checks a family back to back, so its mypy cache holds
        the same modules from one combination to the next; spread over both
        workers, the Django plugin re-checked most of a project at each step.
        """
        answers = self.answers
        parts = (
            answers["framework"],
            "mfa" if answers["mfa"] else "no-mfa",
            "uploads" if answers["file_uploads"] else "no-uploads",
            "no-payments" if answers["payment_provider"] == "none" else "payments",
        )
        return "-".join(parts)


def by_family(combinations: Iterable[Combination]) -> list[ParameterSet]:
    """pytest parameters, one per combination, grouped for xdist by family."""
    return [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(c.family)) for c in combinations]


def _in_dimension_order(values: Iterable[Value]) -> tuple[Value, ...]:
    rank = {name: i for i, name in enumerate((*CODE_DIMENSIONS, *ROTATING_DIMENSIONS))}
    return tuple(sorted(values, key=lambda value: rank[value.dimension]))


def _admin_mfa(code_values: Iterable[Value], index: int) -> tuple[Value, ...]:
    """require_admin_mfa's rotating value, for a combination with mfa on; none without."""
    if not dict(v for value in code_values for v in value.answers).get("mfa"):
        return ()
    admin = ROTATING_DIMENSIONS["require_admin_mfa"]
    return (admin[index % len(admin)],)


def _rotate(index: int) -> tuple[Value, ...]:
    """Pick rotating values so that, over consecutive indexes, every value and pair appears."""
    ci = ROTATING_DIMENSIONS["ci_provider"]
    py = ROTATING_DIMENSIONS["python_version"]
    return (ci[index % len(ci)], py[(index // len(ci)) % len(py)])


def all_code_combinations() -> list[Combination]:
    """Every combination of the code-changing answers, walked in WALK_ORDER, with rotating values."""
    rows = itertools.product(*(CODE_DIMENSIONS[name] for name in WALK_ORDER))
    return [
        Combination(_in_dimension_order((*row, *_rotate(i), *_admin_mfa(row, i))))
        for i, row in enumerate(rows)
    ]


# --- pairwise ---------------------------------------------------------------------------

Pair = tuple[tuple[int, int], tuple[int, int]]  # ((dimension, value), (dimension, value))


def _pairs_of(row: Sequence[int]) -> set[Pair]:
    return {((i, row[i]), (j, row[j])) for i, j in itertools.combinations(range(len(row)), 2)}


def all_pairs(sizes: Sequence[int]) -> set[Pair]:
    """Every pair of values of two different dimensions."""
    pairs: set[Pair] = set()
    for i, j in itertools.combinations(range(len(sizes)), 2):
        for a in range(sizes[i]):
            for b in range(sizes[j]):
                pairs.add(((i, a), (j, b)))
    return pairs


def _greedy_rows(sizes: Sequence[int], rng: random.Random) -> list[tuple[int, ...]]:
    candidates = list(itertools.product(*(range(n) for n in sizes)))
    uncovered = all_pairs(sizes)
    rows: list[tuple[int, ...]] = []
    while uncovered:
        scored = [(len(_pairs_of(row) & uncovered), row) for row in candidates]
        top = max(score for score, _ in scored)
        best = rng.choice([row for score, row in scored if score == top])
        rows.append(best)
        uncovered -= _pairs_of(best)
    if not rows and candidates:  # one dimension (or none): a single row still tests something
        rows.append(candidates[0])
    return rows


def pairwise_rows(sizes: Sequence[int], attempts: int = 50) -> list[tuple[int, ...]]:
    """A small set of rows (value indexes) in which every pair of values of two
    dimensions appears.

    Greedy: repeatedly take a row of the full product that covers the most
    pairs not yet covered, breaking ties at random. A few seeded attempts are
    made and the shortest result kept, so the set is small and deterministic.
    The product here is small (a few hundred rows), so this takes well under a second.
    """
    best: list[tuple[int, ...]] | None = None
    for seed in range(attempts):
        rows = _greedy_rows(sizes, random.Random(seed))
        if best is None or len(rows) < len(best):
            best = rows
    return sorted(best or [])


def local_python_version() -> str:
    """The python_version answer that the machine running the tests can install without downloads."""
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    return mine if mine in PYTHON_VERSIONS else PYTHON_VERSIONS[0]


def pairwise_code_combinations() -> list[Combination]:
    """The deep layer's set: pairwise-covering over the code-changing answers.

    ci_provider and require_admin_mfa rotate; python_version is the local
    interpreter's, because the deep layer installs the project and must not
    download another Python.
    """
    dims = list(CODE_DIMENSIONS.values())
    rows = pairwise_rows([len(d) for d in dims])
    py = next(
        v
        for v in ROTATING_DIMENSIONS["python_version"]
        if v.answers[0][1] == local_python_version()
    )
    ci = ROTATING_DIMENSIONS["ci_provider"]
    combinations = []
    for i, row in enumerate(rows):
        code = tuple(dims[d][v] for d, v in enumerate(row))
        combinations.append(
            Combination(_in_dimension_order((*code, ci[i % len(ci)], py, *_admin_mfa(code, i))))
        )
    return combinations


def covered_pairs(combinations: Iterable[Combination]) -> set[frozenset[tuple[str, str]]]:
    """Pairs of (dimension, value label) that appear together in some combination."""
    found: set[frozenset[tuple[str, str]]] = set()
    for combo in combinations:
        code_values = [
            (v.dimension, v.label) for v in combo.values if v.dimension in CODE_DIMENSIONS
        ]
        for a, b in itertools.combinations(code_values, 2):
            found.add(frozenset({a, b}))
    return found


def required_pairs() -> set[frozenset[tuple[str, str]]]:
    """Every pair of code-changing values."""
    return covered_pairs(all_code_combinations())


# --- the contract layer ---------------------------------------------------------------

# What the contract layer serves, beyond framework, database and payment provider:
# every feature a framework offers. MFA is on with administrators required to
# enrol (tests/contract/test_mfa.py): the harness gives the server
# ENCRYPTION_KEYS, and the administrators of the suite and of the fuzzer enrol
# through the API on their first sign-in. Uploads (tests/contract/test_uploads.py):
# the harness starts a clamd per target.
CONTRACT_FEATURES: dict[str, Any] = {
    "mfa": True,
    "require_admin_mfa": True,
    "file_uploads": True,
    "ci_provider": "none",
}


@dataclass(frozen=True)
class ContractTarget:
    """One backend the contract layer starts as a real server.

    `payments_only`: the target runs only the payment tests (those that prove a
    PAY checklist id), not the rest of the suite nor the fuzzer: a provider
    that changes nothing but the payment code is proven without serving the
    whole suite once more.
    """

    framework: str
    database: str
    payment_provider: str
    payments_only: bool = False
    # With `redis`, the harness starts a redis-server for the target (contract/servers.py).
    rate_limit_store: str = "database"

    @property
    def id(self) -> str:
        return f"{self.framework}-{self.database}-{self.payment_provider}"

    @property
    def features(self) -> dict[str, Any]:
        """The answers beyond framework, database, provider and counters: CONTRACT_FEATURES."""
        return dict(CONTRACT_FEATURES)

    @property
    def mfa(self) -> bool:
        """The target serves the MFA routes (API.md `/api/auth/mfa/...`)."""
        return bool(self.features["mfa"])

    @property
    def admin_mfa(self) -> bool:
        """Administrators reach admin routes only with MFA enabled (403 `mfa_required` before)."""
        return self.mfa and bool(self.features.get("require_admin_mfa"))

    @property
    def file_uploads(self) -> bool:
        """The target serves `/api/files`, scanning with the clamd the harness starts for it."""
        return bool(self.features["file_uploads"])

    @property
    def answers(self) -> dict[str, Any]:
        return {
            "project_name": f"Contract {self.framework} {self.database} {self.payment_provider}",
            "framework": self.framework,
            "database": self.database,
            "python_version": local_python_version(),
            "payment_provider": self.payment_provider,
            "rate_limit_store": self.rate_limit_store,
            **self.features,
        }


# Which full target carries which provider; every other provider gets a
# payments-only target on the first database.
FULL_TARGET_PROVIDERS: dict[str, str] = {"sqlite": "paddle", "postgresql": "stripe"}
# Where each full target counts its rate limits and lockouts: both stores meet
# the black-box suite (the payments-only targets count in the database).
FULL_TARGET_STORES: dict[str, str] = {"sqlite": "database", "postgresql": "redis"}


def contract_targets() -> list[ContractTarget]:
    """The one list the contract layer runs against.

    Every framework on every database with the whole suite (each database with
    its own payment provider and counter store), plus, per framework, a
    payments-only target for each provider that no full target carries.
    """
    targets: list[ContractTarget] = []
    for framework in FRAMEWORKS:
        full = [
            ContractTarget(
                framework, d, FULL_TARGET_PROVIDERS[d], rate_limit_store=FULL_TARGET_STORES[d]
            )
            for d in DATABASES
        ]
        carried = {t.payment_provider for t in full}
        targets += full
        targets += [
            ContractTarget(framework, full[0].database, p, payments_only=True)
            for p in PAYMENT_PROVIDERS
            if p != "none" and p not in carried
        ]
    return targets
