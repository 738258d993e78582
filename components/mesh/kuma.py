"""Kuma with a builtin CA in STRICT mTLS: ``airflow-aks:mesh:Kuma``.

The control plane chart is installed without Helm hooks and without a default Mesh; we
create the ``Mesh`` ourselves (builtin CA, STRICT, 24h data-plane certificates, no initial
allow-all policies), a mesh-wide deny ``MeshTrafficPermission``, and one allow policy per
declared path. Native sidecars (``experimental.sidecarContainers``) let Jobs finish.
"""

from typing import Any, ClassVar, Required, TypedDict

import pulumi

from airflow_aks.components.mesh.base import (
    AllowRule,
    ChartSource,
    Client,
    Manifest,
    MeshBase,
    MeshDecisions,
    MeshProvider,
    PodKind,
    WorkloadSelector,
    child_options,
    custom_resource,
    helm_chart,
    plain_namespace,
)
from airflow_aks.components.tokens import type_token

KUMA_REPO = "https://kumahq.github.io/charts"
SYSTEM_NS = "kuma-system"
KUMA_CHART = ChartSource("kuma", KUMA_REPO, SYSTEM_NS)
MESH_NAME = "default"
CA_BACKEND = "ca-1"
KUMA_API = "kuma.io/v1alpha1"


class KumaArgs(TypedDict, total=False):
    """Arguments of :class:`Kuma` (built by the assembler from ``MeshConfig``)."""

    version: Required[str]
    """``kuma`` chart version (= Kuma version), e.g. ``2.14.5``."""
    ha: bool
    """High availability (prod): 3 control-plane replicas, PDB, anti-affinity, resources."""
    otel_endpoint: str | None
    """``host:port`` of an OpenTelemetry collector (OTLP/gRPC); adds a mesh-wide MeshTrace."""
    dp_cert_expiration: str
    """Data-plane certificate lifetime (rotated before expiry), default ``24h``."""


# ---------------------------------------------------------------- pure functions


def namespace_labels() -> dict[str, str]:
    """Meshed app namespace: inject sidecars, join our mesh."""
    return {"kuma.io/sidecar-injection": "enabled", "kuma.io/mesh": MESH_NAME}


def namespace_annotations() -> dict[str, str]:
    return {}


def pod_labels(kind: PodKind) -> dict[str, str]:
    """The namespace's labels, on every pod template too."""
    return namespace_labels()


def pod_annotations(kind: PodKind) -> dict[str, str]:
    """Run-to-completion pods: the app starts only once its data plane is ready (the
    migration job's first connection goes through the proxy); exit is handled by the
    native sidecar, which Kubernetes stops when the main container ends."""
    if kind == "job":
        return {"kuma.io/wait-for-dataplane-ready": "true"}
    return {}


def system_namespace_labels() -> dict[str, str]:
    """What the chart's (disabled) hook would patch onto ``kuma-system``."""
    return {"kuma.io/system-namespace": "true"}


def chart_values(ha: bool) -> dict[str, Any]:
    cp: dict[str, Any] = {
        "defaults": {"skipMeshCreation": True},  # we create the Mesh with STRICT mTLS
    }
    if ha:
        cp |= {
            "replicas": 3,
            "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
            "resources": {
                "requests": {"cpu": "500m", "memory": "512Mi"},
                "limits": {"memory": "1Gi"},
            },
            "injectorFailurePolicy": "Fail",
        }
    return {
        "controlPlane": cp,
        "experimental": {"sidecarContainers": True},
        # Pulumi renders the chart without a Helm lifecycle: no hooks, label the
        # namespace and install CRDs ourselves (the chart's crds/ directory).
        "noHelmHooks": True,
        "patchSystemNamespace": False,
        "installCrdsOnUpgrade": {"enabled": False},
    }


def _policy(kind: str, name: str, spec: dict[str, Any], namespace: str = SYSTEM_NS) -> Manifest:
    """A Kuma policy object of our Mesh (in ``kuma-system``: mesh-wide)."""
    return {
        "apiVersion": KUMA_API,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {"kuma.io/mesh": MESH_NAME}},
        "spec": spec,
    }


def mesh_manifest(dp_cert_expiration: str = "24h") -> Manifest:
    return {
        "apiVersion": KUMA_API,
        "kind": "Mesh",
        "metadata": {"name": MESH_NAME},
        "spec": {
            # No default allow-all / retry / timeout policies: default deny is ours.
            "skipCreatingInitialPolicies": ["*"],
            "mtls": {
                "enabledBackend": CA_BACKEND,
                "backends": [
                    {
                        "name": CA_BACKEND,
                        "type": "builtin",
                        "mode": "STRICT",
                        "dpCert": {"rotation": {"expiration": dp_cert_expiration}},
                        "conf": {"caCert": {"RSAbits": 2048, "expiration": "10y"}},
                    }
                ],
            },
        },
    }


def deny_all_manifest() -> Manifest:
    """Explicit mesh-wide default deny (STRICT mTLS without permissions denies too; the
    object makes the intent visible and survives someone adding an allow-all)."""
    return _policy(
        "MeshTrafficPermission",
        "deny-all",
        {
            "targetRef": {"kind": "Mesh"},
            "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}],
        },
    )


def client_tags(client: Client) -> dict[str, str]:
    return {"k8s.kuma.io/namespace": client.namespace, **dict(client.labels)}


def allow_manifests(rule: AllowRule) -> list[Manifest]:
    """One ``MeshTrafficPermission`` in the target namespace: the selected data planes
    accept the listed clients (matched by namespace + pod-label tags), nobody else."""
    t: WorkloadSelector = rule.target
    spec = {
        "targetRef": {"kind": "Dataplane", "labels": dict(t.labels)},
        "from": [
            {
                "targetRef": {"kind": "MeshSubset", "tags": client_tags(c)},
                "default": {"action": "Allow"},
            }
            for c in rule.clients
        ],
    }
    return [_policy("MeshTrafficPermission", rule.name, spec, rule.namespace)]


def trace_manifest(endpoint: str) -> Manifest:
    return _policy(
        "MeshTrace",
        "otel",
        {
            "targetRef": {"kind": "Mesh"},
            "default": {
                "backends": [{"type": "OpenTelemetry", "openTelemetry": {"endpoint": endpoint}}],
            },
        },
    )


# ---------------------------------------------------------------------- component


class Kuma(MeshBase, pulumi.ComponentResource):
    """Kuma control plane, a STRICT-mTLS Mesh, mesh-wide deny, optional MeshTrace."""

    _provider_name: ClassVar[MeshProvider] = "kuma"
    _decisions = MeshDecisions(
        namespace_labels, namespace_annotations, pod_labels, pod_annotations, allow_manifests
    )

    mesh_name: pulumi.Output[str]
    """Name of the Mesh pods join (``default``)."""
    system_namespace: pulumi.Output[str]
    """Namespace of the control plane (``kuma-system``)."""

    def __init__(
        self, name: str, args: KumaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token("mesh", "Kuma"), name, {}, opts)
        child = child_options(self)

        ns = plain_namespace(f"{name}-ns", SYSTEM_NS, child(), labels=system_namespace_labels())
        chart = helm_chart(
            f"{name}-control-plane",
            KUMA_CHART,
            args["version"],
            chart_values(args.get("ha", False)),
            child(ns),
        )
        mesh = custom_resource(
            f"{name}-mesh", mesh_manifest(args.get("dp_cert_expiration", "24h")), child(chart)
        )
        deny = custom_resource(f"{name}-deny-all", deny_all_manifest(), child(chart, mesh))
        self._ready = (chart, mesh, deny)
        endpoint = args.get("otel_endpoint")
        if endpoint:
            custom_resource(f"{name}-trace", trace_manifest(endpoint), child(chart, mesh))

        self.mesh_name = pulumi.Output.from_input(MESH_NAME)
        self.system_namespace = pulumi.Output.from_input(SYSTEM_NS)
        self.register_outputs(
            {
                "provider": self.provider,
                "meshName": self.mesh_name,
                "systemNamespace": self.system_namespace,
            }
        )
