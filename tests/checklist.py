"""The security checklist's ids, which answers they apply to, and which are built.

This is the template's side of ../shared/CHECKLIST.md: `test_checklist.py`
checks that every id that applies to a generated project and is built has at
least one test marked with it in that project, and that the project's
docs/security-checklist.md names it. When an issue lands a feature, it moves
the feature's ids into BUILT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Answers = Mapping[str, Any]

ALL_IDS: tuple[str, ...] = (
    *(f"AUTH-0{n}" for n in range(1, 10)),
    *(f"AUTHZ-0{n}" for n in range(1, 5)),
    *(f"VAL-0{n}" for n in range(1, 5)),
    "INJ-01",
    "INJ-02",
    "TYPE-01",
    "RATE-01",
    "RATE-02",
    "RATE-03",
    *(f"PAY-0{n}" for n in range(1, 6)),
    *(f"DB-0{n}" for n in range(1, 8)),
    "DATA-01",
    "DATA-02",
    "DATA-03",
    *(f"SRV-0{n}" for n in range(1, 5)),
    "ERR-01",
    "ERR-02",
    "ERR-03",
    "LOG-01",
    "LOG-02",
    "LOG-03",
    *(f"UP-0{n}" for n in range(1, 5)),
    "CI-01",
    "CI-02",
    "CI-03",
)

# Ids marked (opt) or (pg) in the checklist apply only with these answers.
APPLIES_WHEN: dict[str, Callable[[Answers], bool]] = {
    "AUTH-06": lambda a: bool(a.get("mfa")),
    # TOTP secrets are the only stored values to encrypt (CHECKLIST: "TOTP secrets,
    # provider tokens"; no provider token is stored): without MFA there is nothing.
    "DATA-01": lambda a: bool(a.get("mfa")),
    **{f"PAY-0{n}": (lambda a: a.get("payment_provider") != "none") for n in range(1, 6)},
    "DB-03": lambda a: a.get("database") == "postgresql",
    "DB-04": lambda a: a.get("database") == "postgresql",
    # Without a chosen CI provider the project ships no CI configuration to hold to it.
    "CI-02": lambda a: a.get("ci_provider") != "none",
    **{f"UP-0{n}": (lambda a: bool(a.get("file_uploads"))) for n in range(1, 5)},
}

# Ids whose implementation has landed, with the generated tests that prove them.
BUILT: frozenset[str] = frozenset(
    {
        "AUTH-01",
        "AUTH-02",
        "AUTH-03",
        "AUTH-04",
        "AUTH-05",
        "AUTH-06",
        "AUTH-07",
        "AUTH-08",
        "AUTH-09",
        "AUTHZ-01",
        "AUTHZ-02",
        "AUTHZ-03",
        "AUTHZ-04",
        "VAL-01",
        "VAL-02",
        "VAL-03",
        "VAL-04",
        "INJ-01",
        "INJ-02",
        "TYPE-01",
        "RATE-01",
        "RATE-02",
        "RATE-03",
        "PAY-01",
        "PAY-02",
        "PAY-03",
        "PAY-04",
        "PAY-05",
        "DB-01",
        "DB-02",
        "DB-03",
        "DB-04",
        "DB-05",
        "DB-06",
        "DB-07",
        "DATA-01",
        "DATA-02",
        "DATA-03",
        "SRV-01",
        "SRV-02",
        "SRV-03",
        "SRV-04",
        "ERR-01",
        "ERR-02",
        "ERR-03",
        "LOG-01",
        "LOG-02",
        "LOG-03",
        "UP-01",
        "UP-02",
        "UP-03",
        "UP-04",
        "CI-02",
        "CI-03",
    }
)


def applies(checklist_id: str, answers: Answers) -> bool:
    rule = APPLIES_WHEN.get(checklist_id)
    return rule is None or rule(answers)


def required_ids(answers: Answers) -> list[str]:
    """The ids a project generated with these answers must prove with marked tests."""
    return [i for i in ALL_IDS if i in BUILT and applies(i, answers)]
