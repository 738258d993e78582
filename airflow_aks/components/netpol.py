"""Kubernetes NetworkPolicies: default deny plus the declared paths, as pure builders.

Every namespace the platform creates (Airflow's, each data domain's) gets one
``default-deny`` policy (all pods, Ingress and Egress, no rule) and ``allow-*`` policies
that open exactly the declared paths. Policies are additive, so the deny one never needs
editing. The builders return plain manifests (tested table-driven);
:func:`network_policy` turns one into a resource.

Kubelet probes survive a default deny: traffic from a pod's own node is always allowed
(kubernetes.io "Network Policies" concept page; NetworkPolicy v1 API reference, "or if the
traffic source is the pod's local node"; read 2026-12-02).

Peers are selected by the ``kubernetes.io/metadata.name`` label, which the API server sets
on every namespace (Kubernetes >= 1.21, "Namespaces" concept page, read 2026-12).

The Kubernetes API server is outside the pod network on AKS: a NetworkPolicy cannot name
it (cilium/cilium #14724, #20550 — Cilium matches the real API server address after the
Service NAT), so "API server" egress is TCP 443 to addresses outside the cluster's pod,
service and node ranges. The same holds for declared external hosts given by DNS name:
Kubernetes NetworkPolicy has no FQDN rule, so a host is enforced by port (and by CIDR when
given as one); FQDN filtering needs Cilium FQDN policies (not part of this platform).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

NS_NAME_LABEL = "kubernetes.io/metadata.name"
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}  # CoreDNS pods on AKS
API_SERVER_PORT = 443
ANY_IPV4 = "0.0.0.0/0"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Peer:
    """Pods in a namespace (all pods when ``labels`` is empty) on some ports."""

    namespace: str
    ports: tuple[int, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    protocol: str = "TCP"


@dataclass(frozen=True)
class External:
    """Addresses outside the cluster (``cidr`` minus ``except_``) on some TCP ports."""

    cidr: str
    ports: tuple[int, ...]
    except_: tuple[str, ...] = ()


def _ports(ports: Sequence[int], protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"protocol": protocol, "port": p} for p in sorted(set(ports))]


def _selector(peer: Peer) -> dict[str, Any]:
    sel: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: peer.namespace}}}
    if peer.labels:
        sel["podSelector"] = {"matchLabels": dict(peer.labels)}
    return sel


def peer_rule(peer: Peer, direction: str) -> dict[str, Any]:
    """One ingress (``from``) or egress (``to``) rule for a peer."""
    key = "from" if direction == "ingress" else "to"
    return {key: [_selector(peer)], "ports": _ports(peer.ports, peer.protocol)}


def external_rule(ext: External, direction: str = "egress") -> dict[str, Any]:
    """Egress to (or, with ``direction="ingress"``, ingress from) addresses outside."""
    block: dict[str, Any] = {"cidr": ext.cidr}
    if ext.except_:
        block["except"] = sorted(set(ext.except_))
    key = "from" if direction == "ingress" else "to"
    return {key: [{"ipBlock": block}], "ports": _ports(ext.ports)}


def dns_rule() -> dict[str, Any]:
    """Egress to CoreDNS, UDP and TCP 53."""
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {NS_NAME_LABEL: DNS_NAMESPACE}},
                "podSelector": {"matchLabels": dict(DNS_LABELS)},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def outside_cluster(cluster_cidrs: Sequence[str], ports: Sequence[int]) -> External:
    """Any address but the cluster's own ranges, on ``ports``."""
    return External(ANY_IPV4, tuple(ports), tuple(cluster_cidrs))


def default_deny(namespace: str) -> Manifest:
    """Select every pod, deny all ingress and egress."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow(
    name: str,
    namespace: str,
    pod_labels: Mapping[str, str] | None = None,
    *,
    ingress: Sequence[dict[str, Any]] = (),
    egress: Sequence[dict[str, Any]] = (),
    pod_selector: Mapping[str, Any] | None = None,
) -> Manifest:
    """An additive allow policy for the selected pods: ``pod_labels`` (all pods when none),
    or a full ``pod_selector`` (``matchExpressions``)."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    if not types:
        raise ValueError(f"allow policy {namespace}/{name} opens nothing")
    if pod_selector is not None and pod_labels:
        raise ValueError(f"allow policy {namespace}/{name}: pod_labels or pod_selector, not both")
    selector = dict(pod_selector) if pod_selector is not None else None
    spec: dict[str, Any] = {
        "podSelector": selector or ({"matchLabels": dict(pod_labels)} if pod_labels else {}),
        "policyTypes": types,
    }
    if ingress:
        spec["ingress"] = list(ingress)
    if egress:
        spec["egress"] = list(egress)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def with_proxy_ports(peer: Peer, inbound_proxy_ports: Sequence[int]) -> Peer:
    """A peer's ports plus the mesh proxy's inbound ports (Linkerd: meshed clients connect
    to 4143 instead of the app port)."""
    return Peer(peer.namespace, tuple(peer.ports) + tuple(inbound_proxy_ports), peer.labels)


CILIUM_API = "cilium.io/v2"
API_SERVER_ENTITY = "kube-apiserver"


def cilium_api_server_egress(namespace: str) -> Manifest:
    """A CiliumNetworkPolicy letting every pod of ``namespace`` reach the Kubernetes API
    server by Cilium's reserved identity, the backstop of the ``ipBlock`` rule on 443.

    Cilium gives the API server the reserved identity ``kube-apiserver``, which a
    NetworkPolicy ``ipBlock`` may not match (cilium/cilium#20550, #14724; AKS: "Network
    policies can't use ipBlock to allow access to node or pod IPs"); ``toEntities:
    [kube-apiserver]`` matches it. AKS-managed Cilium supports L3/L4 CiliumNetworkPolicy
    alongside NetworkPolicy (aks-docs azure-cni-powered-by-cilium.md, changed 2026-06-26,
    read 2026-12-07). Policies add up: this opens nothing but the API server on 443."""
    return {
        "apiVersion": CILIUM_API,
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "allow-kube-apiserver", "namespace": namespace},
        "spec": {
            "endpointSelector": {},
            "egress": [
                {
                    "toEntities": [API_SERVER_ENTITY],
                    "toPorts": [{"ports": [{"port": str(API_SERVER_PORT), "protocol": "TCP"}]}],
                }
            ],
        },
    }


def network_policy(
    resource_name: str, manifest: Manifest, opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy resource from a manifest built above."""
    meta = manifest["metadata"]
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=meta["name"],
            namespace=meta["namespace"],
            labels={"app.kubernetes.io/managed-by": "pulumi"},
        ),
        spec=manifest["spec"],
        opts=opts,
    )


# ----------------------------------------------------------------------------- checking
# A small evaluator of the NetworkPolicy semantics (networking.k8s.io/v1, "Network
# Policies" concept page, read 2026-12): a connection passes when the source's egress
# and the destination's ingress both admit it; a side no policy selects is open. It lets
# tests and the plan check that every declared path is open and everything else closed.


@dataclass(frozen=True)
class Pod:
    """A pod as a NetworkPolicy sees it: its namespace and labels."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)


Endpoint = Pod | str
"""A pod, or an IPv4 address outside the pod network."""


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist)."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in dict(selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], set(expr.get("values") or ())
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op)
        if ok is None:
            raise ValueError(f"unknown selector operator {op!r}")
        if not ok:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], own_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, str):
            return False  # ipBlock is for addresses outside the pod network
        import ipaddress

        addr = ipaddress.IPv4Address(other)
        block = peer["ipBlock"]
        if addr not in ipaddress.IPv4Network(block["cidr"]):
            return False
        return not any(addr in ipaddress.IPv4Network(e) for e in block.get("except") or ())
    if isinstance(other, str):
        return False
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        ns_ok = other.namespace == own_namespace
    else:
        ns_ok = selector_matches(ns_sel, {NS_NAME_LABEL: other.namespace})
    return ns_ok and selector_matches(peer.get("podSelector"), other.labels)


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        start = p.get("port")
        if start is None or start == port or (start <= port <= p.get("endPort", start)):
            return True
    return False


def _side_admits(
    policies: Sequence[Manifest], pod: Pod, other: Endpoint, port: int, protocol: str, kind: str
) -> bool:
    rules_key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    selecting = [
        m
        for m in policies
        if m["metadata"]["namespace"] == pod.namespace
        and kind in m["spec"].get("policyTypes", ["Ingress"])
        and selector_matches(m["spec"].get("podSelector"), pod.labels)
    ]
    if not selecting:
        return True
    for m in selecting:
        for rule in m["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            if (
                not peers or any(_peer_matches(pe, pod.namespace, other) for pe in peers)
            ) and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def admits(
    policies: Sequence[Manifest], src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether ``policies`` let ``src`` open a connection to ``dst`` on ``port``."""
    egress_ok = not isinstance(src, Pod) or _side_admits(
        policies, src, dst, port, protocol, "Egress"
    )
    ingress_ok = not isinstance(dst, Pod) or _side_admits(
        policies, dst, src, port, protocol, "Ingress"
    )
    return egress_ok and ingress_ok
