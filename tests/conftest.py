"""Shared fixtures: offline plans of the shipped stacks, computed once per session."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def plan_export(stack: str, config_file: str | None = None) -> dict[str, Any]:
    """The plan export of ``Pulumi.<stack>.yaml`` (or ``config_file``), cached."""
    from airflow_aks import plan, program
    from airflow_aks.config.stack import read_stack_file

    path = Path(config_file) if config_file else ROOT / f"Pulumi.{stack}.yaml"
    return plan.run(program.main, stack=stack, config=read_stack_file(path)).export()


def by_type(export: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in export["resources"] if r["type"] == typ]


@pytest.fixture(scope="session")
def dev_plan() -> dict[str, Any]:
    return plan_export("dev")


@pytest.fixture(scope="session")
def prod_plan() -> dict[str, Any]:
    return plan_export("prod")


@pytest.fixture(autouse=True, scope="session")
def _empty_chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Plans in tests never pick up a developer's chart cache (render tests pass their own)."""

    from airflow_aks import render

    mp = pytest.MonkeyPatch()
    mp.setenv(render.CACHE_ENV, str(tmp_path_factory.mktemp("empty-chart-cache")))
    yield
    mp.undo()
