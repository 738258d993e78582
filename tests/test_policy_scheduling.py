"""Scheduling rules (pods vs node pools), both ways: table-driven synthetic stacks, then
the shipped plans edited so task pods tolerate the task pool without selecting it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ROOT, plan_export

from airflow_aks.policies.rules import RULES_BY_NAME, Context, evaluate
from airflow_aks.policies.rules import _core as c
from airflow_aks.policies.rules import scheduling as S

STACK = "urn:pulumi:dev::airflow-aks::"
TOLERATE = "pods-tolerate-their-pool"
SELECT = "pods-select-their-tolerated-pool"
RULES = (TOLERATE, SELECT)

TASKS_TAINT = "airflow-aks/pool=tasks:NoSchedule"
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
TASKS = {"airflow-aks/pool": "tasks"}
GPU = {"airflow-aks/pool": "gpu"}
TOL_TASKS = {
    "key": "airflow-aks/pool",
    "operator": "Equal",
    "value": "tasks",
    "effect": "NoSchedule",
}
TOL_SPOT = {
    "key": "kubernetes.azure.com/scalesetpriority",
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}
TOL_GPU = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def res(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"urn": f"{STACK}{typ}::{name}", "type": typ, "name": name, "inputs": inputs}


def pool(name: str, taints: list[str], labels: dict[str, str], spot: bool = False) -> dict:
    inputs: dict[str, Any] = {"agentPoolName": name, "nodeTaints": taints, "nodeLabels": labels}
    if spot:
        inputs["scaleSetPriority"] = "Spot"  # AKS adds the spot taint/label itself
    return res(c.AGENT_POOL, f"aks-{name}", inputs)


def base_stack() -> list[dict[str, Any]]:
    return [
        res(
            c.MANAGED_CLUSTER,
            "aks",
            {
                "agentPoolProfiles": [
                    {
                        "name": "system",
                        "mode": "System",
                        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
                    }
                ]
            },
        ),
        pool("workload", [], {"airflow-aks/pool": "workload"}),
        pool("tasks", [TASKS_TAINT], TASKS, spot=True),
        pool("gpu", [GPU_TAINT], GPU),
    ]


def deployment(spec: dict[str, Any], typ: str = c.DEPLOYMENT) -> dict[str, Any]:
    pod = {"containers": [{"name": "x", "image": "x:1"}], **spec}
    return res(typ, "app", {"metadata": {"name": "app"}, "spec": {"template": {"spec": pod}}})


def chart(name: str, values: dict[str, Any]) -> dict[str, Any]:
    return res(c.HELM_CHART, name, {"chart": name, "namespace": name, "values": values})


def placement_env(spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": "AIRFLOW_AKS_TASK_POD_PLACEMENT", "value": json.dumps(spec)}


TASK_POD = {"nodeSelector": TASKS, "tolerations": [TOL_TASKS, TOL_SPOT]}
GPU_POD = {"nodeSelector": GPU, "tolerations": [TOL_GPU]}
GPU_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "airflow-aks/pool", "operator": "In", "values": ["gpu"]}
                    ]
                }
            ]
        }
    }
}

# (id, extra resources, rules expected to report)
CASES: list[tuple[str, list[dict[str, Any]], set[str]]] = [
    ("untouched-pod-lands-on-workload", [deployment({})], set()),
    ("task-pod-selects-and-tolerates", [deployment(TASK_POD)], set()),
    ("gpu-pod-selects-and-tolerates", [deployment(GPU_POD)], set()),
    (
        "gpu-pod-by-affinity",
        [deployment({"affinity": GPU_AFFINITY, "tolerations": [TOL_GPU]})],
        set(),
    ),
    (
        "selects-spot-pool-without-spot-toleration",
        [deployment({"nodeSelector": TASKS, "tolerations": [TOL_TASKS]})],
        {TOLERATE},
    ),
    ("selects-gpu-without-toleration", [deployment({"nodeSelector": GPU})], {TOLERATE}),
    (
        "affinity-gpu-without-toleration",
        [deployment({"affinity": GPU_AFFINITY})],
        {TOLERATE},
    ),
    (
        "selects-a-pool-that-does-not-exist",
        [deployment({"nodeSelector": {"airflow-aks/pool": "nope"}})],
        {TOLERATE},
    ),
    (
        "unknown-label-key-is-not-guessed",
        [deployment({"nodeSelector": {"kubernetes.io/os": "linux"}})],
        set(),
    ),
    (
        "tolerates-task-pool-but-no-selection",
        [deployment({"tolerations": [TOL_TASKS, TOL_SPOT]})],
        {SELECT},
    ),
    (
        "tolerates-gpu-but-selects-workload",
        [deployment({"nodeSelector": {"airflow-aks/pool": "workload"}, "tolerations": [TOL_GPU]})],
        {SELECT},
    ),
    (
        "tolerates-system-taint-anywhere-is-fine",
        [deployment({"tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}]})],
        set(),
    ),
    (
        "wildcard-daemonset-runs-everywhere",
        [deployment({"tolerations": [{"operator": "Exists"}]}, c.DAEMON_SET)],
        set(),
    ),
    (
        "device-plugin-daemonset-on-gpu-nodes",
        [deployment(GPU_POD, c.DAEMON_SET)],
        set(),
    ),
    (
        "device-plugin-daemonset-selects-gpu-without-toleration",
        [deployment({"nodeSelector": GPU}, c.DAEMON_SET)],
        {TOLERATE},
    ),
    ("helm-values-gpu-component-ok", [chart("x", {"plugin": GPU_POD})], set()),
    (
        "helm-values-selects-gpu-without-toleration",
        [chart("x", {"plugin": {"nodeSelector": GPU}})],
        {TOLERATE},
    ),
    (
        "helm-values-tolerates-gpu-without-selection",
        [chart("x", {"plugin": {"tolerations": [TOL_GPU]}})],
        {SELECT},
    ),
    (
        "airflow-task-template-both-levels",
        [chart("airflow", {"workers": {**TASK_POD, "kubernetes": TASK_POD}})],
        set(),
    ),
    (
        "airflow-task-template-top-level-fallback",
        [chart("airflow", {**TASK_POD, "workers": {}})],
        set(),
    ),
    (
        # Only workers.kubernetes tolerates: a chart reading workers.* first never would.
        "airflow-task-template-only-new-level-tolerates",
        [
            chart(
                "airflow",
                {
                    "workers": {
                        "nodeSelector": TASKS,
                        "kubernetes": {"tolerations": [TOL_TASKS, TOL_SPOT]},
                    }
                },
            )
        ],
        {TOLERATE},
    ),
    (
        "airflow-task-template-without-selection",
        [chart("airflow", {"workers": {"tolerations": [TOL_TASKS, TOL_SPOT]}})],
        {SELECT},
    ),
    (
        "dag-placement-env-ok",
        [chart("airflow", {"env": [placement_env(TASK_POD)]})],
        set(),
    ),
    (
        "dag-placement-env-without-spot",
        [
            chart(
                "airflow",
                {"env": [placement_env({"nodeSelector": TASKS, "tolerations": [TOL_TASKS]})]},
            )
        ],
        {TOLERATE},
    ),
]


COVERAGE = {(rule, rule in expected) for _, _, expected in CASES for rule in RULES}
"""(rule, violates) pairs these cases exercise (read by test_every_rule_has_both_cases)."""


def reported(resources: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in RULES:
        rule = RULES_BY_NAME[name]
        assert rule.stack_check is not None
        msgs = [m for _, m in rule.stack_check(resources, Context())]
        if msgs:
            out[name] = msgs
    return out


@pytest.mark.parametrize(
    ("extra", "expected"), [(e, x) for _, e, x in CASES], ids=[i for i, _, _ in CASES]
)
def test_scheduling_rules(extra: list[dict[str, Any]], expected: set[str]) -> None:
    got = reported(base_stack() + copy.deepcopy(extra))
    assert set(got) == expected, got


def test_messages_name_the_missing_taint_and_the_fix() -> None:
    got = reported([*base_stack(), deployment({"nodeSelector": TASKS, "tolerations": [TOL_TASKS]})])
    (msg,) = got[TOLERATE]
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in msg and "tasks" in msg
    got = reported([*base_stack(), deployment({"tolerations": [TOL_TASKS, TOL_SPOT]})])
    (msg,) = got[SELECT]
    assert "pool tasks" in msg and "'airflow-aks/pool': 'tasks'" in msg


def test_no_pools_no_opinion() -> None:
    assert reported([deployment({"nodeSelector": GPU})]) == {}


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (TOL_TASKS, TASKS_TAINT, True),
        ({**TOL_TASKS, "value": "other"}, TASKS_TAINT, False),
        ({"key": "airflow-aks/pool", "operator": "Exists"}, TASKS_TAINT, True),
        (
            {"key": "airflow-aks/pool", "operator": "Exists", "effect": "NoExecute"},
            TASKS_TAINT,
            False,
        ),
        ({"operator": "Exists"}, GPU_TAINT, True),
        ({"key": "nvidia.com/gpu", "value": "present"}, GPU_TAINT, True),  # operator Equal default
        ({}, GPU_TAINT, False),
    ],
)
def test_toleration_matching(toleration: dict[str, Any], taint: str, expected: bool) -> None:
    parsed = S.parse_taint(taint)
    assert parsed is not None
    assert S.tolerates(toleration, parsed) is expected


# ------------------ the shipped plans, and task pods that only tolerate the pool


def _plan(stack: str, config: str | None = None) -> list[dict[str, Any]]:
    return copy.deepcopy(plan_export(stack, config)["resources"])


def _airflow(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        r for r in resources if r["type"] == c.HELM_CHART and r["inputs"]["chart"] == "airflow"
    )


def _open(resources: list[dict[str, Any]], stack: str = "dev") -> set[str]:
    results = evaluate(resources, stack, [], rules=[RULES_BY_NAME[n] for n in RULES])
    return {v.rule for v in results.open}


KUMA = str(ROOT / "examples" / "Pulumi.dev-kuma.yaml")


@pytest.mark.parametrize(("stack", "config"), [("dev", None), ("prod", None), ("dev", KUMA)])
def test_shipped_plans_pass(stack: str, config: str | None) -> None:
    assert _open(_plan(stack, config), stack) == set()


def _drop_worker_keys(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(values: dict[str, Any]) -> None:
        values.pop(key, None)
        values["workers"].pop(key, None)
        values["workers"]["kubernetes"].pop(key, None)

    return edit


def _edit_env(
    name: str, change: Callable[[dict[str, Any]], None]
) -> Callable[[dict[str, Any]], None]:
    def edit(values: dict[str, Any]) -> None:
        entry = next(e for e in values["env"] if e["name"] == name)
        spec = json.loads(entry["value"])
        change(spec)
        entry["value"] = json.dumps(spec)

    return edit


def _drop_tolerations(spec: dict[str, Any]) -> None:
    spec["tolerations"] = []


def _drop_selector(spec: dict[str, Any]) -> None:
    spec["nodeSelector"] = {}


@pytest.mark.parametrize(
    ("config", "edit", "expected"),
    [
        (None, _drop_worker_keys("tolerations"), {TOLERATE}),  # tolerated but not selected
        (None, _drop_worker_keys("nodeSelector"), {SELECT}),
        (None, _edit_env("AIRFLOW_AKS_TASK_POD_PLACEMENT", _drop_tolerations), {TOLERATE}),
        (None, _edit_env("AIRFLOW_AKS_TASK_POD_PLACEMENT", _drop_selector), {SELECT}),
        (KUMA, _edit_env("AIRFLOW_AKS_GPU_POD_PLACEMENT", _drop_tolerations), {TOLERATE}),
        (KUMA, _edit_env("AIRFLOW_AKS_GPU_POD_PLACEMENT", _drop_selector), {SELECT}),
    ],
    ids=[
        "worker-tolerations-gone",
        "worker-selector-gone",
        "dag-tolerations-gone",
        "dag-selector-gone",
        "gpu-tolerations-gone",
        "gpu-selector-gone",
    ],
)
def test_plan_with_defect_reintroduced_fails(
    config: str | None, edit: Callable[[dict[str, Any]], None], expected: set[str]
) -> None:
    resources = _plan("dev", config)
    edit(_airflow(resources)["inputs"]["values"])
    assert _open(resources) == expected
