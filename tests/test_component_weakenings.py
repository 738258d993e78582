"""Component-level weakenings (tests/weakenings.py ``COMPONENT_WEAKENINGS``): each patches
one default or decision of a component, plans the real program with it, and requires the
named mandatory rule to fail, the way ``pulumi preview --policy-pack`` would for a consumer
who imports the components. Each row also checks the patch changed the plan (a row whose
target is no longer used would otherwise pass for the wrong reason)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from conftest import ROOT
from weakenings import COMPONENT_WEAKENINGS, CW

from airflow_aks.config.stack import read_stack_file
from airflow_aks.offline import plan
from airflow_aks.policies.rules import MANDATORY, RULES_BY_NAME, evaluate
from airflow_aks.program import stack as program


def planned(stack: str) -> dict[str, Any]:
    raw = read_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    # plan_mocks given: the session's plan cache is bypassed (the code differs per row).
    return plan.run(program.main, stack=stack, config=raw, plan_mocks=plan.PlanMocks()).export()


@pytest.fixture(scope="module")
def baselines() -> dict[str, dict[str, Any]]:
    return {s: planned(s) for s in {row.stack for row in COMPONENT_WEAKENINGS}}


def apply(row: CW, monkeypatch: pytest.MonkeyPatch) -> None:
    module_name, attr = row.target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    value = row.value(original) if callable(row.value) and callable(original) else row.value
    monkeypatch.setattr(module, attr, value)


@pytest.mark.parametrize(
    "row", COMPONENT_WEAKENINGS, ids=[f"{r.area}: {r.what}" for r in COMPONENT_WEAKENINGS]
)
def test_component_weakening_fails_its_rule(row: CW, baselines, monkeypatch):
    rule = RULES_BY_NAME[row.rule]
    assert rule.level == MANDATORY, f"{row.rule} is not mandatory"
    clean = evaluate(baselines[row.stack]["resources"], row.stack, None, rules=[rule])
    assert not [v for v in clean.violations if not v.excepted], "the shipped plan must pass"
    apply(row, monkeypatch)
    export = planned(row.stack)
    assert json.dumps(export, sort_keys=True) != json.dumps(baselines[row.stack], sort_keys=True)
    results = evaluate(export["resources"], row.stack, None, rules=[rule])
    caught = [v for v in results.violations if not v.excepted]
    assert caught, f"{row.area}: {row.what}: {row.rule} did not fail"
