"""Shared fixtures: offline plans of the shipped stacks, computed once per session.

Every plan of the real program (``airflow_aks.program.stack.main``) in this session goes through
one cache keyed by stack, config, project and subscription, whoever asks: the
``plan_export`` helper, the secret-leak tests (``keep_raw``) and ``airflow-aks plan`` run
in-process. Each caller gets its own deep copy. Programs other than the real one (probes,
failing programs) always run. The determinism test plans in a subprocess, uncached.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PLANS: dict[str, Any] = {}


def _shared_run(real_run: Callable[..., Any]) -> Callable[..., Any]:
    from airflow_aks.program import stack as real_program

    @functools.wraps(real_run)
    def run(program: Callable[[], None], **kwargs: Any) -> Any:
        if program is not real_program.main or kwargs.get("plan_mocks") is not None:
            return real_run(program, **kwargs)
        keep_raw = kwargs.pop("keep_raw", False)
        key = json.dumps(
            {k: v for k, v in sorted(kwargs.items()) if k != "config"}
            | {"config": kwargs.get("config", {})},
            sort_keys=True,
            default=str,
        )
        if key not in _PLANS:
            _PLANS[key] = real_run(program, keep_raw=True, **kwargs)
        result = copy.deepcopy(_PLANS[key])
        if not keep_raw:
            for reg in result.resources:
                reg.raw = reg.raw_outputs = None
        return result

    return run


@pytest.fixture(scope="session", autouse=True)
def _plan_once_per_stack() -> Any:
    from airflow_aks.offline import plan

    real = plan.run
    plan.run = _shared_run(real)  # type: ignore[assignment]
    yield
    plan.run = real  # type: ignore[assignment]


@functools.cache
def plan_export(stack: str, config_file: str | None = None) -> dict[str, Any]:
    """The plan export of ``Pulumi.<stack>.yaml`` (or ``config_file``), cached."""
    from airflow_aks.config.stack import read_stack_file
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

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

    from airflow_aks.offline import render

    mp = pytest.MonkeyPatch()
    mp.setenv(render.CACHE_ENV, str(tmp_path_factory.mktemp("empty-chart-cache")))
    yield
    mp.undo()


KUMA_EXAMPLE = ROOT / "examples" / "Pulumi.dev-kuma.yaml"


@pytest.fixture(scope="session")
def kuma_plan() -> dict[str, Any]:
    """The Kuma + GPU example stack file, planned as stack ``dev``."""
    return plan_export("dev", str(KUMA_EXAMPLE))


# ------------------------------------------------------------ nothing skips silently

ENABLE_HINT = "enable:"
"""Every skip reason says how to run the test (``... ; enable: <what to do>``)."""


def skip_report(skipped: list[Any]) -> list[str]:
    """Lines for the terminal summary: each skip reason once, with its count and tests;
    a reason without an ``enable:`` hint is flagged (it would be a silent gap)."""
    by_reason: dict[str, list[str]] = {}
    for rep in skipped:
        longrepr = rep.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        by_reason.setdefault(reason, []).append(rep.nodeid.split("[", 1)[0])
    lines: list[str] = []
    for reason, nodes in sorted(by_reason.items()):
        tests = sorted(set(nodes))
        shown = ", ".join(tests[:3]) + (f" (+{len(tests) - 3} more)" if len(tests) > 3 else "")
        flag = "" if ENABLE_HINT in reason else "  [no 'enable:' hint: say how to run it]"
        lines.append(f"{len(nodes)} not run: {reason}{flag}")
        lines.append(f"    {shown}")
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    terminalreporter.section("not run (skipped) and how to enable", sep="-", yellow=True)
    for line in skip_report(skipped):
        terminalreporter.write_line(line)
