"""Expected duration of a first ``pulumi up``: the longest path through the plan's graph.

The engine creates a resource as soon as everything it depends on exists, with unbounded
parallelism (``pulumi up --parallel`` defaults to unlimited), so the wall time of a first
deployment is bounded below by the heaviest dependency chain. Each custom resource takes
its type's duration from :data:`DURATIONS`; component resources take none. A dependency on
a component means waiting for every custom resource inside it (Pulumi waits for a
component's children), except along the resource's own parent chain. One edge the
program does not state is added: a Helm chart waits for the untainted node pools, since its
pods (and the engine's await on them) cannot finish before a node takes them (none
needed when the cluster's own system pool is untainted).

Durations with a source say so; those without are marked ``estimate`` and are our guess,
to be replaced by a measured or documented figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIN = 60


@dataclass(frozen=True)
class Duration:
    seconds: float
    source: str | None
    """Where the figure comes from (with the date seen); None = our estimate."""


_NOTE = (
    "shared/notes/cost-and-time.md (creation times researched from public deploy logs, "
    "approximate, seen 2026-12-02)"
)
# Per-type create durations. Checked 2026-12-02.
DURATIONS: dict[str, Duration] = {
    "azure-native:containerservice:ManagedCluster": Duration(
        10 * MIN,
        "aks-docs learn/quick-windows-container-deploy-cli.md @ fb060abe (2026-08-21): "
        "'After a few minutes ... Allow up to 10 minutes for provisioning'; the Terraform "
        "quickstart's azd run reports 'completed in 9 minutes 40 seconds'",
    ),
    "azure-native:containerservice:AgentPool": Duration(
        5 * MIN,
        "aks-docs concepts-scale.md @ fb060abe (2026-08-21): VM provisioning "
        "'typically 2-5 minutes'",
    ),
    "azure-native:dbforpostgresql:Server": Duration(6 * MIN, f"{_NOTE}: 5-7 min without HA"),
    "azure-native:kubernetesconfiguration:Extension": Duration(4 * MIN, None),
    "azure-native:kubernetesconfiguration:FluxConfiguration": Duration(2 * MIN, None),
    "azure-native:network:PrivateEndpoint": Duration(90, None),
    "azure-native:keyvault:Vault": Duration(2.5 * MIN, f"{_NOTE}: 2-3 min"),
    "azure-native:storage:StorageAccount": Duration(40, f"{_NOTE}: 0.3-1 min"),
    "azure-native:operationalinsights:Workspace": Duration(30, None),
    "kubernetes:helm.sh/v3:Release": Duration(3 * MIN, None),
    # A v4 Chart is a component the engine expands into the chart's objects and awaits
    # (Deployments ready, Jobs complete): the offline plan does not expand it, so the
    # whole install is counted on the Chart itself.
    "kubernetes:helm.sh/v4:Chart": Duration(
        3 * MIN, f"{_NOTE}: Linkerd control plane 1-3 min; Airflow bounded by Helm's wait"
    ),
    "azure-native:authorization:RoleAssignment": Duration(15, None),
    "azure-native:dbforpostgresql:Database": Duration(30, None),
    "azure-native:dbforpostgresql:Configuration": Duration(30, None),
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": Duration(60, None),
}
# By type prefix, when no exact entry exists.
PREFIX_DURATIONS: tuple[tuple[str, Duration], ...] = (
    ("pulumi:providers:", Duration(0, "provider configuration: no cloud call")),
    ("random:", Duration(0, "computed locally by pulumi-random")),
    ("tls:", Duration(0, "computed locally by pulumi-tls")),
    ("kubernetes:", Duration(5, None)),
    ("azuread:", Duration(10, None)),
    ("azure-native:", Duration(10, None)),
)


def duration_of(typ: str) -> Duration:
    if typ in DURATIONS:
        return DURATIONS[typ]
    for prefix, d in PREFIX_DURATIONS:
        if typ.startswith(prefix):
            return d
    return Duration(10, None)


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    start: float
    seconds: float
    sourced: bool


@dataclass
class CriticalPath:
    total: float
    steps: list[Step]
    resources: int
    unsourced_types: list[str]

    def export(self) -> dict[str, Any]:
        return {
            "expectedSeconds": round(self.total),
            "criticalPath": [
                {
                    "urn": s.urn,
                    "type": s.type,
                    "startSeconds": round(s.start),
                    "seconds": round(s.seconds),
                    "sourced": s.sourced,
                }
                for s in self.steps
            ],
            "customResources": self.resources,
            "estimatedDurationTypes": self.unsourced_types,
        }


def is_node(r: Mapping[str, Any]) -> bool:
    """Takes time of its own: a custom resource, or a component that does real work (a
    Chart, whose objects the offline plan does not expand)."""
    return bool(r["custom"]) or r["type"] in DURATIONS


def dependency_graph(export: Mapping[str, Any]) -> dict[str, set[str]]:
    """Node URN -> the nodes it must wait for (pure); see :func:`is_node`."""
    res = {r["urn"]: r for r in export["resources"]}
    children: dict[str, list[str]] = {}
    for r in export["resources"]:
        if r.get("parent"):
            children.setdefault(r["parent"], []).append(r["urn"])
    memo: dict[str, set[str]] = {}

    def descendants(urn: str) -> set[str]:
        if urn not in memo:
            out: set[str] = set()
            for c in children.get(urn, []):
                if is_node(res[c]):
                    out.add(c)
                out |= descendants(c)
            memo[urn] = out
        return memo[urn]

    schedulable = {
        r["urn"]
        for r in export["resources"]
        if r["type"] == "azure-native:containerservice:AgentPool"
        and not r["inputs"].get("nodeTaints")
    }
    for r in export["resources"]:
        if r["type"] == "azure-native:containerservice:ManagedCluster" and any(
            not p.get("nodeTaints") for p in r["inputs"].get("agentPoolProfiles") or []
        ):
            schedulable = set()  # an untainted inline pool comes with the cluster itself
    graph: dict[str, set[str]] = {}
    for r in export["resources"]:
        if not is_node(r):
            continue
        ancestors: set[str] = set()
        p = r.get("parent")
        while p:
            ancestors.add(p)
            p = res[p].get("parent") if p in res else None
        deps: set[str] = set()
        for d in [*r.get("dependencies", []), r.get("provider")]:
            if not d or d in ancestors or d not in res:
                continue
            if is_node(res[d]):
                deps.add(d)
            deps |= descendants(d)
        if r["type"].startswith("kubernetes:helm.sh/"):
            # Implicit: a chart's pods need a node that takes them (the untainted pools).
            deps |= {u for u in schedulable if u not in ancestors}
        deps.discard(r["urn"])
        graph[r["urn"]] = deps
    return graph


def longest_path(
    graph: Mapping[str, set[str]], seconds: Mapping[str, float]
) -> tuple[float, list[str], dict[str, float]]:
    """Longest path of a DAG with node weights: (total, path first-to-last, start times).

    Raises ValueError on a cycle. Ties go to the lexically smallest URN (deterministic).
    """
    finish: dict[str, float] = {}
    start: dict[str, float] = {}
    via: dict[str, str | None] = {}
    state: dict[str, int] = {}

    def visit(n: str) -> float:
        if state.get(n) == 2:
            return finish[n]
        if state.get(n) == 1:
            raise ValueError(f"dependency cycle through {n}")
        state[n] = 1
        best, best_dep = 0.0, None
        for d in sorted(graph.get(n, ())):
            f = visit(d)
            if f > best:
                best, best_dep = f, d
        start[n], via[n] = best, best_dep
        finish[n] = best + seconds.get(n, 0.0)
        state[n] = 2
        return finish[n]

    for n in sorted(graph):
        visit(n)
    if not finish:
        return 0.0, [], {}
    end = min(finish, key=lambda n: (-finish[n], n))
    path: list[str] = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = via[cur]
    path.reverse()
    return finish[end], path, start


def critical_path(export: Mapping[str, Any]) -> CriticalPath:
    types = {r["urn"]: r["type"] for r in export["resources"]}
    graph = dependency_graph(export)
    seconds = {u: duration_of(types[u]).seconds for u in graph}
    total, path, start = longest_path(graph, seconds)
    steps = [
        Step(u, types[u], start[u], seconds[u], duration_of(types[u]).source is not None)
        for u in path
    ]
    unsourced = sorted({types[u] for u in graph if duration_of(types[u]).source is None})
    return CriticalPath(total, steps, len(graph), unsourced)


def _mmss(s: float) -> str:
    return f"{int(s // 60)}m{round(s % 60):02d}s"


def format_critical_path(cp: CriticalPath) -> str:
    lines = [
        f"First `pulumi up` (create everything): about {_mmss(cp.total)} "
        f"(longest dependency chain of {cp.resources} resources; unlimited parallelism)",
        "  critical path:",
    ]
    for s in cp.steps:
        if s.seconds == 0:
            continue
        name = s.urn.rsplit("::", 1)[-1]
        mark = "" if s.sourced else "  (estimate)"
        typ = s.type.split(":", 1)[-1]
        lines.append(f"    +{_mmss(s.start):>7}  {_mmss(s.seconds):>7}  {typ} {name}{mark}")
    lines.append(
        "  durations: documented per-type table in airflow_aks/estimate/deploy_time.py; "
        "'(estimate)' = no source yet"
    )
    return "\n".join(lines)
