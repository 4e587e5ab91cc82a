"""TYPE-01: the code and the tests pass `mypy --strict` (configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.checklist("TYPE-01")
def test_the_code_and_the_tests_pass_mypy_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT)
    report, errors, status = api.run(["--config-file", str(PROJECT / "pyproject.toml")])
    assert status == 0, report + errors
