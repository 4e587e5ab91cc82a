"""TYPE-01: the code and the tests pass `mypy --strict` (configured in pyproject.toml)."""

from __future__ import annotations

import pytest

from helpers import MYPY_RUN, start_mypy

MYPY_TIMEOUT_SECONDS = 600


@pytest.mark.checklist("TYPE-01")
def test_the_code_and_the_tests_pass_mypy_strict(pytestconfig: pytest.Config) -> None:
    mypy = pytestconfig.stash.get(MYPY_RUN, None) or start_mypy()
    report, errors = mypy.communicate(timeout=MYPY_TIMEOUT_SECONDS)
    assert mypy.returncode == 0, report + errors
