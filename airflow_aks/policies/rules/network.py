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
    AGENT_POOL,
    HELM_TYPES,
    MANAGED_CLUSTER,
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


CUSTOM_RESOURCE = "kubernetes:apiextensions.k8s.io:CustomResource"


def egress_admits(policy: Mapping[str, Any], namespace: str, port: int) -> bool:
    """``policy`` (selecting every pod) lets every pod dial ``namespace``:``port``."""
    spec = as_dict(get(policy, "inputs.spec"))
    if spec.get("podSelector") not in ({}, None):
        return False
    for rule in as_list(spec.get("egress")):
        rule = as_dict(rule)
        ports = [as_dict(p).get("port") for p in as_list(rule.get("ports"))]
        if ports and port not in ports:
            continue
        for peer in as_list(rule.get("to")):
            peer = as_dict(peer)
            sel = as_dict(get(peer, "namespaceSelector.matchLabels"))
            if peer.get("podSelector") not in ({}, None):
                continue
            if sel.get("kubernetes.io/metadata.name") == namespace:
                return True
    return False


def collector(endpoint: str) -> tuple[str, int] | None:
    """``(namespace, port)`` of ``<service>.<namespace>[...]:<port>``; None for a short
    name (it resolves only inside the collector's own namespace)."""
    host, _, port = endpoint.split("://")[-1].rpartition(":")
    labels = host.split(".")
    if len(labels) < 2 or not port.isdigit():
        return None
    return labels[1], int(port)


@stack_rule(
    RULES,
    name="mesh-trace-collector-reachable",
    level=MANDATORY,
    mirrors="kuma v2.14.3 pkg/plugins/policies/meshtrace/plugin/v1alpha1/plugin.go (each data "
    "plane's Envoy gets a tracing cluster for the backend endpoint; read 2026-12-07)",
    description="""A Kuma MeshTrace's OpenTelemetry collector is dialled by the data plane
    of every meshed pod: it must be named <service>.<namespace>:<port> (a short name
    resolves only in its own namespace), and every platform namespace with a default-deny
    NetworkPolicy must let all its pods reach that namespace and port, or no span ever
    arrives.""",
)
def mesh_trace_collector_reachable(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    traces = [
        r
        for r in resources
        if r.get("type") == CUSTOM_RESOURCE and get(r.get("inputs"), "kind") == "MeshTrace"
    ]
    if not traces:
        return []
    namespaces = workload_namespaces(resources)
    policies: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        if r.get("type") == NETWORK_POLICY and (ns := _name(r, "metadata.namespace")):
            policies.setdefault(ns, []).append(r)
    denied = [ns for ns in namespaces if any(is_default_deny(p) for p in policies.get(ns, []))]
    out: list[tuple[str, str]] = []
    for t in traces:
        urn = str(t.get("urn"))
        for b in as_list(get(t.get("inputs"), "spec.default.backends")):
            endpoint = get(b, "openTelemetry.endpoint")
            if not isinstance(endpoint, str):
                continue
            peer = collector(endpoint)
            if peer is None:
                out.append((urn, f"collector {endpoint!r} is a short name; name its namespace"))
                continue
            for ns in sorted(denied):
                if not any(egress_admits(p, *peer) for p in policies.get(ns, [])):
                    out.append(
                        (
                            urn,
                            f"namespace {ns} denies egress to the trace collector "
                            f"{peer[0]}:{peer[1]} ({endpoint}); fix: an egress NetworkPolicy "
                            "for every pod to that namespace and port",
                        )
                    )
    return out


# ------------------------------------------------------------------ load-balancer paths

NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"
SERVICE = "kubernetes:core/v1:Service"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
APP_ROUTING_CLASS = "approuting-istio"
APP_ROUTING_STATUS_PORT = 15021
"""The approuting-istio gateway Service publishes Istio's status port next to the
listeners (aks-docs app-routing-gateway-api.md, changed 2026-07-01, sample output
``15021:30580/TCP,80:32693/TCP``; read 2026-12-07): the load balancer gets a rule and a
probe for it."""
ANYWHERE = {"*", "internet", "0.0.0.0/0", "any"}


def _entry_points(
    resources: list[dict[str, Any]],
) -> list[tuple[str, str, dict[str, str], tuple[int, ...], bool]]:
    """``(urn, namespace, pod labels, ports, internal)`` of every load-balanced entry; a
    port above 15000 is a probe/status port (Istio's range), checked in-cluster only."""
    out = []
    for r in resources:
        props = as_dict(r.get("inputs"))
        ns = str(get(props, "metadata.namespace") or "default")
        if r.get("type") == GATEWAY or (
            r.get("type") == CUSTOM_RESOURCE and props.get("kind") == "Gateway"
        ):
            name = str(get(props, "metadata.name"))
            ports = {
                int(str(get(li, "port")))
                for li in as_list(get(props, "spec.listeners"))
                if str(get(li, "port")).isdigit()
            }
            if get(props, "spec.gatewayClassName") == APP_ROUTING_CLASS:
                ports.add(APP_ROUTING_STATUS_PORT)
            ann = as_dict(get(props, "spec.infrastructure.annotations"))
            internal = str(ann.get(INTERNAL_LB, "")).lower() == "true"
            labels = {"gateway.networking.k8s.io/gateway-name": name}
            out.append((str(r.get("urn")), ns, labels, tuple(sorted(ports)), internal))
        elif r.get("type") == SERVICE and get(props, "spec.type") == "LoadBalancer":
            ports = {
                int(str(p.get("targetPort") or p.get("port")))
                for p in (as_dict(x) for x in as_list(get(props, "spec.ports")))
                if str(p.get("targetPort") or p.get("port") or "").isdigit()
            }
            ann = as_dict(get(props, "metadata.annotations"))
            internal = str(ann.get(INTERNAL_LB, "")).lower() == "true"
            labels = {k: str(v) for k, v in as_dict(get(props, "spec.selector")).items()}
            out.append((str(r.get("urn")), ns, labels, tuple(sorted(ports)), internal))
    return out


def _selects(policy: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    sel = as_dict(get(policy, "inputs.spec.podSelector"))
    match = as_dict(sel.get("matchLabels"))
    return not sel.get("matchExpressions") and all(labels.get(k) == v for k, v in match.items())


def ingress_from_anywhere(policy: Mapping[str, Any], port: int) -> bool:
    """``policy`` admits ``port`` from any source (no peer, or an open ipBlock)."""
    for rule in as_list(get(policy, "inputs.spec.ingress")):
        rule = as_dict(rule)
        ports = [as_dict(p).get("port") for p in as_list(rule.get("ports"))]
        if ports and port not in ports:
            continue
        peers = as_list(rule.get("from"))
        if not peers or any(
            get(p, "ipBlock.cidr") == "0.0.0.0/0" and not get(p, "ipBlock.except") for p in peers
        ):
            return True
    return False


def _port_in(rule: Mapping[str, Any], port: int) -> bool:
    ranges = [rule.get("destinationPortRange"), *as_list(rule.get("destinationPortRanges"))]
    for value in ranges:
        text = str(value or "")
        if text == "*":
            return True
        lo, _, hi = text.partition("-")
        if lo.isdigit() and int(lo) <= port <= int(hi or lo):
            return True
    return False


def nsg_admits_internet(nsg: Mapping[str, Any], port: int) -> bool:
    """The NSG's inbound rules let the internet reach ``port`` before any deny does (the
    default rules end with DenyAllInBound; Azure/AKS#674: a subnet NSG needs its own allow
    for a public load balancer)."""
    rules = sorted(
        (as_dict(r) for r in as_list(get(nsg, "inputs.securityRules"))),
        key=lambda r: int(r.get("priority") or 65000),
    )
    for rule in rules:
        if str(rule.get("direction", "")).lower() != "inbound":
            continue
        if str(rule.get("protocol", "*")).lower() not in ("*", "tcp"):
            continue
        sources = {str(rule.get("sourceAddressPrefix") or "").lower()} | {
            str(s).lower() for s in as_list(rule.get("sourceAddressPrefixes"))
        }
        if not sources & ANYWHERE or not _port_in(rule, port):
            continue
        return str(rule.get("access", "")).lower() == "allow"
    return False


def _node_nsgs(resources: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
    """NSGs on the subnets the cluster's nodes use (what the cluster and its pools wait for)."""
    by_urn = {str(r.get("urn")): r for r in resources}
    subnets: set[str] = set()
    for r in resources:
        if r.get("type") in (MANAGED_CLUSTER, AGENT_POOL):
            for d in r.get("dependencies") or []:
                if get(by_urn.get(str(d)), "type") == SUBNET:
                    subnets.add(str(d))
    nsgs = []
    for s in subnets:
        for d in by_urn[s].get("dependencies") or []:
            if get(by_urn.get(str(d)), "type") == NSG:
                nsgs.append(by_urn[str(d)])
    return nsgs


@stack_rule(
    RULES,
    name="load-balancer-paths-admitted",
    level=MANDATORY,
    mirrors="Azure/AKS#674 (subnet NSG needs an inbound allow for a public load "
    "balancer); aks-docs app-routing-gateway-api.md (gateway Service ports incl. 15021); "
    "read 2026-12-07",
    description="""Every load-balanced entry (a Service of type LoadBalancer, or a Gateway
    whose controller creates one) has its data and health-probe ports admitted end to end:
    a public one by an inbound allow from the internet on the NSG of the nodes' subnet
    (whose default rules end in DenyAllInBound), and in a default-deny namespace by a
    NetworkPolicy on its pods admitting those ports from anywhere (Cilium enforces policy
    on load-balancer traffic). Otherwise the address answers nothing.""",
)
def load_balancer_paths_admitted(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    entries = _entry_points(resources)
    if not entries:
        return []
    policies: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        if r.get("type") == NETWORK_POLICY and (ns := _name(r, "metadata.namespace")):
            policies.setdefault(ns, []).append(r)
    nsgs = _node_nsgs(resources)
    out: list[tuple[str, str]] = []
    for urn, ns, labels, ports, internal in entries:
        denied = any(is_default_deny(p) for p in policies.get(ns, []))
        for port in ports:
            if denied and not any(
                _selects(p, labels) and ingress_from_anywhere(p, port) for p in policies[ns]
            ):
                out.append(
                    (
                        urn,
                        f"port {port}: no NetworkPolicy in {ns} admits it from anywhere on the "
                        "load-balanced pods; fix: open it on the pods the Service selects",
                    )
                )
            # Probes come from the AzureLoadBalancer tag, which the default rule
            # AllowAzureLoadBalancerInBound admits; only data ports need the internet.
            if not internal and port != APP_ROUTING_STATUS_PORT:
                for nsg in nsgs:
                    if not nsg_admits_internet(nsg, port):
                        name = get(nsg.get("inputs"), "networkSecurityGroupName")
                        out.append(
                            (
                                urn,
                                f"port {port}: NSG {name} on the nodes' subnet has no inbound "
                                "allow from the internet (DenyAllInBound drops it; "
                                "Azure/AKS#674); fix: an inbound allow rule for the port",
                            )
                        )
    return out


def _cilium(resources: list[dict[str, Any]]) -> bool:
    return any(
        r.get("type") == MANAGED_CLUSTER
        and str(get(r.get("inputs"), "networkProfile.networkPolicy") or "").lower() == "cilium"
        for r in resources
    )


def _https_by_ip_block(policy: Mapping[str, Any]) -> bool:
    """An egress rule to an ipBlock on 443: how the namespace means to reach the API server."""
    for rule in as_list(get(policy, "inputs.spec.egress")):
        rule = as_dict(rule)
        ports = [as_dict(p).get("port") for p in as_list(rule.get("ports"))]
        if 443 in ports and any("ipBlock" in as_dict(p) for p in as_list(rule.get("to"))):
            return True
    return False


def _allows_api_server(cnp: Mapping[str, Any]) -> bool:
    spec = as_dict(get(cnp, "inputs.spec"))
    if spec.get("endpointSelector") not in ({}, None):
        return False
    return any(
        "kube-apiserver" in as_list(as_dict(e).get("toEntities"))
        for e in as_list(spec.get("egress"))
    )


@stack_rule(
    RULES,
    name="cilium-api-server-egress",
    level=MANDATORY,
    mirrors="cilium/cilium#20550, #14724 (ipBlock vs the kube-apiserver identity); aks-docs "
    "azure-cni-powered-by-cilium.md (L3/L4 CiliumNetworkPolicy supported); read 2026-12-07",
    description="""Under Cilium, every namespace with a default-deny NetworkPolicy that
    opens HTTPS egress through an ipBlock (how the platform's namespaces reach the API
    server) also has a CiliumNetworkPolicy letting all its pods reach the entity kube-apiserver:
    Cilium gives the API server a reserved identity that the ipBlock egress rule may not
    match, and the scheduler, triggerer and task pods must reach it to launch and watch
    pods.""",
)
def cilium_api_server_egress(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    if not _cilium(resources):
        return []
    denied: dict[str, str] = {}
    wants: set[str] = set()  # namespaces whose policies open HTTPS through an ipBlock
    allowed: set[str] = set()
    for r in resources:
        ns = _name(r, "metadata.namespace")
        if ns is None:
            continue
        if r.get("type") == NETWORK_POLICY:
            if is_default_deny(r):
                denied[ns] = str(r.get("urn"))
            elif _https_by_ip_block(r):
                wants.add(ns)
        elif get(r.get("inputs"), "kind") == "CiliumNetworkPolicy" and _allows_api_server(r):
            allowed.add(ns)
    return [
        (
            urn,
            f"namespace {ns} denies egress by default but no CiliumNetworkPolicy allows "
            "toEntities kube-apiserver; fix: add one (the ipBlock rule may not match the API "
            "server's identity)",
        )
        for ns, urn in sorted(denied.items())
        if ns in wants and ns not in allowed
    ]
