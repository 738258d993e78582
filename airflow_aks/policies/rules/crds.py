"""CRDs before custom resources.

A custom resource can be created only once its CustomResourceDefinition exists; a kind
nothing installs fails the `up` that creates it ("no matches for kind"), possibly half an
hour in. Every custom-resource kind of the plan needs a source: a CRD resource or a chart
that installs the CRDs, earlier in the dependency graph, or a cluster property of the
ManagedCluster (which exists before any Kubernetes object: the provider needs its
credentials).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import (
    HELM_TYPES,
    MANAGED_CLUSTER,
    Context,
    as_dict,
    get,
    is_false,
    is_true,
)

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
CUSTOM_RESOURCE = "kubernetes:apiextensions.k8s.io:CustomResource"
GATEWAY_API = "gateway.networking.k8s.io"

POST_CREATE_TAG = "airflow-aks-post-create"
"""ManagedCluster tag naming a step run once after the cluster exists (the plan prints it),
for a cluster property the deploying SDK cannot set (see ``components/entrance.py``)."""

# API groups built into Kubernetes (no CRD): the groups of the typed resources we use.
BUILT_IN = {
    "core",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "helm.sh",
    "yaml",
}

# Charts whose templates install CRDs, by chart name -> (groups, values switch that turns
# them off or on). Read 2026-12-07 at the pinned tags: linkerd2 edge-26.8.3
# charts/linkerd-crds (policy.linkerd.io, linkerd.io; Gateway API CRDs only with
# installGatewayAPI: true since 2.19); cert-manager v1.21.1 deploy/charts/cert-manager
# (crds.enabled); trust-manager v0.24.0 deploy/charts/trust-manager
# templates/crd-trust.cert-manager.io_bundles.yaml; kuma v2.14.3 deployments/charts/kuma
# crds/ (Helm installs crds/ first).
CHART_CRDS: dict[str, tuple[tuple[str, ...], str | None, bool]] = {
    "linkerd-crds": (("policy.linkerd.io", "linkerd.io"), None, True),
    "cert-manager": (("cert-manager.io", "acme.cert-manager.io"), "crds.enabled", False),
    "trust-manager": (("trust.cert-manager.io",), "crds.enabled", True),
    "kuma": (("kuma.io",), None, True),
}


CLUSTER_PROVIDABLE = {"cilium.io", "secrets-store.csi.x-k8s.io", GATEWAY_API}
"""Groups a ManagedCluster property can provide (:func:`cluster_groups`)."""


def group_of(r: Mapping[str, Any]) -> str | None:
    """API group of a Kubernetes resource (``core`` for v1), None for non-Kubernetes."""
    typ = str(r.get("type", ""))
    if not typ.startswith("kubernetes:"):
        return None
    if typ == CUSTOM_RESOURCE:
        api = str(get(r.get("inputs"), "apiVersion") or "")
        return api.split("/", 1)[0] if "/" in api else "core"
    module = typ.split(":")[1]
    return module.split("/", 1)[0] if "/" in module else module


def _chart(props: Mapping[str, Any]) -> str:
    return str(props.get("chart", "")).rstrip("/").rsplit("/", 1)[-1].lower()


def chart_groups(props: Mapping[str, Any]) -> set[str]:
    """CRD groups a chart install brings."""
    name = _chart(props)
    values = as_dict(props.get("values"))
    out: set[str] = set()
    if name in CHART_CRDS:
        groups, switch, default = CHART_CRDS[name]
        value = get(values, switch) if switch else None
        on = default if value is None else (is_true(value) and not is_false(value))
        if on:
            out |= set(groups)
    if name == "linkerd-crds" and is_true(values.get("installGatewayAPI")):
        out.add(GATEWAY_API)
    return out


def cluster_groups(props: Mapping[str, Any]) -> dict[str, str]:
    """CRD groups the ManagedCluster provides -> the property that provides them."""
    out: dict[str, str] = {}
    policy = str(get(props, "networkProfile.networkPolicy") or "").lower()
    if policy == "cilium":
        # AKS-managed Cilium ships the cilium.io CRDs and supports L3/L4 policies
        # (aks-docs azure-cni-powered-by-cilium.md, changed 2026-06-26).
        out["cilium.io"] = "networkProfile.networkPolicy cilium"
    if is_true(get(props, "addonProfiles.azureKeyvaultSecretsProvider.enabled")):
        # The add-on installs the Secrets Store CSI driver (SecretProviderClass CRD).
        out["secrets-store.csi.x-k8s.io"] = "addonProfiles.azureKeyvaultSecretsProvider"
    if str(get(props, "ingressProfile.gatewayAPI.installation") or "").lower() == "standard":
        out[GATEWAY_API] = "ingressProfile.gatewayAPI.installation Standard"
    step = str(as_dict(props.get("tags")).get(POST_CREATE_TAG) or "")
    if "--enable-gateway-api" in step:
        out[GATEWAY_API] = f"post-create step `{step}` (printed by the plan)"
    return out


def _ancestors(
    urn: str, by_urn: Mapping[str, Mapping[str, Any]], memo: dict[str, set[str]]
) -> set[str]:
    """Everything ``urn`` waits for: its dependencies and its parents', transitively."""
    if urn in memo:
        return memo[urn]
    memo[urn] = set()
    r = by_urn.get(urn)
    if r is None:
        return memo[urn]
    out: set[str] = set()
    direct = [str(d) for d in r.get("dependencies") or []]
    if r.get("parent"):
        direct.append(str(r["parent"]))
    for d in direct:
        out.add(d)
        out |= _ancestors(d, by_urn, memo)
    memo[urn] = out
    return out


def missing_sources(resources: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    by_urn = {str(r.get("urn")): r for r in resources}
    providers: dict[str, set[str]] = {}  # group -> URNs that install it
    cluster: dict[str, str] = {}
    for r in resources:
        urn, props = str(r.get("urn")), as_dict(r.get("inputs"))
        if r.get("type") == CRD:
            providers.setdefault(str(get(props, "spec.group")), set()).add(urn)
        elif r.get("type") in HELM_TYPES:
            for g in chart_groups(props):
                providers.setdefault(g, set()).add(urn)
        elif r.get("type") == MANAGED_CLUSTER:
            cluster |= cluster_groups(props)
    memo: dict[str, set[str]] = {}
    has_cluster = any(r.get("type") == MANAGED_CLUSTER for r in resources)
    for r in resources:
        group = group_of(r)
        if not has_cluster and group in CLUSTER_PROVIDABLE:
            # The cluster is another stack's (a consumer stack on the platform's cluster):
            # its properties are checked where it is planned.
            continue
        if group is None or group in BUILT_IN or r.get("type") in HELM_TYPES:
            continue
        if r.get("type") == CRD:
            continue
        if group in cluster:
            continue
        urn = str(r.get("urn"))
        kind = get(r.get("inputs"), "kind") or str(r.get("type")).rsplit(":", 1)[-1]
        sources = providers.get(group, set())
        if sources & _ancestors(urn, by_urn, memo):
            continue
        if sources:
            names = ", ".join(sorted(s.rsplit("::", 1)[-1] for s in sources))
            yield (
                urn,
                f"{kind} ({group}) does not wait for what installs its CRDs ({names}); fix: "
                "depend on it",
            )
        else:
            yield (
                urn,
                f"{kind} ({group}): nothing in the plan installs this CRD (no CRD resource, "
                "chart or cluster property provides it); the `up` creating it fails",
            )


def crds_before_custom_resources_findings(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    return list(missing_sources(resources))
