"""Rampart's benchmarks, run by `make bench` (never by `make test`).

Three benchmarks, each measured side by side with its floor in the same run,
because a number alone says little on a shared or unknown machine while a
ratio measured in the same minutes does:

- generation: `copier copy` of each framework's richest combination against
  `copier copy` of a one-file template (the cost of Copier itself);
- the cost of the protections: an authenticated `GET /api/notes` and
  `POST /api/auth/login` of a generated production service against the same
  framework's bare hello-world app, both served the same way, loaded by wrk;
- the generated project's own `uv sync` (cold and warm cache) and test suite.

The benchmarks reuse the test harness (tests/: the answers of the richest
combination, the production server of the contract layer, its client and its
throwaway Redis and clamd) instead of a copy of it: importing this package
puts tests/ on sys.path, where those modules import each other from.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
