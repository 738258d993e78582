"""NetworkPolicies of the platform's namespaces: the evaluator, and every declared path
open (and nothing else) in the planned policies of dev (Linkerd), prod (Linkerd, entrance,
domains) and the Kuma example, plus a mesh-less build."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.components import netpol
from airflow_aks.components.airflow import mesh_paths
from airflow_aks.components.airflow.network_policies import (
    DATABASE_COMPONENTS,
    POSTGRES_PORT,
    STATSD_INGEST_PORT,
    AirflowNetwork,
    airflow_network_policies,
)
from airflow_aks.components.airflow.values import ServiceAccountNames
from airflow_aks.components.mesh.base import NetworkNeeds
from airflow_aks.components.mesh.kuma import NETWORK_NEEDS as KUMA
from airflow_aks.components.mesh.linkerd import NETWORK_NEEDS as LINKERD
from tests.conftest import by_type

Pod = netpol.Pod
NS, REL = "airflow", "airflow"
AZURE = "20.50.2.10"  # a public Azure address (Entra, Key Vault, Blob, API server)
PRIVATE_ENDPOINT = "10.42.9.4"  # privateEndpointSubnetCidr 10.42.9.0/24
POSTGRES = "10.42.8.4"  # databaseSubnetCidr 10.42.8.0/24
NODE = "10.42.0.5"  # aksSubnetCidr 10.42.0.0/22


def af(component: str, **extra: str) -> netpol.Pod:
    return Pod(NS, {"component": component, "release": REL, "tier": "airflow", **extra})


DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
COMPONENTS = ("scheduler", "api-server", "dag-processor", "triggerer", "worker", "statsd")


def manifests(plan: dict[str, Any]) -> list[netpol.Manifest]:
    return [
        {"metadata": r["inputs"]["metadata"], "spec": r["inputs"]["spec"]}
        for r in by_type(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    ]


# ------------------------------------------------------------------------ evaluator


def test_evaluator_semantics():
    deny = netpol.default_deny("a")
    web = netpol.allow(
        "web",
        "a",
        {"app": "web"},
        ingress=[netpol.peer_rule(netpol.Peer("b", (80,), {"role": "client"}), "ingress")],
    )
    out = netpol.allow(
        "out",
        "b",
        pod_selector={
            "matchExpressions": [{"key": "role", "operator": "In", "values": ["client"]}]
        },
        egress=[netpol.external_rule(netpol.External("0.0.0.0/0", (443,), ("10.0.0.0/8",)))],
    )
    pols = [deny, web, out]
    web_pod, client = Pod("a", {"app": "web"}), Pod("b", {"role": "client"})
    # the client's egress policy opens only external 443: pod traffic stays closed
    assert not netpol.admits(pols, client, web_pod, 80)
    pols = [deny, web]
    assert netpol.admits(pols, client, web_pod, 80)
    assert not netpol.admits(pols, client, web_pod, 81)
    assert not netpol.admits(pols, Pod("c", {"role": "client"}), web_pod, 80)
    assert not netpol.admits(pols, client, web_pod, 80, "UDP")
    pols = [deny, web, out]
    assert netpol.admits(pols, client, "20.1.1.1", 443)
    assert not netpol.admits(pols, client, "10.1.1.1", 443)  # except
    assert not netpol.admits(pols, web_pod, client, 80)  # a is default-deny egress
    assert netpol.admits(pols, Pod("b", {"role": "other"}), "10.1.1.1", 22)  # not selected
    with pytest.raises(ValueError, match="operator"):
        netpol.selector_matches({"matchExpressions": [{"key": "k", "operator": "Gt"}]}, {})


def test_client_egress_restricts_when_selected():
    # the client side selected by an egress policy that opens only 443: pod traffic closed
    pols = [
        netpol.allow(
            "out", "b", egress=[netpol.external_rule(netpol.External("0.0.0.0/0", (443,)))]
        )
    ]
    assert not netpol.admits(pols, Pod("b"), Pod("a"), 443)
    assert netpol.admits(pols, Pod("b"), "1.2.3.4", 443)


# ----------------------------------------------------------- pure, per mesh mode


@pytest.mark.parametrize(
    ("mode", "needs"), [("linkerd", LINKERD), ("kuma", KUMA), ("none", NetworkNeeds())]
)
def test_every_mesh_path_and_nothing_else(mode: str, needs: NetworkNeeds):
    sas = ServiceAccountNames()
    rules = mesh_paths.allow_rules(REL, NS, sas)
    net = AirflowNetwork(
        NS, REL, ("192.168.0.0/16", "172.16.0.0/16", "10.42.0.0/22"), "10.42.8.0/24", needs
    )
    pols = airflow_network_policies(net, rules)
    assert {p["metadata"]["namespace"] for p in pols} == {NS}
    for rule in rules:
        target = Pod(NS, {**rule.target.labels, "tier": "airflow"})
        for client in rule.clients:
            src = Pod(client.namespace, dict(client.labels))
            for port in (rule.target.port, *needs.inbound_proxy_ports):
                assert netpol.admits(pols, src, target, port), (mode, rule.name, client, port)
    for c in COMPONENTS:
        assert netpol.admits(pols, af(c), DNS, 53, "UDP")
        assert netpol.admits(pols, af(c), AZURE, 443)
        assert netpol.admits(pols, af(c), PRIVATE_ENDPOINT, 443)
        assert not netpol.admits(pols, af(c), NODE, 443)
        assert not netpol.admits(pols, af(c), AZURE, 80)
        assert netpol.admits(pols, af(c), af("statsd"), STATSD_INGEST_PORT, "UDP")
        if needs.control_plane_namespace:
            cp = Pod(needs.control_plane_namespace, {"app": "cp"})
            assert all(netpol.admits(pols, af(c), cp, p) for p in needs.control_plane_ports)
        db = c in DATABASE_COMPONENTS
        assert netpol.admits(pols, af(c), POSTGRES, POSTGRES_PORT) is db, c
    # undeclared: tasks to the scheduler, anything from another namespace, outside in
    assert not netpol.admits(pols, af("worker"), af("scheduler"), 8080)
    assert not netpol.admits(pols, af("worker"), af("triggerer"), mesh_paths.TRIGGERER_LOGS_PORT)
    assert not netpol.admits(pols, Pod("default", {}), af("api-server"), mesh_paths.API_SERVER_PORT)
    assert not netpol.admits(pols, AZURE, af("api-server"), mesh_paths.API_SERVER_PORT)
    assert not netpol.admits(pols, af("worker"), POSTGRES, POSTGRES_PORT)


def test_rule_outside_the_namespace_and_missing_ranges_are_refused():
    rules = mesh_paths.allow_rules(REL, "other", ServiceAccountNames())
    with pytest.raises(ValueError, match="target namespace other"):
        airflow_network_policies(AirflowNetwork(NS, REL, ("10.0.0.0/8",)), rules)
    with pytest.raises(ValueError, match="cluster_cidrs"):
        airflow_network_policies(AirflowNetwork(NS, REL, ()), [])


# ------------------------------------------------------------------------ the plans


def test_prod_plan_opens_the_declared_paths(prod_plan: dict[str, Any]):
    pols = manifests(prod_plan)
    gateway = Pod(NS, {"gateway.networking.k8s.io/gateway-name": "airflow"})
    api = af("api-server")
    for port in (443, 80):
        assert netpol.admits(pols, AZURE, gateway, port)
    assert not netpol.admits(pols, AZURE, gateway, 8080)
    assert netpol.admits(pols, gateway, api, mesh_paths.API_SERVER_PORT)
    assert netpol.admits(pols, gateway, Pod("aks-istio-system", {"app": "istiod"}), 15012)
    assert not netpol.admits(pols, af("worker"), Pod("aks-istio-system", {"app": "istiod"}), 15012)
    finance = Pod("finance", {"airflow-aks.io/domain": "finance"})
    marketing = Pod("marketing", {"app": "segments"})
    # domain tasks: execution API, statsd, private endpoints; never the scheduler
    assert netpol.admits(pols, finance, api, mesh_paths.API_SERVER_PORT)
    assert netpol.admits(pols, finance, api, 4143)
    assert netpol.admits(pols, finance, af("statsd"), STATSD_INGEST_PORT, "UDP")
    assert netpol.admits(pols, finance, PRIVATE_ENDPOINT, 443)
    assert netpol.admits(pols, api, finance, mesh_paths.WORKER_LOGS_PORT)
    assert not netpol.admits(pols, finance, af("scheduler"), 8080)
    assert not netpol.admits(pols, finance, POSTGRES, POSTGRES_PORT)
    # the declared mesh call finance -> marketing, and not the reverse
    assert netpol.admits(pols, finance, marketing, 8080)
    assert not netpol.admits(pols, marketing, finance, 8080)
    assert netpol.admits(pols, af("scheduler"), POSTGRES, POSTGRES_PORT)
    assert not netpol.admits(pols, af("worker"), POSTGRES, POSTGRES_PORT)


@pytest.mark.parametrize("plan_name", ["dev_plan", "kuma_plan"])
def test_dev_plans_deny_by_default(plan_name: str, request: pytest.FixtureRequest):
    pols = manifests(request.getfixturevalue(plan_name))
    names = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pols}
    assert (NS, "default-deny") in names
    assert netpol.admits(pols, af("worker"), af("api-server"), mesh_paths.API_SERVER_PORT)
    assert not netpol.admits(pols, Pod("default"), af("api-server"), mesh_paths.API_SERVER_PORT)
    assert netpol.admits(pols, af("scheduler"), AZURE, 443)


def test_mesh_metrics_scraper_is_admitted_only_when_declared():
    from dataclasses import replace

    from airflow_aks.components import domains as D

    viz = replace(LINKERD, scrape_namespace="linkerd-viz", scrape_ports=(4191,))
    prom = Pod("linkerd-viz", {"component": "prometheus"})
    rules = mesh_paths.allow_rules(REL, NS, ServiceAccountNames())
    for needs, open_ in ((viz, True), (LINKERD, False)):
        pols = airflow_network_policies(AirflowNetwork(NS, REL, ("10.0.0.0/8",), mesh=needs), rules)
        assert netpol.admits(pols, prom, af("worker"), 4191) is open_
        assert netpol.admits(pols, prom, af("worker"), 4143) is open_  # meshed Prometheus
        assert not netpol.admits(pols, prom, af("worker"), 8793)
    domain = D.network_policies(
        {  # type: ignore[typeddict-item]
            "namespace": "finance",
            "cluster_cidrs": ["10.0.0.0/8"],
            "airflow": {
                "namespace": NS,
                "api_server_port": 8080,
                "api_server_labels": {"component": "api-server"},
                "worker_logs_port": 8793,
            },
        },
        "linkerd",
        (8086,),
        (4143,),
        "linkerd-viz",
        (4191,),
    )
    assert netpol.admits(domain, prom, Pod("finance", {"x": "y"}), 4191)
    assert netpol.admits(domain, prom, Pod("finance", {"x": "y"}), 4143)
    assert not netpol.admits(domain, prom, Pod("finance", {"x": "y"}), 8080)
