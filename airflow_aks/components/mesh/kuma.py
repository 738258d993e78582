"""Kuma with a builtin CA in STRICT mTLS: ``airflow-aks:index:Kuma``.

The control plane chart is installed without a default Mesh; we create the ``Mesh``
ourselves (builtin CA, STRICT, 24h data-plane certificates, no initial allow-all policies),
a mesh-wide deny ``MeshTrafficPermission``, and one allow policy per declared path. Native
sidecars (``experimental.sidecarContainers``) let Jobs finish.

Checked against kumahq/kuma v2.14.3 ``deployments/charts/kuma`` (tag 2026-08-10, read
2026-12-02):

* The system namespace must carry ``kuma.io/sidecar-injection: "false"`` (the label the
  chart's namespace check and patch job look for; ``kuma.io/system-namespace`` is used
  nowhere since 2.11, UPGRADE.md). We create and label it.
* ``noHelmHooks: true`` makes ``templates/pre-install-patch-namespace-job.yaml`` ``lookup``
  that namespace and ``fail`` when it sees none -- which is every ``pulumi preview`` of a
  cluster that does not exist yet, and any render without a cluster. ``helm.v4.Chart``
  renders with hooks disabled anyway (pulumi-kubernetes ``helm/v4/chart.go``:
  ``DisableHooks = true``; pulumi-kubernetes#3284), so ``noHelmHooks: false`` renders the
  same objects minus that check: the pre-install/pre-delete hook Jobs are dropped by Pulumi,
  not run.
* Webhook certificate: without one the chart ``lookup``s its Secret and, finding none (any
  render without a cluster), makes a new CA with ``genCA`` on every render
  (``cp-webhooks-and-secrets.yaml``). ``controlPlane.tls.general.certManager.enabled``
  makes the chart emit a cert-manager ``Certificate`` (and a self-signed ``Issuer``) and
  annotate the webhooks with ``cert-manager.io/inject-ca-from`` instead: stable renders.
  cert-manager is installed first (``cert_manager.install``); the chart's namespace input
  is the Namespace's output name, so the chart renders only once that Namespace -- which
  waits for cert-manager -- exists (its CRD ``lookup`` then finds cert-manager's CRDs).
"""

from dataclasses import replace
from typing import Any, ClassVar, Required, TypedDict

import pulumi

from airflow_aks.components.mesh import cert_manager
from airflow_aks.components.mesh.base import (
    AllowRule,
    ChartSource,
    Client,
    Manifest,
    MeshBase,
    MeshDecisions,
    MeshProvider,
    NetworkNeeds,
    PodKind,
    SidecarToken,
    WorkloadSelector,
    child_options,
    custom_resource,
    helm_chart,
    name_of,
    plain_namespace,
)
from airflow_aks.components.tokens import type_token

KUMA_REPO = "https://kumahq.github.io/charts"  # kumahq/kuma mk/dev.mk (v2.14.3)
SYSTEM_NS = "kuma-system"
KUMA_CHART = ChartSource("kuma", KUMA_REPO, SYSTEM_NS)
MESH_NAME = "default"
CA_BACKEND = "ca-1"
KUMA_API = "kuma.io/v1alpha1"
# Data planes connect to the control plane's dp-server on 5678 (kumahq/kuma
# deployments/charts/kuma/templates/cp-service.yaml at 348b652, 2026-08-21); inbound
# traffic arrives on the app port (redirected inside the pod).
NETWORK_NEEDS = NetworkNeeds(control_plane_namespace="kuma-system", control_plane_ports=(5678,))
# kuma-dp authenticates to the control plane with the pod's ServiceAccount token: the
# injected sidecar reads KUMA_DATAPLANE_RUNTIME_TOKEN_PATH=/var/run/secrets/kubernetes.io/
# serviceaccount/token (pkg/plugins/runtime/k8s/containers/factory.go) and exits with
# "dataplane token is invalid" when it is absent (app/kuma-dp/cmd/context.go); the injector
# mounts a token there only if an app container already mounts one or the pod annotation
# `kuma.io/service-account-token-volume` names a pod volume (pkg/plugins/runtime/k8s/
# webhooks/injector/injector.go NewVolumeMounts / FindServiceAccountToken); the control
# plane checks it with a TokenReview without audiences (pkg/xds/auth/k8s/authenticator.go).
# All kumahq/kuma v2.14.3, read 2026-12-07.
SIDECAR_TOKEN = SidecarToken(
    annotation="kuma.io/service-account-token-volume", volume_name="kuma-sidecar-token"
)


class KumaArgs(TypedDict, total=False):
    """Arguments of :class:`Kuma` (built by the assembler from ``MeshConfig``)."""

    version: Required[str]
    """``kuma`` chart version (= Kuma version), e.g. ``2.14.3``."""
    cert_manager_version: Required[str]
    """cert-manager chart version (issues the control plane's webhook certificate)."""
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
    if kind == "gateway":
        # Delegated gateway: the sidecar generates no inbound listener (the load balancer's
        # traffic reaches Envoy directly) and carries the gateway's outbound over mTLS
        # (Kuma docs "kuma.io/gateway", seen 2026-12-02).
        return {"kuma.io/gateway": "enabled"}
    return {}


def system_namespace_labels() -> dict[str, str]:
    """``kuma-system`` is never injected: the label the chart checks (see module doc)."""
    return {"kuma.io/sidecar-injection": "false"}


def chart_values(ha: bool) -> dict[str, Any]:
    cp: dict[str, Any] = {
        "defaults": {"skipMeshCreation": True},  # we create the Mesh with STRICT mTLS
        # The chart default is only `readOnlyRootFilesystem: true` (values.yaml
        # controlPlane.containerSecurityContext, rendered by templates/cp-deployment.yaml
        # on the control-plane container, kuma v2.14.3, read 2026-12-02): without this the
        # control plane fails k8s-drop-capabilities and k8s-no-privilege-escalation.
        "containerSecurityContext": {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
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
    # cert-manager issues the webhook certificate (a stable render, see module doc).
    cp["tls"] = {"general": {"certManager": {"enabled": True}}}
    return {
        "controlPlane": cp,
        "experimental": {"sidecarContainers": True},
        # helm.v4.Chart drops hook objects itself; `noHelmHooks: true` would only add a
        # namespace `lookup` that fails wherever no cluster answers (see module doc). We
        # label the namespace; CRDs come from the chart's crds/ directory.
        "noHelmHooks": False,
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


def collector_peer(endpoint: str) -> tuple[str, int]:
    """``(namespace, port)`` of an in-cluster collector ``<service>.<namespace>[.svc[.
    cluster.local]]:<port>``: every meshed pod's data plane sends its spans there itself,
    so the namespaces' default-deny egress must open it (MeshTrace backends are dialled by
    Envoy in each sidecar: kuma v2.14.3 pkg/plugins/policies/meshtrace/plugin/v1alpha1/
    plugin.go adds a tracing cluster for the endpoint to every data plane; read 2026-12-07)."""
    host, _, port = endpoint.split("://")[-1].rpartition(":")
    labels = host.split(".")
    if len(labels) < 2 or not port.isdigit():
        raise ValueError(
            f"otel endpoint {endpoint!r}: give the collector as <service>.<namespace>:<port> "
            "(a short name resolves only inside its own namespace)"
        )
    return labels[1], int(port)


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
        namespace_labels,
        namespace_annotations,
        pod_labels,
        pod_annotations,
        allow_manifests,
        NETWORK_NEEDS,
        SIDECAR_TOKEN,
    )

    mesh_name: pulumi.Output[str]
    """Name of the Mesh pods join (``default``)."""

    _network: NetworkNeeds = NETWORK_NEEDS

    def network_needs(self) -> NetworkNeeds:
        return self._network

    system_namespace: pulumi.Output[str]
    """Namespace of the control plane (``kuma-system``)."""

    def __init__(
        self, name: str, args: KumaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token(Kuma), name, {}, opts)
        child = child_options(self)
        ha = args.get("ha", False)

        _, cm_chart = cert_manager.install(name, args["cert_manager_version"], ha, child)
        ns = plain_namespace(
            f"{name}-ns", SYSTEM_NS, child(cm_chart), labels=system_namespace_labels()
        )
        chart = helm_chart(
            f"{name}-control-plane",
            KUMA_CHART,
            args["version"],
            chart_values(ha),
            child(ns),
            namespace=name_of(ns, SYSTEM_NS),
        )
        mesh = custom_resource(
            f"{name}-mesh", mesh_manifest(args.get("dp_cert_expiration", "24h")), child(chart)
        )
        deny = custom_resource(f"{name}-deny-all", deny_all_manifest(), child(chart, mesh))
        self._ready = (chart, mesh, deny)
        endpoint = args.get("otel_endpoint")
        if endpoint:
            ns, port = collector_peer(endpoint)
            self._network = replace(NETWORK_NEEDS, telemetry_namespace=ns, telemetry_ports=(port,))
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
