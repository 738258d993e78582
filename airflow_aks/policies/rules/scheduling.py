"""Scheduling rules: pod placement checked against the node pools of the same stack.

A node pool's taint keeps pods away unless they tolerate it; a toleration alone only
*allows* a pod onto the pool, it does not send it there (Kubernetes taints and tolerations;
AKS spot node pool doc, checked 2026-12). Two mistakes follow, and each is only visible
across resources (``AgentPool`` taints vs pod specs elsewhere in the plan):

* a pod selects a tainted pool without tolerating its taints: it stays Pending forever;
* a pod tolerates a dedicated pool's taints but does not select it: it lands on an
  untainted pool instead, so the dedicated pool never scales up from zero (nor saves
  anything on spot; nor, for GPUs, does the task get a GPU).

Pools come from ``AgentPool`` resources and inline ``agentPoolProfiles``; a spot pool also
carries the taint and label AKS adds itself. Pods come from workload objects (Pods,
Deployments, StatefulSets, DaemonSets, Jobs, CronJobs), from Helm values (any mapping with
``nodeSelector`` / ``affinity`` / ``tolerations``), from the Airflow chart's
KubernetesExecutor pod template (resolved as the chart does: ``workers.kubernetes.X``, else
``workers.X``, else ``X`` — both orders are checked, so either chart generation passes only
if it is right), and from the placements the platform hands to DAGs in
``AIRFLOW_AKS_*_POD_PLACEMENT`` env vars (JSON ``{nodeSelector, tolerations}``).

Label keys the plan cannot know (``kubernetes.io/os``, zone labels, ...) are treated as
matching every pool: the rules never guess a pod into a pool it might not reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._core import (
    AGENT_POOL,
    DAEMON_SET,
    HELM_TYPES,
    MANAGED_CLUSTER,
    MANDATORY,
    WORKLOAD_TYPES,
    Context,
    Rule,
    as_dict,
    as_list,
    dig,
    get,
    stack_rule,
)

RULES: list[Rule] = []

SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
SPOT_LABEL = ("kubernetes.azure.com/scalesetpriority", "spot")
SYSTEM_TAINT_KEY = "CriticalAddonsOnly"
BLOCKING = ("NoSchedule", "NoExecute")
PLACEMENT_ENV_SUFFIX = "_POD_PLACEMENT"
PLACEMENT_KEYS = ("nodeSelector", "affinity", "tolerations")


# ------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )


def parse_taint(text: Any) -> Taint | None:
    head, sep, effect = str(text).rpartition(":")
    if not sep or not head:
        return None
    key, _, value = head.partition("=")
    return Taint(key, value, effect) if key else None


@dataclass(frozen=True)
class Pool:
    """A node pool as the scheduler sees it: effective taints and node labels."""

    name: str
    urn: str
    taints: tuple[Taint, ...]
    labels: Mapping[str, str]

    @property
    def blocking(self) -> tuple[Taint, ...]:
        return tuple(t for t in self.taints if t.effect in BLOCKING)

    @property
    def dedicated(self) -> tuple[Taint, ...]:
        """Blocking taints that reserve the pool for chosen pods; the system pool's
        ``CriticalAddonsOnly`` is tolerated by add-ons meant to run anywhere."""
        return tuple(t for t in self.blocking if t.key != SYSTEM_TAINT_KEY)


def _pool(name: str, urn: str, p: Mapping[str, Any]) -> Pool:
    taints = [t for t in (parse_taint(x) for x in as_list(p.get("nodeTaints"))) if t]
    labels = {str(k): str(v) for k, v in as_dict(p.get("nodeLabels")).items()}
    if str(p.get("scaleSetPriority", "")).lower() == "spot":
        spot = parse_taint(SPOT_TAINT)
        assert spot is not None
        if spot not in taints:
            taints.append(spot)
        labels.setdefault(*SPOT_LABEL)
    return Pool(name, urn, tuple(taints), labels)


def pools(resources: list[dict[str, Any]]) -> list[Pool]:
    """Every node pool of the stack (standalone and inline)."""
    out: list[Pool] = []
    for r in resources:
        props, urn = as_dict(r.get("inputs")), str(r.get("urn"))
        if r.get("type") == AGENT_POOL:
            out.append(_pool(str(props.get("agentPoolName") or r.get("name")), urn, props))
        elif r.get("type") == MANAGED_CLUSTER:
            for p in as_list(props.get("agentPoolProfiles")):
                out.append(_pool(str(as_dict(p).get("name", "?")), urn, as_dict(p)))
    return out


@dataclass(frozen=True)
class Requirement:
    """One node-label requirement (``nodeSelector`` entry or ``matchExpressions`` item)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str], known_keys: set[str]) -> bool:
        if self.key not in known_keys:
            return True  # a label the plan cannot know: assume it matches
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "In":
            return present and value in self.values
        if self.operator == "NotIn":
            return not present or value not in self.values
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        return True  # Gt / Lt on labels we model: not decidable here


@dataclass(frozen=True)
class PodPlacement:
    """What decides where one pod (template) may run."""

    where: str
    """Human-readable origin (resource path) for messages."""
    terms: tuple[tuple[Requirement, ...], ...] = ((),)
    """Node-selector terms (OR of ANDs); ``((),)`` = any node."""
    tolerations: tuple[Mapping[str, Any], ...] = ()
    daemon: bool = False

    def selects(self, pool: Pool, known_keys: set[str]) -> bool:
        return any(all(r.matches(pool.labels, known_keys) for r in t) for t in self.terms)

    def tolerates(self, taint: Taint) -> bool:
        return any(tolerates(t, taint) for t in self.tolerations)


def tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Kubernetes toleration matching (core/v1 Toleration semantics)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.effect:
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if not key:
        return operator == "Exists"  # an empty key with Exists tolerates everything
    if key != taint.key:
        return False
    if operator == "Exists":
        return True
    return str(toleration.get("value") or "") == taint.value


def _wildcard(toleration: Mapping[str, Any]) -> bool:
    return not toleration.get("key") and (toleration.get("operator") == "Exists")


def _terms(node_selector: Any, affinity: Any) -> tuple[tuple[Requirement, ...], ...]:
    base = tuple(Requirement(str(k), "In", (str(v),)) for k, v in as_dict(node_selector).items())
    required = dig(
        affinity, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", default={}
    )
    terms = as_list(as_dict(required).get("nodeSelectorTerms"))
    if not terms:
        return (base,)
    out = []
    for term in terms:
        exprs = tuple(
            Requirement(
                str(as_dict(e).get("key", "")),
                str(as_dict(e).get("operator", "In")),
                tuple(str(v) for v in as_list(as_dict(e).get("values"))),
            )
            for e in as_list(as_dict(term).get("matchExpressions"))
        )
        out.append(base + exprs)
    return tuple(out)


def placement_of(where: str, spec: Mapping[str, Any], daemon: bool = False) -> PodPlacement:
    """A pod spec (or a Helm values mapping shaped like one) -> :class:`PodPlacement`."""
    return PodPlacement(
        where,
        _terms(spec.get("nodeSelector"), spec.get("affinity")),
        tuple(as_dict(t) for t in as_list(spec.get("tolerations"))),
        daemon,
    )


# ------------------------------------------------------------------ pod discovery


def _pod_spec(props: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    spec = as_dict(props.get("spec"))
    if "containers" in spec:
        return "spec", spec
    if "template" in spec:
        return "spec.template.spec", as_dict(get(spec, "template.spec"))
    if "jobTemplate" in spec:
        return "spec.jobTemplate.spec.template.spec", as_dict(
            get(spec, "jobTemplate.spec.template.spec")
        )
    return None


def _chart(props: Mapping[str, Any]) -> str:
    return str(props.get("chart", "")).rsplit("/", 1)[-1]


def _airflow_workers(values: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The KubernetesExecutor pod template's placement, in both resolution orders."""
    workers = as_dict(values.get("workers"))
    k8s = as_dict(workers.get("kubernetes"))
    for label, order in (
        ("workers.kubernetes > workers > top level", (k8s, workers, values)),
        ("workers > top level", (workers, values)),
    ):
        resolved = {}
        for key in PLACEMENT_KEYS:
            resolved[key] = next((lvl[key] for lvl in order if lvl.get(key)), None)
        yield f"values (task pod template: {label})", resolved


def _env_placements(values: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``AIRFLOW_AKS_*_POD_PLACEMENT`` env entries anywhere in the values (JSON)."""
    stack: list[tuple[str, Any]] = [("values", values)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            name = node.get("name")
            if isinstance(name, str) and name.endswith(PLACEMENT_ENV_SUFFIX):
                try:
                    parsed = json.loads(str(node.get("value")))
                except json.JSONDecodeError:
                    parsed = None
                if isinstance(parsed, Mapping):
                    yield f"{path} (env {name})", parsed
            stack += [(f"{path}.{k}", v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(node)]


def _helm_placements(values: Any, skip: tuple[str, ...]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping of the values that carries a placement key (its own pod spec)."""
    stack: list[tuple[str, Any]] = [("values", values)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            if path not in skip and any(node.get(k) for k in PLACEMENT_KEYS):
                yield path, node
            stack += [(f"{path}.{k}", v) for k, v in node.items() if k not in PLACEMENT_KEYS]
        elif isinstance(node, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(node)]


def placements(resources: list[dict[str, Any]]) -> Iterator[tuple[str, PodPlacement]]:
    """``(urn, placement)`` of every pod (template) the stack defines."""
    for r in resources:
        t, props, urn = str(r.get("type", "")), as_dict(r.get("inputs")), str(r.get("urn"))
        if t in WORKLOAD_TYPES:
            found = _pod_spec(props)
            if found:
                path, spec = found
                yield urn, placement_of(path, spec, daemon=t == DAEMON_SET)
        elif t in HELM_TYPES:
            values = as_dict(props.get("values"))
            skip: tuple[str, ...] = ()
            if _chart(props) == "airflow":
                skip = ("values", "values.workers", "values.workers.kubernetes")
                for where, spec in _airflow_workers(values):
                    yield urn, placement_of(where, spec)
            for where, spec in _helm_placements(values, skip):
                yield urn, placement_of(where, spec)
            for where, spec in _env_placements(values):
                yield urn, placement_of(where, spec)


def _names(ps: list[Pool]) -> str:
    return ", ".join(sorted({p.name for p in ps}))


# ------------------------------------------------------------------------ the rules


def _pools_and_labels(resources: list[dict[str, Any]]) -> tuple[list[Pool], set[str]]:
    """The stack's node pools and every label key they carry (empty without pools)."""
    all_pools = pools(resources)
    return all_pools, {k for p in all_pools for k in p.labels}


@stack_rule(
    RULES,
    name="pods-tolerate-their-pool",
    level=MANDATORY,
    mirrors="AKS spot node pools / node taints docs",
    description="""A pod (workload, Helm values, the Airflow task pod template, DAG
    placements) whose node selection reaches only tainted node pools must tolerate the
    taints of one of them (AKS's spot taint included); a selection that matches no pool of
    the stack is reported too. Otherwise the pod stays Pending and the pool never
    scales up.""",
)
def pods_tolerate_their_pool(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    all_pools, known = _pools_and_labels(resources)
    if not all_pools:
        return []
    out: list[tuple[str, str]] = []
    for urn, pod in placements(resources):
        reached = [p for p in all_pools if pod.selects(p, known)]
        if not reached:
            out.append((urn, f"{pod.where}: node selection matches no node pool of the stack"))
            continue
        if any(all(pod.tolerates(t) for t in p.blocking) for p in reached):
            continue
        missing = sorted({str(t) for p in reached for t in p.blocking if not pod.tolerates(t)})
        out.append(
            (
                urn,
                f"{pod.where}: selects pool(s) {_names(reached)} but does not tolerate "
                f"{', '.join(missing)}: the pod can never be scheduled",
            )
        )
    return out


@stack_rule(
    RULES,
    name="pods-select-their-tolerated-pool",
    level=MANDATORY,
    mirrors="AKS spot node pools / node taints docs",
    description="""A pod that tolerates a dedicated pool's taints (task, spot or GPU pool;
    not the system pool's CriticalAddonsOnly, not a tolerate-everything DaemonSet) must
    also select that pool by its labels: a toleration only allows the pool, so without
    node selection the pod lands on an untainted pool, the dedicated pool never scales up
    from zero and spot/GPU capacity goes unused.""",
)
def pods_select_their_tolerated_pool(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    all_pools, known = _pools_and_labels(resources)
    if not all_pools:
        return []
    out: list[tuple[str, str]] = []
    for urn, pod in placements(resources):
        specific = [t for t in pod.tolerations if not _wildcard(t)]
        if not specific or (pod.daemon and pod.terms == ((),)):
            continue  # a DaemonSet without node selection is meant for every node
        for pool in all_pools:
            tolerated = [t for t in pool.dedicated if any(tolerates(x, t) for x in specific)]
            if not tolerated or not all(pod.tolerates(t) for t in pool.blocking):
                continue  # not this pool's pod (it cannot run there anyway)
            reached = [p for p in all_pools if pod.selects(p, known)]
            elsewhere = [
                p
                for p in reached
                if p.name != pool.name and not any(t in p.blocking for t in tolerated)
            ]
            if pool not in reached or elsewhere:
                where = f"pool(s) {_names(elsewhere)}" if elsewhere else "other pools"
                out.append(
                    (
                        urn,
                        f"{pod.where}: tolerates {', '.join(str(t) for t in tolerated)} of "
                        f"pool {pool.name} but does not select it (may land on {where}); "
                        f"add nodeSelector {dict(pool.labels)}",
                    )
                )
    return out
