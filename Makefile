# Two commands on a fresh machine (Python 3.11 + make): `make plan` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
UV_VERSION := 0.13.8

.PHONY: plan plan-prod test lint typecheck policies lock bench clean

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

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/pyright

policies: venv
	$(BIN)/airflow-aks policies --list

## Re-resolve the lock file after editing pyproject.toml ranges.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra render --extra preflight -p 3.11 -o requirements.lock --no-header

bench: venv
	$(BIN)/python benchmarks/plan_time.py
	$(BIN)/python benchmarks/domains_scale.py --readme

clean:
	rm -rf $(VENV) build *.egg-info
