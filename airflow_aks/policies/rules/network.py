"""Network rules: the namespaces the platform runs workloads in are default-deny in
Kubernetes network policy, whatever the mesh does.

A workload namespace is one the stack labels ``app.kubernetes.io/part-of: airflow-aks``
(Airflow's and each data domain's), or the namespace an Airflow chart installs into.
NetworkPolicies are additive, so one policy that opens everything undoes the deny: such a
policy (a rule with no peer and no port, or every pod open to every source) fails too.
The rule indexes the resources once, so it stays linear in the size of the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import (
    HELM_TYPES,
    MANDATORY,
    NAMESPACE,
    UNKNOWN,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    stack_rule,
)

RULES: list[Rule] = []

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PART_OF = "app.kubernetes.io/part-of"
PLATFORM = "airflow-aks"


def is_default_deny(policy: Mapping[str, Any]) -> bool:
    """All pods, Ingress and Egress, no rule."""
    spec = as_dict(get(policy, "inputs.spec"))
    types = set(as_list(spec.get("policyTypes")))
    return (
        spec.get("podSelector") in ({}, None)
        and {"Ingress", "Egress"} <= types
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def opens_everything(policy: Mapping[str, Any]) -> str | None:
    """Why ``policy`` undoes a default deny (None when it does not)."""
    spec = as_dict(get(policy, "inputs.spec"))
    all_pods = spec.get("podSelector") in ({}, None)
    for key, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(as_list(spec.get(key))):
            rule = as_dict(rule)
            peers, ports = as_list(rule.get(peers_key)), as_list(rule.get("ports"))
            if not peers and not ports:
                return f"{key}[{i}] allows every peer on every port"
            if all_pods and not ports and any(_any_peer(as_dict(p)) for p in peers):
                return f"{key}[{i}] opens every port of every pod to every namespace"
    return None


def _any_peer(peer: Mapping[str, Any]) -> bool:
    """A peer selecting every pod of every namespace, or every address."""
    if "ipBlock" in peer:
        return get(peer, "ipBlock.cidr") == "0.0.0.0/0" and not get(peer, "ipBlock.except")
    return peer.get("namespaceSelector") in ({},) and peer.get("podSelector") in ({}, None)


def _name(r: Mapping[str, Any], path: str) -> str | None:
    value = get(r.get("inputs"), path)
    return value if isinstance(value, str) and value != UNKNOWN else None


def workload_namespaces(resources: list[dict[str, Any]]) -> dict[str, str]:
    """Namespace name -> the URN that declares it (its Namespace, or the Airflow chart)."""
    out: dict[str, str] = {}
    for r in resources:
        if r.get("type") == NAMESPACE:
            labels = as_dict(get(r.get("inputs"), "metadata.labels"))
            name = _name(r, "metadata.name")
            if labels.get(PART_OF) == PLATFORM and name:
                out.setdefault(name, str(r.get("urn")))
    for r in resources:
        is_airflow = r.get("type") in HELM_TYPES and get(r.get("inputs"), "chart") == "airflow"
        if is_airflow and (name := _name(r, "namespace")):
            out.setdefault(name, str(r.get("urn")))
    return out


@stack_rule(
    RULES,
    name="namespace-network-default-deny",
    level=MANDATORY,
    mirrors="NSA/CISA Kubernetes Hardening Guide (default-deny network policies)",
    description="""Every namespace the platform runs workloads in (Airflow's, each data
    domain's) has a default-deny NetworkPolicy (all pods, Ingress and Egress, no rule), and
    no NetworkPolicy there opens every peer on every port or every pod to every source.
    The mesh's deny covers only meshed TCP: a pod outside the mesh, UDP, or a mesh
    misconfiguration would otherwise reach the API server and the database freely.""",
)
def namespace_network_default_deny(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    namespaces = workload_namespaces(resources)
    if not namespaces:
        return []
    denied: set[str] = set()
    out: list[tuple[str, str]] = []
    for r in resources:
        if r.get("type") != NETWORK_POLICY:
            continue
        ns = _name(r, "metadata.namespace")
        if ns not in namespaces:
            continue
        if is_default_deny(r):
            denied.add(ns)
        elif why := opens_everything(r):
            out.append(
                (str(r.get("urn")), f"NetworkPolicy {ns}/{_name(r, 'metadata.name')}: {why}")
            )
    for ns, urn in sorted(namespaces.items()):
        if ns not in denied:
            out.append((urn, f"namespace {ns} has no default-deny NetworkPolicy"))
    return out
