# Two commands on a fresh machine (Python 3.11 + make): `make plan` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
UV_VERSION := 0.13.8

.PHONY: plan plan-prod test test-examples wheel-check lint typecheck policies lock bench clean

# --compile-bytecode: write the SDKs' .pyc at install time. Many CI images and containers
# set PYTHONDONTWRITEBYTECODE=1, and without it every run recompiles the SDKs (~2x slower).
$(BIN)/airflow-aks: pyproject.toml requirements.lock Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python --no-deps -e .
	@touch $@

venv: $(BIN)/airflow-aks

## Offline plan of a stack under Pulumi's mock engine (no cloud, no CLI).
plan: venv
	$(BIN)/airflow-aks plan --stack $(STACK)

plan-prod: venv
	$(BIN)/airflow-aks plan --stack prod

## The whole suite: lint, format check, types, unit + DAG + schema + policy tests.
test: venv lint typecheck
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-examples

## The consumer example (examples/consumer) as its own project: its own pytest run.
test-examples: venv
	cd examples/consumer && ../../$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/pyright

policies: venv
	$(BIN)/airflow-aks policies --list

## Build the wheel, install it into a fresh venv of WHEEL_PY (default: this venv's Python)
## and run the consumer example's tests from a copy outside the repository.
WHEEL_PY ?= $(BIN)/python
wheel-check: venv
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/uv build -q --wheel -o build/wheel-check/dist
	$(BIN)/uv venv -q -p $(WHEEL_PY) build/wheel-check/venv
	$(BIN)/uv pip install -q --python build/wheel-check/venv/bin/python -c requirements.lock build/wheel-check/dist/*.whl pytest
	cp -r examples/consumer build/wheel-check/consumer
	cd build/wheel-check/consumer && ../venv/bin/python -m pytest

## Re-resolve the lock file after editing pyproject.toml ranges.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra render --extra preflight -p 3.11 -o requirements.lock --no-header

bench: venv
	$(BIN)/python benchmarks/plan_time.py
	$(BIN)/python benchmarks/domains_scale.py --docs

clean:
	rm -rf $(VENV) build *.egg-info
