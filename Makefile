# Rampart: top-level commands of the template repository.
#
#   make demo        generate a service with the default answers and serve it
#   make test        every test layer (installs uv, PostgreSQL and ClamAV when missing)
#   make test-fast   render every combination: no leftover Jinja, TOML/YAML, ruff, mypy, files
#   make test-deep   install pairwise combinations and run their own test suites
#   make test-contract  serve generated backends over HTTPS; the API.md suite and schemathesis
#   make test-update generate from the previous release, change, copier update, test again
#   make bench       benchmarks, side by side: generation, protections' cost, uv sync and tests
#                    (not part of `make test`; e.g. BENCH_ARGS="--frameworks fastapi --runs 5")
#   make clean       remove the demo service and caches
#
# Works on a fresh Debian machine with only python3: uv is installed with pip,
# server packages with apt-get, both only when missing.

SHELL := /bin/bash
# Every recipe line fails on the first failing command, including inside pipes:
# no exit code is masked (pytest's 5, "no tests collected", fails `make test`).
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# pytest-xdist workers; `make test WORKERS=0` runs in one process.
WORKERS ?= 2
# Extra pytest arguments, e.g. `make test-fast PYTEST_ARGS="-k sqlite -x"`.
PYTEST_ARGS ?=
# Options of the benchmarks (`uv run python -m benchmarks --help`), e.g.
# `make bench BENCH_ARGS="--frameworks fastapi --duration 3 --rounds 1"`.
BENCH_ARGS ?=

DEMO_DIR := .demo/my-service
DEMO_HOST := 127.0.0.1
DEMO_PORT := 8000

# In the tests uv may download packages but never a Python interpreter (CI
# reaches package indexes only): the tests use the interpreters installed here.
TEST_TARGETS := test test-fast test-deep test-contract test-update bench
$(TEST_TARGETS): export UV_PYTHON_DOWNLOADS ?= never

ifeq ($(WORKERS),0)
XDIST :=
else
XDIST := -n $(WORKERS) --dist loadgroup
endif

# Each recipe finds (or installs) uv, then puts its directory first on PATH so
# that Copier's post-generation task and the generated projects find it too.
UV_SETUP = uv="$$(PYTHON=$(PYTHON) .ci/ensure-uv)"; export UV="$$uv"; export PATH="$$(dirname "$$uv"):$$PATH"

.PHONY: help demo test test-fast test-deep test-contract test-update bench sync services clean

help:
	@sed -n 's/^#   make /make /p' $(MAKEFILE_LIST)

sync:
	@$(UV_SETUP); "$$uv" sync --group test

# Server packages the tests start themselves, installed with apt-get when missing,
# and `age`, which the backup tests encrypt with.
SERVICES ?= postgresql redis clamav age

services:
	@.ci/ensure-services $(SERVICES)

demo:
	@$(UV_SETUP); \
	"$$uv" sync --group test; \
	rm -rf "$(DEMO_DIR)"; \
	"$$uv" run copier copy --trust --defaults --vcs-ref HEAD . "$(DEMO_DIR)"; \
	cd "$(DEMO_DIR)"; \
	"$$uv" sync; \
	"$$uv" run my-service migrate; \
	echo ""; \
	echo "my-service is starting: http://$(DEMO_HOST):$(DEMO_PORT)/api/health  (Ctrl-C stops it)"; \
	echo ""; \
	exec "$$uv" run my-service serve --host $(DEMO_HOST) --port $(DEMO_PORT)

test: services sync
	@$(UV_SETUP); "$$uv" run pytest $(XDIST) $(PYTEST_ARGS)

test-fast: sync
	@$(UV_SETUP); "$$uv" run pytest -m fast $(XDIST) $(PYTEST_ARGS)

test-deep: services sync
	@$(UV_SETUP); "$$uv" run pytest -m deep $(XDIST) $(PYTEST_ARGS)

test-contract: services sync
	@$(UV_SETUP); "$$uv" run pytest -m contract $(XDIST) $(PYTEST_ARGS)

test-update: services sync
	@$(UV_SETUP); "$$uv" run pytest -m update $(XDIST) $(PYTEST_ARGS)

# The throwaway servers the benchmarked project needs (its suite and its deployment),
# and wrk, the load generator; PostgreSQL only for BENCH_ARGS="--database postgresql".
BENCH_SERVICES ?= redis clamav wrk $(if $(findstring postgresql,$(BENCH_ARGS)),postgresql)

bench: sync
	@.ci/ensure-services $(BENCH_SERVICES)
	@$(UV_SETUP); "$$uv" run python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf .demo .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.git -prune -o -path ./.venv -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
