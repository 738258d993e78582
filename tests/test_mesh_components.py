"""Mesh components under Pulumi mocks: resources, settings by name, parents, providers
and the dependency edges that order creation (no sleeps)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings


@dataclass
class Reg:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    custom: bool
    dependencies: list[str]
    inputs: dict[str, Any] = field(default_factory=dict)


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, m: pulumi.runtime.Mocks) -> None:
        super().__init__(m)
        self.regs: dict[str, Reg] = {}

    def RegisterResource(self, request: Any) -> Any:
        resp = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.regs[resp.urn] = Reg(
                urn=resp.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                custom=bool(request.custom),
                dependencies=list(request.dependencies),
                inputs=rpc.deserialize_properties(request.object),
            )
        return resp


class Plan:
    """What a program registered, with small lookup helpers."""

    def __init__(self, regs: dict[str, Reg]) -> None:
        self.regs = regs

    def by_name(self, name: str) -> Reg:
        hits = [r for r in self.regs.values() if r.name == name]
        assert len(hits) == 1, f"{name}: {len(hits)} registrations ({sorted(self.names())})"
        return hits[0]

    def of_type(self, typ: str) -> list[Reg]:
        return [r for r in self.regs.values() if r.type == typ]

    def names(self) -> set[str]:
        return {r.name for r in self.regs.values()}

    def depends(self, name: str, on: str) -> bool:
        return self.by_name(on).urn in self.by_name(name).dependencies


def run(program: Callable[[], object]) -> Plan:
    # Own event loop and a fresh root Stack: earlier tests in the process (the offline plan
    # engine) may have closed or unset theirs.
    asyncio.set_event_loop(asyncio.new_event_loop())
    settings.ROOT.set(None)
    m = _Mocks()
    monitor = RecordingMonitor(m)
    pulumi.runtime.set_mocks(m, project="airflow-aks", stack="test", preview=False, monitor=monitor)
    pulumi.runtime.test(program)()
    return Plan(monitor.regs)


# ------------------------------------------------------------------------ tests

import pulumi_kubernetes as k8s  # noqa: E402
import pytest  # noqa: E402

from airflow_aks.components.mesh import (  # noqa: E402
    Client,
    Mesh,
    MeshArgs,
    NetworkNeeds,
    NoMesh,
    WorkloadSelector,
    build_mesh,
    meshed_namespace,
)
from airflow_aks.components.mesh.base import SidecarToken  # noqa: E402

ARGS: MeshArgs = {
    "linkerd_version": "2026.8.3",
    "cert_manager_version": "v1.21.1",
    "trust_manager_version": "v0.24.0",
    "kuma_version": "2.14.3",
}
CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"


def _program(provider: str, extra: MeshArgs | None = None, with_app: bool = True):
    """Build the mesh behind a k8s provider, plus what the Airflow component would do:
    a meshed namespace and one allow rule."""
    holder: dict[str, Mesh] = {}

    def program() -> None:
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        mesh = build_mesh(
            provider,  # type: ignore[arg-type]
            "mesh",
            {**ARGS, **(extra or {})},  # type: ignore[typeddict-item]
            pulumi.ResourceOptions(provider=k8s_provider),
        )
        holder["mesh"] = mesh
        if with_app:
            app = pulumi.ResourceOptions(provider=k8s_provider)
            meshed_namespace(mesh, "airflow-ns", "airflow", app)
            mesh.allow(
                "api-server",
                "airflow",
                WorkloadSelector({"component": "api-server"}, 8080, "api-server"),
                [Client("airflow", "airflow-worker", {"component": "worker"})],
                app,
            )

    return program, holder


def test_none_registers_no_mesh_object() -> None:
    program, holder = _program("none")
    plan = run(program)
    assert isinstance(holder["mesh"], NoMesh)
    assert holder["mesh"].ready == []
    # Only the provider and the plain namespace: no label, no annotation, no policy.
    assert sorted(r.type for r in plan.regs.values()) == sorted(
        ["pulumi:providers:kubernetes", NAMESPACE]
    )
    ns = plan.by_name("airflow-ns").inputs["metadata"]
    assert ns.get("labels", {}) == {} and not ns.get("annotations")
    assert plan.by_name("airflow-ns").dependencies == []


def test_linkerd_resources_settings_and_order() -> None:
    program, holder = _program("linkerd")
    plan = run(program)
    comp = plan.by_name("mesh")
    assert comp.type == "airflow-aks:index:Linkerd"
    assert holder["mesh"].provider == "linkerd"

    charts = {r.name: r.inputs for r in plan.of_type(CHART)}
    assert set(charts) == {
        "mesh-cert-manager",
        "mesh-trust-manager",
        "mesh-crds",
        "mesh-control-plane",
    }  # no viz, no cni by default
    expect = {
        "mesh-cert-manager": ("cert-manager", "v1.21.1", "https://charts.jetstack.io"),
        "mesh-trust-manager": ("trust-manager", "v0.24.0", "https://charts.jetstack.io"),
        "mesh-crds": ("linkerd-crds", "2026.8.3", "https://helm.linkerd.io/edge"),
        "mesh-control-plane": (
            "linkerd-control-plane",
            "2026.8.3",
            "https://helm.linkerd.io/edge",
        ),
    }
    for name, (chart, version, repo) in expect.items():
        got = charts[name]
        assert (got["chart"], got["version"], got["repositoryOpts"]["repo"]) == (
            chart,
            version,
            repo,
        ), name
    cp = charts["mesh-control-plane"]
    assert cp["namespace"] == "linkerd"
    assert cp["values"]["identity"]["externalCA"] is True
    assert cp["values"]["proxy"]["nativeSidecar"] is True
    assert "controllerReplicas" not in cp["values"]  # dev: not HA

    l5d_ns = plan.by_name("mesh-ns").inputs["metadata"]
    assert l5d_ns["name"] == "linkerd"
    assert l5d_ns["labels"]["linkerd.io/is-control-plane"] == "true"

    # Every child is parented to the component and uses the given k8s provider.
    k8s_urn = plan.by_name("k8s").urn
    for r in plan.regs.values():
        if r.name.startswith("mesh-"):
            assert r.parent == comp.urn, r.urn
            assert r.provider.startswith(k8s_urn), r.urn

    # Order: real dependencies, no sleeps.
    edges = [
        ("mesh-cert-manager", "mesh-cert-manager-ns"),
        ("mesh-trust-manager", "mesh-cert-manager"),  # webhook cert from cert-manager
        ("mesh-crds", "mesh-ns"),  # labelled namespace first
        ("mesh-selfsigned-issuer", "mesh-cert-manager"),  # cert-manager before its CRs
        ("mesh-trust-anchor", "mesh-selfsigned-issuer"),
        ("mesh-trust-anchor", "mesh-cert-manager"),
        ("mesh-identity-cluster-issuer", "mesh-trust-anchor"),
        ("mesh-identity-issuer", "mesh-identity-cluster-issuer"),
        ("mesh-identity-issuer", "mesh-ns"),
        ("mesh-trust-roots", "mesh-trust-manager"),
        ("mesh-trust-roots", "mesh-trust-anchor"),
        ("mesh-trust-roots", "mesh-ns"),
        ("mesh-control-plane", "mesh-crds"),  # CRDs before the control plane
        ("mesh-control-plane", "mesh-identity-issuer"),
        ("mesh-control-plane", "mesh-trust-roots"),
        # webhook certificates: their own CA, issued before the pods that mount them
        ("mesh-webhook-selfsigned-issuer", "mesh-cert-manager"),
        ("mesh-webhook-ca", "mesh-webhook-selfsigned-issuer"),
        ("mesh-webhook-issuer", "mesh-webhook-ca"),
        ("mesh-webhook-linkerd-proxy-injector", "mesh-webhook-issuer"),
        ("mesh-control-plane", "mesh-webhook-linkerd-proxy-injector"),
        ("mesh-control-plane", "mesh-webhook-linkerd-sp-validator"),
        ("mesh-control-plane", "mesh-webhook-linkerd-policy-validator"),
        ("airflow-ns", "mesh-control-plane"),  # injection only once the injector exists
        ("airflow-api-server-server", "mesh-control-plane"),  # CRs after CRDs
    ]
    for a, b in edges:
        assert plan.depends(a, b), f"{a} must depend on {b}"

    kinds = sorted(
        (r.type.split(":")[1], r.inputs["kind"])
        for r in plan.regs.values()
        if r.custom and "kind" in r.inputs and not r.type.startswith("kubernetes:core/")
    )
    assert kinds == sorted(
        [
            ("cert-manager.io/v1", "Issuer"),
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "ClusterIssuer"),
            ("cert-manager.io/v1", "Certificate"),
            # webhooks: self-signed Issuer, CA Certificate, CA Issuer, three serving certs
            ("cert-manager.io/v1", "Issuer"),
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "Issuer"),
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "Certificate"),
            ("trust.cert-manager.io/v1alpha1", "Bundle"),
            ("policy.linkerd.io/v1beta3", "Server"),
            ("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication"),
            ("policy.linkerd.io/v1alpha1", "AuthorizationPolicy"),
        ]
    )
    cert = plan.by_name("mesh-identity-issuer").inputs["spec"]
    assert (cert["duration"], cert["renewBefore"]) == ("48h", "25h")
    injector = plan.by_name("mesh-webhook-linkerd-proxy-injector").inputs
    assert injector["spec"]["secretName"] == "linkerd-proxy-injector-k8s-tls"
    assert injector["spec"]["dnsNames"] == ["linkerd-proxy-injector.linkerd.svc"]
    assert injector["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    assert cp["values"]["proxyInjector"] == {
        "externalSecret": True,
        "injectCaFrom": "linkerd/linkerd-proxy-injector",
    }

    app_ns = plan.by_name("airflow-ns").inputs["metadata"]
    assert app_ns["annotations"]["config.linkerd.io/default-inbound-policy"] == "deny"
    assert app_ns["annotations"]["linkerd.io/inject"] == "enabled"


def test_linkerd_prod_ha_viz_and_cni() -> None:
    program, _ = _program("linkerd", {"ha": True, "viz": True, "cni": True}, with_app=False)
    plan = run(program)
    charts = {r.name: r for r in plan.of_type(CHART)}
    assert {"mesh-viz", "mesh-cni"} <= set(charts)
    cp = charts["mesh-control-plane"].inputs["values"]
    assert cp["controllerReplicas"] == 3 and cp["enablePodDisruptionBudget"] is True
    assert cp["cniEnabled"] is True
    assert charts["mesh-cni"].inputs["chart"] == "linkerd2-cni"
    assert charts["mesh-viz"].inputs["chart"] == "linkerd-viz"
    assert plan.depends("mesh-control-plane", "mesh-cni")
    assert plan.depends("mesh-cni", "mesh-cni-ns")
    cni_ns = plan.by_name("mesh-cni-ns").inputs["metadata"]
    assert cni_ns["name"] == "linkerd-cni"
    assert cni_ns["labels"]["config.linkerd.io/admission-webhooks"] == "disabled"
    assert charts["mesh-cni"].inputs["values"]["tolerations"] == [{"operator": "Exists"}]
    assert plan.depends("mesh-viz", "mesh-control-plane")
    assert plan.depends("mesh-viz", "mesh-viz-ns")
    assert charts["mesh-cert-manager"].inputs["values"]["replicaCount"] == 2


def test_kuma_resources_settings_and_order() -> None:
    program, holder = _program("kuma", {"ha": True})
    plan = run(program)
    comp = plan.by_name("mesh")
    assert comp.type == "airflow-aks:index:Kuma"
    assert holder["mesh"].provider == "kuma"
    charts = {r.name: r for r in plan.of_type(CHART)}
    assert set(charts) == {"mesh-cert-manager", "mesh-control-plane"}
    inputs = charts["mesh-control-plane"].inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        "kuma",
        "2.14.3",
        "https://kumahq.github.io/charts",
    )
    assert inputs["namespace"] == "kuma-system"
    assert inputs["values"]["noHelmHooks"] is False  # Chart v4 drops hooks; no lookup-fail
    assert inputs["values"]["controlPlane"]["tls"]["general"]["certManager"]["enabled"] is True
    ns = plan.by_name("mesh-ns").inputs["metadata"]
    assert ns["labels"] == {"kuma.io/sidecar-injection": "false"}
    # cert-manager (its CRDs) before the namespace, the namespace before the chart renders
    assert plan.depends("mesh-ns", "mesh-cert-manager")
    assert plan.depends("mesh-control-plane", "mesh-ns")
    assert inputs["values"]["experimental"]["sidecarContainers"] is True
    assert inputs["values"]["controlPlane"]["replicas"] == 3
    assert inputs["values"]["controlPlane"]["podDisruptionBudget"]["enabled"] is True

    mesh = plan.by_name("mesh-mesh").inputs
    assert mesh["kind"] == "Mesh"
    backend = mesh["spec"]["mtls"]["backends"][0]
    assert (backend["type"], backend["mode"]) == ("builtin", "STRICT")
    assert backend["dpCert"]["rotation"]["expiration"] == "24h"
    deny = plan.by_name("mesh-deny-all").inputs
    assert deny["spec"]["from"][0]["default"]["action"] == "Deny"
    assert "mesh-trace" not in plan.names()  # no otelEndpoint

    for a, b in [
        ("mesh-control-plane", "mesh-ns"),
        ("mesh-mesh", "mesh-control-plane"),  # CRDs (chart) before CRs
        ("mesh-deny-all", "mesh-mesh"),
        ("airflow-ns", "mesh-control-plane"),
        ("airflow-ns", "mesh-mesh"),
        ("airflow-ns", "mesh-deny-all"),  # deny in place before any app pod exists
        ("airflow-api-server-meshtrafficpermission", "mesh-mesh"),
    ]:
        assert plan.depends(a, b), f"{a} must depend on {b}"
    for r in plan.regs.values():
        if r.name.startswith("mesh-"):
            assert r.parent == comp.urn, r.urn

    app_ns = plan.by_name("airflow-ns").inputs["metadata"]
    assert app_ns["labels"]["kuma.io/sidecar-injection"] == "enabled"
    mtp = plan.by_name("airflow-api-server-meshtrafficpermission").inputs
    assert mtp["metadata"]["namespace"] == "airflow"
    assert mtp["spec"]["from"] == [
        {
            "targetRef": {
                "kind": "MeshSubset",
                "tags": {"k8s.kuma.io/namespace": "airflow", "component": "worker"},
            },
            "default": {"action": "Allow"},
        }
    ]


def test_kuma_trace_when_endpoint_given() -> None:
    program, _ = _program("kuma", {"otel_endpoint": "otel.observability:4317"}, with_app=False)
    plan = run(program)
    trace = plan.by_name("mesh-trace")
    assert trace.inputs["kind"] == "MeshTrace"
    endpoint = trace.inputs["spec"]["default"]["backends"][0]["openTelemetry"]["endpoint"]
    assert endpoint == "otel.observability:4317"
    assert plan.depends("mesh-trace", "mesh-mesh")


@pytest.mark.parametrize("provider", ["linkerd", "kuma"])
def test_missing_version_is_an_error(provider: str) -> None:
    with pytest.raises(ValueError, match="required"):
        build_mesh(provider, "m", {})  # type: ignore[arg-type]


def test_unknown_provider_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown mesh provider"):
        build_mesh("istio", "m", ARGS)  # type: ignore[arg-type]


def _interface_members() -> dict[str, inspect.Signature | None]:
    """The :class:`Mesh` protocol's members: methods with their signatures, properties
    with ``None``."""
    out: dict[str, inspect.Signature | None] = {}
    for name, member in vars(Mesh).items():
        if isinstance(member, property):
            out[name] = None
        elif inspect.isfunction(member) and not name.startswith("_"):
            out[name] = inspect.signature(member)
    return out


def _is_str_dict(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


@pytest.mark.parametrize("provider", ["linkerd", "kuma", "none"])
def test_every_provider_satisfies_the_interface(provider: str) -> None:
    """Not just attribute presence (a runtime_checkable Protocol checks nothing more):
    every member has the protocol's signature and returns what the protocol promises."""
    members = _interface_members()
    assert set(members) == {
        "provider",
        "ready",
        "namespace_labels",
        "namespace_annotations",
        "pod_labels",
        "pod_annotations",
        "allow",
        "network_needs",
        "sidecar_token",
    }
    holder_out: dict[str, object] = {}

    def program() -> None:
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        mesh = build_mesh(
            provider,  # type: ignore[arg-type]
            "mesh",
            ARGS,
            pulumi.ResourceOptions(provider=k8s_provider),
        )
        for name, sig in members.items():
            if sig is not None:
                impl = inspect.signature(getattr(type(mesh), name))
                assert list(impl.parameters) == list(sig.parameters), (provider, name)
        holder_out["provider"] = mesh.provider
        holder_out["ready"] = mesh.ready
        holder_out["metadata"] = [
            mesh.namespace_labels(),
            mesh.namespace_annotations(),
            *(mesh.pod_labels(k) for k in ("service", "job")),
            *(mesh.pod_annotations(k) for k in ("service", "job")),
        ]
        holder_out["needs"] = mesh.network_needs()
        holder_out["token"] = mesh.sidecar_token()
        holder_out["allowed"] = mesh.allow(
            "api-server",
            "airflow",
            WorkloadSelector({"component": "api-server"}, 8080, "api-server"),
            [Client("airflow", "airflow-worker", {"component": "worker"})],
            pulumi.ResourceOptions(provider=k8s_provider),
        )

    run(program)
    assert holder_out["provider"] == provider
    ready, allowed = holder_out["ready"], holder_out["allowed"]
    assert isinstance(ready, list) and all(isinstance(r, pulumi.Resource) for r in ready)
    assert isinstance(allowed, list) and all(isinstance(r, pulumi.Resource) for r in allowed)
    assert all(_is_str_dict(m) for m in holder_out["metadata"])  # type: ignore[attr-defined]
    meshed = provider != "none"
    needs = holder_out["needs"]
    assert isinstance(needs, NetworkNeeds)
    # a mesh's proxies reach its control plane: a default-deny NetworkPolicy must know where
    assert bool(needs.control_plane_namespace and needs.control_plane_ports) is meshed
    # a real mesh has a control plane to wait for, injects namespaces and writes policy
    assert bool(ready) is meshed and bool(allowed) is meshed
    assert bool(holder_out["metadata"][0] or holder_out["metadata"][1]) is meshed  # type: ignore[index]
    # only Kuma's sidecar needs a token volume from pods that mount none (kuma v2.14.3
    # injector.go; Linkerd's injector adds its own, edge-26.8.3 _volumes.tpl)
    token = holder_out["token"]
    assert (token is not None) is (provider == "kuma")
    assert token is None or isinstance(token, SidecarToken)
