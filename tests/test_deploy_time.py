"""Critical-path arithmetic on small hand-made graphs with known answers."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.estimate import deploy_time as dt


def test_longest_path_diamond() -> None:
    #   a(1) -> b(5) -> d(1)
    #   a(1) -> c(2) -> d
    graph = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    total, path, start = dt.longest_path(graph, {"a": 1, "b": 5, "c": 2, "d": 1})
    assert total == 7
    assert path == ["a", "b", "d"]
    assert start == {"a": 0, "b": 1, "c": 1, "d": 6}


def test_longest_path_parallel_roots_and_ties_are_deterministic() -> None:
    graph = {"x": set(), "y": set(), "z": {"x", "y"}}
    total, path, _ = dt.longest_path(graph, {"x": 3, "y": 3, "z": 1})
    assert (total, path) == (4, ["x", "z"])


def test_longest_path_rejects_cycles() -> None:
    with pytest.raises(ValueError, match="cycle"):
        dt.longest_path({"a": {"b"}, "b": {"a"}}, {"a": 1, "b": 1})


def res(
    urn: str,
    typ: str,
    custom: bool = True,
    parent: str | None = None,
    deps: list[str] | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    d = list(deps or [])
    if parent:
        d.insert(0, parent)
    return {
        "urn": urn,
        "type": typ,
        "custom": custom,
        "parent": parent,
        "dependencies": d,
        "provider": None,
        "inputs": inputs,
    }


MC = "azure-native:containerservice:ManagedCluster"
AP = "azure-native:containerservice:AgentPool"
KV = "azure-native:keyvault:Vault"
CHART = "kubernetes:helm.sh/v4:Chart"


def test_component_dependency_waits_for_all_its_children_but_not_its_own_children() -> None:
    export = {
        "resources": [
            res("comp", "airflow-aks:index:Cluster", custom=False),
            res("mc", MC, parent="comp", agentPoolProfiles=[{"nodeTaints": ["x=y:NoSchedule"]}]),
            res("pool", AP, parent="comp", deps=["mc"]),
            # depends on the whole component: waits for mc and pool
            res("kv", KV, deps=["comp"]),
        ]
    }
    g = dt.dependency_graph(export)
    assert g == {"mc": set(), "pool": {"mc"}, "kv": {"mc", "pool"}}
    cp = dt.critical_path(export)
    # 10 min cluster + 5 min pool + the vault's own duration
    assert cp.total == 600 + 300 + dt.DURATIONS[KV].seconds
    assert [s.urn for s in cp.steps] == ["mc", "pool", "kv"]


def test_charts_wait_for_untainted_pools_unless_the_system_pool_takes_pods() -> None:
    tainted = [{"nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]}]
    export = {
        "resources": [
            res("mc", MC, agentPoolProfiles=tainted),
            res("wl", AP, deps=["mc"], nodeTaints=[]),
            res("tasks", AP, deps=["mc"], nodeTaints=["t=1:NoSchedule"]),
            res("chart", CHART, custom=False, deps=["mc"]),
        ]
    }
    assert dt.dependency_graph(export)["chart"] == {"mc", "wl"}
    assert dt.critical_path(export).total == 600 + 300 + 180
    export["resources"][0]["inputs"]["agentPoolProfiles"] = [{"nodeTaints": []}]
    assert dt.dependency_graph(export)["chart"] == {"mc"}
    assert dt.critical_path(export).total == 600 + 300  # the pools, in parallel with the chart


def test_unknown_types_fall_back_and_are_marked_estimates() -> None:
    assert dt.duration_of("random:index/randomPassword:RandomPassword").seconds == 0
    assert dt.duration_of("azure-native:foo:Bar").source is None
    assert dt.duration_of(MC).source and "10 minutes" in str(dt.duration_of(MC).source)


def test_shipped_plans_have_a_critical_path(dev_plan: dict[str, Any]) -> None:
    cp = dt.critical_path(dev_plan)
    types = [s.type for s in cp.steps]
    assert MC in types
    assert cp.total >= dt.DURATIONS[MC].seconds
    # The state (vault, database, storage) never waits for the cluster, even indirectly.
    g = dt.dependency_graph(dev_plan)
    mc = next(r["urn"] for r in dev_plan["resources"] if r["type"] == MC)

    def upstream(u: str, seen: set[str]) -> set[str]:
        for d in g[u] - seen:
            seen.add(d)
            upstream(d, seen)
        return seen

    for r in dev_plan["resources"]:
        if r["type"] in (
            KV,
            "azure-native:dbforpostgresql:Server",
            "azure-native:storage:StorageAccount",
        ):
            assert mc not in upstream(r["urn"], set()), r["urn"]
