"""The mesh in the real program's offline plan: dev (Linkerd), prod (HA), a Kuma stack
file and ``mesh.provider: none`` — the issue's "done when"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, by_type, plan_export

CHART = "kubernetes:helm.sh/v4:Chart"


def _variant(tmp_dir: Path, name: str, mesh: dict[str, Any]) -> str:
    data = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    data["config"]["airflow-aks:mesh"] = mesh
    data["config"]["airflow-aks:profile"] = "dev"
    path = tmp_dir / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    d = tmp_path_factory.mktemp("mesh-stacks")
    kuma = {"provider": "kuma", "otelEndpoint": "otel-collector.observability:4317"}
    return {
        "kuma": plan_export("kuma", _variant(d, "kuma", kuma)),
        "none": plan_export("none", _variant(d, "none", {"provider": "none"})),
    }


def _named(export: dict[str, Any], name: str) -> dict[str, Any]:
    (r,) = [r for r in export["resources"] if r["name"] == name]
    return r


def _deps(export: dict[str, Any], name: str) -> set[str]:
    names = {r["urn"]: r["name"] for r in export["resources"]}
    return {names[u] for u in _named(export, name)["dependencies"] if u in names}


def test_dev_plan_shows_linkerd_rotation_chain(dev_plan: dict[str, Any]) -> None:
    assert dev_plan["outputs"]["meshProvider"] == "linkerd"
    certs = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
        for r in by_type(dev_plan, "kubernetes:cert-manager.io/v1:Certificate")
    }
    assert certs["linkerd-trust-anchor"]["privateKey"]["rotationPolicy"] == "Always"
    issuer = certs["linkerd-identity-issuer"]
    assert (issuer["duration"], issuer["renewBefore"]) == ("48h", "25h")
    (bundle,) = by_type(dev_plan, "kubernetes:trust.cert-manager.io/v1alpha1:Bundle")
    assert bundle["inputs"]["spec"]["target"]["configMap"]["key"] == "ca-bundle.crt"
    assert {"mesh-crds", "mesh-identity-issuer", "mesh-trust-roots"} <= _deps(
        dev_plan, "mesh-control-plane"
    )
    cp = _named(dev_plan, "mesh-control-plane")["inputs"]["values"]
    assert "controllerReplicas" not in cp  # dev: no HA


def test_mesh_waits_for_the_cluster_and_its_pools(dev_plan: dict[str, Any]) -> None:
    pools = {r["name"] for r in by_type(dev_plan, "azure-native:containerservice:AgentPool")}
    assert pools and pools <= _deps(dev_plan, "mesh")


def test_prod_plan_is_ha(prod_plan: dict[str, Any]) -> None:
    cp = _named(prod_plan, "mesh-control-plane")["inputs"]["values"]
    assert cp["controllerReplicas"] == 3 and cp["enablePodDisruptionBudget"] is True
    assert _named(prod_plan, "mesh-cert-manager")["inputs"]["values"]["replicaCount"] == 2


def test_kuma_stack_file_plans_strict_mtls(variants: dict[str, dict[str, Any]]) -> None:
    kuma = variants["kuma"]
    assert kuma["outputs"]["meshProvider"] == "kuma"
    mesh_charts = [
        r["inputs"]["chart"] for r in by_type(kuma, CHART) if r["name"].startswith("mesh")
    ]
    assert sorted(mesh_charts) == ["cert-manager", "kuma"]  # cert-manager: webhook cert
    (mesh,) = by_type(kuma, "kubernetes:kuma.io/v1alpha1:Mesh")
    backend = mesh["inputs"]["spec"]["mtls"]["backends"][0]
    assert (backend["type"], backend["mode"]) == ("builtin", "STRICT")
    kinds = {r["type"].rsplit(":", 1)[-1] for r in kuma["resources"]}
    assert {"MeshTrafficPermission", "MeshTrace"} <= kinds
    assert not {"Certificate", "Bundle"} & kinds  # the kuma chart makes its Certificate


def test_none_plans_no_mesh_object(variants: dict[str, dict[str, Any]]) -> None:
    none = variants["none"]
    assert none["outputs"]["meshProvider"] == "none"
    mesh_types = ("linkerd.io", "kuma.io", "cert-manager.io", ":mesh:")
    assert not [r["urn"] for r in none["resources"] if any(t in r["type"] for t in mesh_types)]
    assert not [r["name"] for r in none["resources"] if r["name"].startswith("mesh")]
    for ns in by_type(none, "kubernetes:core/v1:Namespace"):
        meta = ns["inputs"]["metadata"]
        keys = {*(meta.get("labels") or {}), *(meta.get("annotations") or {})}
        assert not any("linkerd" in k or "kuma" in k for k in keys), ns["urn"]


def test_airflow_allow_list_in_plans(dev_plan: dict[str, Any], variants: dict[str, Any]) -> None:
    """Default deny plus exactly Airflow's three paths, before the chart, in both meshes."""
    servers = by_type(dev_plan, "kubernetes:policy.linkerd.io/v1beta3:Server")
    airflow_servers = {
        s["inputs"]["metadata"]["name"]
        for s in servers
        if s["inputs"]["metadata"]["namespace"] == "airflow"
    }
    assert airflow_servers == {
        "airflow-api-server",
        "airflow-worker-logs",
        "airflow-triggerer-logs",
    }
    (chart,) = [c for c in by_type(dev_plan, CHART) if c["inputs"].get("chart") == "airflow"]
    assert {s["urn"] for s in servers if s["inputs"]["metadata"]["namespace"] == "airflow"} <= set(
        chart["dependencies"]
    )
    mtps = by_type(variants["kuma"], "kubernetes:kuma.io/v1alpha1:MeshTrafficPermission")
    names = {
        m["inputs"]["metadata"]["name"]
        for m in mtps
        if m["inputs"]["metadata"]["namespace"] == "airflow"
    }
    assert names == airflow_servers
    assert not by_type(variants["none"], "kubernetes:policy.linkerd.io/v1beta3:Server")


def test_kuma_traces_have_an_egress_path(variants: dict[str, dict[str, Any]]) -> None:
    """The data planes send spans to the collector themselves (MeshTrace): under the
    namespaces' default deny, the Airflow namespace and every domain namespace get egress
    to the collector's namespace and port."""
    kuma = variants["kuma"]
    nps = [r for r in kuma["resources"] if r["type"].endswith("NetworkPolicy")]
    allowed: set[str] = set()
    for r in nps:
        spec = r["inputs"]["spec"]
        for rule in spec.get("egress") or []:
            for peer in rule.get("to") or []:
                sel = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                ports = {p.get("port") for p in rule.get("ports") or []}
                if sel.get("kubernetes.io/metadata.name") == "observability" and 4317 in ports:
                    allowed.add(r["inputs"]["metadata"]["namespace"])
    namespaces = {
        r["inputs"]["metadata"]["name"]
        for r in kuma["resources"]
        if r["type"] == "kubernetes:core/v1:Namespace"
        and (r["inputs"]["metadata"].get("labels") or {}).get("kuma.io/sidecar-injection")
        == "enabled"
    }
    assert namespaces and namespaces <= allowed, (namespaces, allowed)
    none = variants["none"]
    assert not any(
        "telemetry" in r["name"] for r in none["resources"] if r["type"].endswith("NetworkPolicy")
    )
