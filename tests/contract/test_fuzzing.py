"""Schemathesis against the running production server, driven by the development server's document.

All of schemathesis' checks run (server errors, status codes, content types,
headers and bodies against the documented schemas, negative and positive data,
unsupported methods, resources after create and delete...), with a fixed seed,
a signed-in session and the CSRF header on every case (fuzz_hooks.py).
The run must generate at least MIN_CASES cases and find nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from combinations import ContractTarget
from contract.servers import Deployment
from helpers import REPO_ROOT, clean_env, harness_tool, run, tail

pytestmark = pytest.mark.contract

HERE = Path(__file__).parent
SEED = 20261126
MAX_EXAMPLES = 20  # per operation and phase; the coverage phase adds its own cases
MIN_CASES = 200
TIMEOUT = 600


@pytest.mark.checklist("VAL-01", "VAL-02", "ERR-01", "INJ-02", "CI-01")
def test_schemathesis_finds_no_failure(
    target: ContractTarget,
    deployment: Deployment,
    openapi: dict[str, Any],
    tmp_path: Path,
    record_property: Any,
) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi), encoding="utf-8")
    report = tmp_path / "schemathesis-report.json"
    env = clean_env(
        {
            # The hooks module is contract.fuzz_hooks, found through tests/ on the path.
            "PYTHONPATH": str(REPO_ROOT / "tests"),
            "CONTRACT_BASE_URL": deployment.base_url,
            "CONTRACT_CA_FILE": str(deployment.ca_file),
            "CONTRACT_ADMIN_EMAIL": deployment.fuzz_admin_email,
            "CONTRACT_ADMIN_PASSWORD": deployment.fuzz_admin_password,
            # Administrators enrol in MFA only where the project requires it of them.
            "CONTRACT_ADMIN_MFA": "1" if target.admin_mfa else "",
        }
    )
    done = run(
        [
            harness_tool("schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "--no-color",
            "run",
            str(document),
            "--url",
            deployment.base_url,
            "--tls-verify",
            str(deployment.ca_file),
            "--checks",
            "all",
            "--seed",
            str(SEED),
            "--max-examples",
            str(MAX_EXAMPLES),
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        cwd=tmp_path,
        env=env,
        timeout=TIMEOUT,
    )
    assert report.exists(), f"schemathesis wrote no report:\n{tail(done.stdout, 120)}"
    result = json.loads(report.read_text(encoding="utf-8"))
    cases = result["test_cases"]["generated"]
    failures = result["test_cases"]["with_failures"]
    errors = result["test_cases"]["errored"] + len(result["errors"])
    summary = f"{target.id}: {cases} cases, {failures} with failures, {errors} errors"
    record_property("schemathesis", summary)
    print(f"schemathesis {summary}")
    assert done.returncode == 0 and failures == 0 and errors == 0, (
        f"schemathesis {summary}:\n{tail(done.stdout, 150)}"
    )
    assert result["complete"], result["stop_reason"]
    assert cases >= MIN_CASES, summary
    assert result["operations"]["tested"] == result["operations"]["total"], result["operations"]
