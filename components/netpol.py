"""Kubernetes NetworkPolicies: default deny plus the declared paths, as pure builders.

Every namespace the platform creates (Airflow's, each data domain's) gets one
``default-deny`` policy (all pods, Ingress and Egress, no rule) and ``allow-*`` policies
that open exactly the declared paths. Policies are additive, so the deny one never needs
editing. The builders return plain manifests (tested table-driven);
:func:`network_policy` turns one into a resource.

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
    """Pods in a namespace (all pods when ``labels`` is empty) on some TCP ports."""

    namespace: str
    ports: tuple[int, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


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
    return {key: [_selector(peer)], "ports": _ports(peer.ports)}


def external_rule(ext: External) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": ext.cidr}
    if ext.except_:
        block["except"] = sorted(set(ext.except_))
    return {"to": [{"ipBlock": block}], "ports": _ports(ext.ports)}


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
) -> Manifest:
    """An additive allow policy for the selected pods (all pods when no labels)."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    if not types:
        raise ValueError(f"allow policy {namespace}/{name} opens nothing")
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {},
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
