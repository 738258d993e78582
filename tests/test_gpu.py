"""The NVIDIA device plugin (AKS does not install it): pure values and the Kuma example's plan."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROOT, by_type, plan_export

from airflow_aks.components import gpu
from airflow_aks.components.scheduling import PodPlacement, pool_placement
from airflow_aks.policies.rules import RULES_BY_NAME, evaluate

GPU = pool_placement("gpu", ["nvidia.com/gpu=present:NoSchedule"], {"airflow-aks/pool": "gpu"})
KUMA = str(ROOT / "examples" / "Pulumi.dev-kuma.yaml")
CHART = "kubernetes:helm.sh/v4:Chart"


def test_values_select_the_gpu_pool_and_tolerate_its_taint() -> None:
    v = gpu.device_plugin_values(GPU)
    terms = v["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    # one term, our label only: the chart's NFD-label terms are replaced (lists are not merged)
    assert terms["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "airflow-aks/pool", "operator": "In", "values": ["gpu"]}]}
    ]
    assert v["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    ]


def test_values_need_a_placement() -> None:
    with pytest.raises(ValueError, match="GPU pool's placement"):
        gpu.device_plugin_values(PodPlacement())


def _gpu_chart(export: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in by_type(export, CHART) if r["inputs"]["chart"] == gpu.CHART), None)


def test_stack_with_gpu_pool_installs_the_pinned_plugin() -> None:
    export = plan_export("dev", KUMA)
    chart = _gpu_chart(export)
    assert chart is not None
    assert (chart["inputs"]["version"], chart["inputs"]["repositoryOpts"]["repo"]) == (
        "0.20.0",
        "https://nvidia.github.io/k8s-device-plugin",
    )
    assert chart["inputs"]["namespace"] == "gpu-resources"
    (ns,) = [
        r
        for r in by_type(export, "kubernetes:core/v1:Namespace")
        if r["inputs"]["metadata"]["name"] == "gpu-resources"
    ]
    assert ns["urn"] in chart["dependencies"]
    pool = next(
        r
        for r in by_type(export, "azure-native:containerservice:AgentPool")
        if r["inputs"]["agentPoolName"] == "gpu"
    )
    # the plugin's placement agrees with the pool, checked by the scheduling rules
    rules = [
        RULES_BY_NAME[n] for n in ("pods-tolerate-their-pool", "pods-select-their-tolerated-pool")
    ]
    assert evaluate(export["resources"], "dev", [], rules=rules).open == []
    assert pool["inputs"]["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]


def test_stack_without_gpu_pool_installs_no_plugin(dev_plan: dict[str, Any]) -> None:
    assert _gpu_chart(dev_plan) is None
