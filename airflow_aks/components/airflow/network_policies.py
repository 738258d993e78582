"""Default-deny NetworkPolicies for the Airflow namespace, with exactly the paths it needs.

The mesh already denies by default, but only for meshed TCP: a pod outside the mesh, UDP,
or a mesh misconfiguration would reach the API server and the database freely. This
second layer is the same in every mesh mode (Linkerd, Kuma, ``none``); only the proxy and
control-plane ports the mesh interface reports (:class:`~airflow_aks.components.mesh.base.
NetworkNeeds`) are added.

What is open (everything else is denied, both directions):

* every pod: DNS; TCP 443 to addresses outside the cluster's pod, service and node ranges
  (Entra token exchange, Key Vault and Blob, also through private endpoints, the
  Kubernetes API server, the Git host); the mesh control plane; UDP to statsd;
* the in-mesh paths of :func:`~airflow_aks.components.airflow.mesh_paths.allow_rules`,
  both ends (execution API, live log fetches, the entrance gateway): one source for the
  mesh authorisation and the network policy, so the two cannot drift;
* the components that hold a database session (scheduler, API server, DAG processor,
  triggerer, the migration and user Jobs) to Postgres on 5432 — task pods do not: Airflow 3
  tasks talk to the execution API, never to the metadata database;
* the entrance gateway pods: its listener ports from anywhere (the load balancer), its
  control plane (``GatewayPeer``).

Pod labels are the official chart's (``component``, ``release``: chart templates, e.g.
``jobs/migrate-database-job.yaml``, apache/airflow stored commit 058b846c, read 2026-12-02).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from airflow_aks.components import netpol
from airflow_aks.components.mesh.base import AllowRule, NetworkNeeds

from .mesh_paths import WORKER_LOGS_PORT

POSTGRES_PORT = 5432  # Azure Database for PostgreSQL flexible server (PgBouncer is off)
STATSD_INGEST_PORT = 9125  # chart ports.statsdIngest (UDP)
STATSD_SCRAPE_PORT = 9102  # chart ports.statsdScrape
DATABASE_COMPONENTS = (
    "scheduler",
    "api-server",
    "dag-processor",
    "triggerer",
    "run-airflow-migrations",
    "create-user-job",
)
"""Chart ``component`` labels of the pods that open metadata-database sessions."""


@dataclass(frozen=True)
class GatewayPeer:
    """The entrance's gateway pods (in the Airflow namespace) as the network sees them."""

    labels: Mapping[str, str]
    """Pod labels (``gateway.networking.k8s.io/gateway-name``)."""
    listener_ports: tuple[int, ...]
    """Ports the gateway's Envoy listens on (the load balancer forwards to these)."""
    control_plane_namespace: str | None = None
    """Namespace of the gateway's control plane (istiod), if it must be reached."""
    control_plane_ports: tuple[int, ...] = ()
    """Ports of that control plane (xDS and certificates)."""
    health_ports: tuple[int, ...] = ()
    """Further ports the gateway's LoadBalancer Service publishes (status / health probe
    ports), admitted from anywhere like the listeners."""


@dataclass(frozen=True)
class AirflowNetwork:
    """Everything the Airflow namespace's policies depend on (plain data)."""

    namespace: str
    release: str
    cluster_cidrs: tuple[str, ...]
    """Pod, service and node ranges: "outside the cluster" is everything else."""
    database_cidr: str | None = None
    """Postgres subnet (private access); None: anywhere outside the cluster."""
    mesh: NetworkNeeds = field(default_factory=NetworkNeeds)
    statsd: bool = True
    """The chart's statsd exporter runs (metrics on)."""
    domain_namespaces: tuple[str, ...] = ()
    """Namespaces of data-domain task pods (they send metrics to statsd)."""
    gateway: GatewayPeer | None = None
    scrapers: tuple[netpol.Peer, ...] = field(default_factory=tuple)
    """Who may scrape statsd's metrics port (e.g. the Prometheus namespace)."""


def _labels(component: str, release: str) -> dict[str, str]:
    return {"component": component, "release": release}


def _path_policies(
    net: AirflowNetwork, rule: AllowRule, proxy_ports: Sequence[int]
) -> list[netpol.Manifest]:
    """One mesh allow rule as NetworkPolicies: ingress at the target from each client,
    and egress at each client in this namespace (other namespaces open their own egress)."""
    ns, port = net.namespace, rule.target.port
    ports = (port, *proxy_ports)
    ingress = [
        netpol.peer_rule(netpol.Peer(c.namespace, ports, dict(c.labels)), "ingress")
        for c in rule.clients
    ]
    out = [netpol.allow(f"allow-{rule.name}", ns, rule.target.labels, ingress=ingress)]
    target = netpol.Peer(ns, ports, dict(rule.target.labels))
    seen: set[tuple[tuple[str, str], ...]] = set()
    for c in rule.clients:
        key = tuple(sorted(c.labels.items()))
        if c.namespace != ns or key in seen:
            continue
        if not c.labels:
            raise ValueError(f"mesh rule {rule.name}: client {c.service_account} has no labels")
        seen.add(key)
        out.append(
            netpol.allow(
                f"allow-{rule.name}-from-{c.service_account}",
                ns,
                c.labels,
                egress=[netpol.peer_rule(target, "egress")],
            )
        )
    return out


def airflow_network_policies(
    net: AirflowNetwork, rules: Sequence[AllowRule]
) -> list[netpol.Manifest]:
    """``default-deny`` plus one ``allow-*`` policy per declared path (see module doc)."""
    ns, cidrs, mesh = net.namespace, net.cluster_cidrs, net.mesh
    if not cidrs:
        raise ValueError("airflow network: cluster_cidrs is required (pod and service ranges)")
    if net.gateway is not None and not net.gateway.listener_ports:
        raise ValueError("airflow network: gateway.listener_ports is empty")
    out = [
        netpol.default_deny(ns),
        netpol.allow("allow-dns", ns, egress=[netpol.dns_rule()]),
        netpol.allow(
            "allow-https-outside",
            ns,
            egress=[netpol.external_rule(netpol.outside_cluster(cidrs, [netpol.API_SERVER_PORT]))],
        ),
    ]
    if mesh.scrape_namespace and mesh.scrape_ports:
        # The scraper may itself be meshed: its proxy then dials the inbound proxy port.
        scraper = netpol.Peer(
            mesh.scrape_namespace, (*mesh.scrape_ports, *mesh.inbound_proxy_ports)
        )
        out.append(
            netpol.allow("allow-mesh-metrics", ns, ingress=[netpol.peer_rule(scraper, "ingress")])
        )
    if mesh.control_plane_namespace and mesh.control_plane_ports:
        cp = netpol.Peer(mesh.control_plane_namespace, mesh.control_plane_ports)
        out.append(
            netpol.allow("allow-mesh-control-plane", ns, egress=[netpol.peer_rule(cp, "egress")])
        )
    if mesh.telemetry_namespace and mesh.telemetry_ports:
        sink = netpol.Peer(mesh.telemetry_namespace, mesh.telemetry_ports)
        out.append(
            netpol.allow("allow-mesh-telemetry", ns, egress=[netpol.peer_rule(sink, "egress")])
        )
    db = (
        netpol.External(net.database_cidr, (POSTGRES_PORT,))
        if net.database_cidr
        else netpol.outside_cluster(cidrs, [POSTGRES_PORT])
    )
    out.append(
        netpol.allow(
            "allow-postgres",
            ns,
            pod_selector={
                "matchLabels": {"release": net.release},
                "matchExpressions": [
                    {"key": "component", "operator": "In", "values": list(DATABASE_COMPONENTS)}
                ],
            },
            egress=[netpol.external_rule(db)],
        )
    )
    for rule in rules:
        if rule.namespace != ns:
            raise ValueError(
                f"mesh rule {rule.name}: target namespace {rule.namespace} is not {ns}"
            )
        out += _path_policies(net, rule, mesh.inbound_proxy_ports)
    if net.domain_namespaces:
        # Live logs of domain task pods: the API server fetches them in their namespaces
        # (whose ingress admits it; see domains.network_policies).
        ports = (WORKER_LOGS_PORT, *mesh.inbound_proxy_ports)
        egress = [netpol.peer_rule(netpol.Peer(d, ports), "egress") for d in net.domain_namespaces]
        out.append(
            netpol.allow(
                "allow-domain-task-logs", ns, _labels("api-server", net.release), egress=egress
            )
        )
    if net.statsd:
        out += _statsd_policies(net)
    if net.gateway is not None:
        out.append(_gateway_policy(net, net.gateway))
    return out


def _statsd_policies(net: AirflowNetwork) -> list[netpol.Manifest]:
    """Metrics are UDP (no mesh proxies them): every Airflow pod, here or in a domain, to
    the exporter's ingest port; its scrape port only for the declared scrapers."""
    ns, statsd = net.namespace, _labels("statsd", net.release)
    senders = (ns, *net.domain_namespaces)
    ingress = [
        netpol.peer_rule(netpol.Peer(s, (STATSD_INGEST_PORT,), protocol="UDP"), "ingress")
        for s in senders
    ]
    ingress += [
        netpol.peer_rule(netpol.Peer(p.namespace, (STATSD_SCRAPE_PORT,), p.labels), "ingress")
        for p in net.scrapers
    ]
    target = netpol.Peer(ns, (STATSD_INGEST_PORT,), statsd, protocol="UDP")
    return [
        netpol.allow("allow-statsd", ns, statsd, ingress=ingress),
        netpol.allow("allow-statsd-out", ns, egress=[netpol.peer_rule(target, "egress")]),
    ]


def _gateway_policy(net: AirflowNetwork, gw: GatewayPeer) -> netpol.Manifest:
    """The load balancer forwards client traffic (any source address) to the listeners;
    the gateway's own control plane gives it configuration and certificates."""
    # No peer: any source, pods and addresses (the load balancer keeps client addresses
    # with externalTrafficPolicy Local and uses node addresses with Cluster).
    ports = sorted({*gw.listener_ports, *gw.health_ports})
    ingress = [{"ports": [{"protocol": "TCP", "port": p} for p in ports]}]
    egress: list[dict[str, object]] = []
    if gw.control_plane_namespace and gw.control_plane_ports:
        egress.append(
            netpol.peer_rule(
                netpol.Peer(gw.control_plane_namespace, gw.control_plane_ports), "egress"
            )
        )
    return netpol.allow("allow-gateway", net.namespace, gw.labels, ingress=ingress, egress=egress)
