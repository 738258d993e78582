"""Linkerd (edge) with cert-manager-driven identity: ``airflow-aks:mesh:Linkerd``.

Chain of trust, all rotated by cert-manager, distributed by trust-manager::

    Issuer linkerd-selfsigned (cert-manager ns)
      -> Certificate linkerd-trust-anchor (CA, ECDSA P-256, rotationPolicy Always)
      -> ClusterIssuer linkerd-identity-issuer (CA = the trust anchor secret)
      -> Certificate linkerd-identity-issuer (linkerd ns, CA, 48h, renewBefore 25h)
    Bundle linkerd-identity-trust-roots -> ConfigMap key ca-bundle.crt in every namespace
      labelled linkerd.io/is-control-plane=true

The control plane runs with ``identity.externalCA: true`` and reads the issuer secret
(``kubernetes.io/tls`` scheme), so no private key ever passes through Pulumi state.
Trust-anchor rotation itself stays a planned operation (10-year anchor).
"""

from collections.abc import Mapping
from typing import Any, ClassVar, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from airflow_aks.components.mesh.base import (
    AllowRule,
    ChartSource,
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

LINKERD_REPO = "https://helm.linkerd.io/edge"
JETSTACK_REPO = "https://charts.jetstack.io"

CONTROL_PLANE_NS = "linkerd"
VIZ_NS = "linkerd-viz"
CNI_NS = "linkerd-cni"
CERT_MANAGER_NS = "cert-manager"

TRUST_ANCHOR = "linkerd-trust-anchor"
SELF_SIGNED_ISSUER = "linkerd-selfsigned"
IDENTITY_CLUSTER_ISSUER = "linkerd-identity-issuer"
IDENTITY_ISSUER = "linkerd-identity-issuer"
TRUST_ROOTS = "linkerd-identity-trust-roots"
TRUST_ROOTS_KEY = "ca-bundle.crt"
IDENTITY_NAME = "identity.linkerd.cluster.local"

OPAQUE_PORTS = (5432, 6543)
"""Postgres and PgBouncer: server-speaks-first, protocol detection would stall them."""

POLICY_API = "policy.linkerd.io"

CHARTS: dict[str, ChartSource] = {
    "cert-manager": ChartSource("cert-manager", JETSTACK_REPO, CERT_MANAGER_NS),
    "trust-manager": ChartSource("trust-manager", JETSTACK_REPO, CERT_MANAGER_NS),
    "crds": ChartSource("linkerd-crds", LINKERD_REPO, CONTROL_PLANE_NS),
    "cni": ChartSource("linkerd2-cni", LINKERD_REPO, CNI_NS),
    "control-plane": ChartSource("linkerd-control-plane", LINKERD_REPO, CONTROL_PLANE_NS),
    "viz": ChartSource("linkerd-viz", LINKERD_REPO, VIZ_NS),
}
"""The charts by role; ``<component name>-<role>`` is the Chart's logical name."""

IDENTITY_DEPENDS: dict[str, tuple[str, ...]] = {
    "selfsigned-issuer": ("cert-manager",),
    "trust-anchor": ("cert-manager", "selfsigned-issuer"),
    "identity-cluster-issuer": ("cert-manager", "trust-anchor"),
    "identity-issuer": ("cert-manager", "identity-cluster-issuer", "ns"),
    "trust-roots": ("trust-manager", "trust-anchor", "ns"),
}
"""What each object of :func:`identity_manifests` waits for, by role (``ns``: the
``linkerd`` namespace); the role is also the suffix of its logical name."""

# ---------------------------------------------------------------------------- args


class LinkerdArgs(TypedDict, total=False):
    """Arguments of :class:`Linkerd` (built by the assembler from ``MeshConfig``)."""

    version: Required[str]
    """Linkerd edge chart version, e.g. ``2026.10.1`` (= edge-26.10.1)."""
    cert_manager_version: Required[str]
    """cert-manager chart version, e.g. ``v1.21.2``."""
    trust_manager_version: Required[str]
    """trust-manager chart version, e.g. ``v0.26.0``."""
    ha: bool
    """High availability (prod): 3 replicas, PDBs, anti-affinity, webhook failurePolicy Fail."""
    viz: bool
    """Install the linkerd-viz extension."""
    cni: bool
    """Use the linkerd2-cni plugin instead of the proxy-init container (no NET_ADMIN)."""
    install_gateway_api: bool
    """Let linkerd-crds install the Gateway API CRDs Linkerd needs (default true: AKS does
    not ship them unless the managed Gateway API add-on is on)."""


# ---------------------------------------------------------------- pure functions


def namespace_labels() -> dict[str, str]:
    """Linkerd injects by annotation; app namespaces need no label."""
    return {}


def namespace_annotations() -> dict[str, str]:
    """Meshed app namespace: inject, deny any inbound traffic no policy allows, and treat
    the database ports as opaque TCP."""
    return {
        "linkerd.io/inject": "enabled",
        "config.linkerd.io/default-inbound-policy": "deny",
        "config.linkerd.io/opaque-ports": ",".join(str(p) for p in OPAQUE_PORTS),
    }


def pod_labels(kind: PodKind) -> dict[str, str]:
    return {}


def pod_annotations(kind: PodKind) -> dict[str, str]:
    """``job`` pods get the native-sidecar annotation explicitly, so they finish even if the
    cluster-wide ``proxy.nativeSidecar`` default were ever turned off."""
    out = {"linkerd.io/inject": "enabled"}
    if kind == "job":
        out["config.linkerd.io/proxy-enable-native-sidecar"] = "true"
    return out


def control_plane_namespace_labels() -> dict[str, str]:
    """The ``linkerd`` namespace: target of the trust bundle, never injected itself."""
    return {
        "linkerd.io/is-control-plane": "true",
        "linkerd.io/control-plane-ns": CONTROL_PLANE_NS,
        "config.linkerd.io/admission-webhooks": "disabled",
    }


def cert_manager_values(ha: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "crds": {"enabled": True, "keep": True},
        # AKS: keep leader election out of kube-system.
        "global": {"leaderElection": {"namespace": CERT_MANAGER_NS}},
    }
    if ha:
        values |= {
            "replicaCount": 2,
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            "webhook": {
                "replicaCount": 3,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            },
            "cainjector": {
                "replicaCount": 2,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            },
        }
    return values


def trust_manager_values(ha: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        # Sources (the trust anchor secret) are read from cert-manager's namespace.
        "app": {"trust": {"namespace": CERT_MANAGER_NS}},
        # We only bundle our own root: no public CA package image needed.
        "defaultPackage": {"enabled": False},
    }
    if ha:
        values |= {"replicaCount": 2, "podDisruptionBudget": {"enabled": True}}
    return values


def crds_values(install_gateway_api: bool) -> dict[str, Any]:
    return {"installGatewayAPI": install_gateway_api}


_CONTROLLER_RESOURCES: dict[str, Any] = {
    "cpu": {"limit": "", "request": "100m"},
    "memory": {"limit": "250Mi", "request": "50Mi"},
}


def ha_values() -> dict[str, Any]:
    """The chart's ``values-ha.yaml``, as code."""
    return {
        "enablePodDisruptionBudget": True,
        "deploymentStrategy": {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
        "enablePodAntiAffinity": True,
        "controllerReplicas": 3,
        "controllerResources": _CONTROLLER_RESOURCES,
        "destinationResources": _CONTROLLER_RESOURCES,
        "identityResources": {
            "cpu": _CONTROLLER_RESOURCES["cpu"],
            "memory": {"limit": "250Mi", "request": "10Mi"},
        },
        "heartbeatResources": _CONTROLLER_RESOURCES,
        "proxyInjectorResources": _CONTROLLER_RESOURCES,
        "spValidatorResources": _CONTROLLER_RESOURCES,
        "webhookFailurePolicy": "Fail",
    }


def control_plane_values(ha: bool, cni: bool) -> dict[str, Any]:
    """Values for ``linkerd-control-plane``: external CA (cert-manager), native sidecars,
    non-root proxy-init (or the CNI plugin), HA overrides in prod."""
    proxy: dict[str, Any] = {"nativeSidecar": True}
    if ha:
        proxy["resources"] = {
            "cpu": {"request": "100m"},
            "memory": {"limit": "250Mi", "request": "20Mi"},
        }
    values: dict[str, Any] = {
        "identity": {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}},
        "proxy": proxy,
        "proxyInit": {"runAsRoot": False},
        "cniEnabled": cni,
    }
    if ha:
        values |= ha_values()
    return values


def cni_namespace_labels() -> dict[str, str]:
    """What ``linkerd install-cni`` (CLI) puts on the namespace; Helm leaves it to us."""
    return {"linkerd.io/cni-resource": "true", "config.linkerd.io/admission-webhooks": "disabled"}


def cni_values() -> dict[str, Any]:
    """The CNI DaemonSet must run on every node that may host meshed pods, spot and GPU
    pools (tainted) included."""
    return {"tolerations": [{"operator": "Exists"}]}


def viz_values(ha: bool) -> dict[str, Any]:
    return {"linkerdNamespace": CONTROL_PLANE_NS, "enablePodAntiAffinity": ha}


def identity_manifests() -> dict[str, Manifest]:
    """The cert-manager / trust-manager objects of the rotation chain, by role."""
    return {
        "selfsigned-issuer": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": SELF_SIGNED_ISSUER, "namespace": CERT_MANAGER_NS},
            "spec": {"selfSigned": {}},
        },
        "trust-anchor": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": TRUST_ANCHOR, "namespace": CERT_MANAGER_NS},
            "spec": {
                "isCA": True,
                "commonName": "root.linkerd.cluster.local",
                "secretName": TRUST_ANCHOR,
                "duration": "87600h",  # 10 years: anchor rotation is a planned operation
                "renewBefore": "8760h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {
                    "name": SELF_SIGNED_ISSUER,
                    "kind": "Issuer",
                    "group": "cert-manager.io",
                },
            },
        },
        "identity-cluster-issuer": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": IDENTITY_CLUSTER_ISSUER},
            "spec": {"ca": {"secretName": TRUST_ANCHOR}},
        },
        "identity-issuer": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": IDENTITY_ISSUER, "namespace": CONTROL_PLANE_NS},
            "spec": {
                "secretName": IDENTITY_ISSUER,
                "duration": "48h",
                "renewBefore": "25h",
                "issuerRef": {
                    "name": IDENTITY_CLUSTER_ISSUER,
                    "kind": "ClusterIssuer",
                    "group": "cert-manager.io",
                },
                "commonName": IDENTITY_NAME,
                "dnsNames": [IDENTITY_NAME],
                "isCA": True,
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "usages": ["cert sign", "crl sign", "server auth", "client auth"],
            },
        },
        "trust-roots": {
            "apiVersion": "trust.cert-manager.io/v1alpha1",
            "kind": "Bundle",
            "metadata": {"name": TRUST_ROOTS},
            "spec": {
                "sources": [{"secret": {"name": TRUST_ANCHOR, "key": "tls.crt"}}],
                "target": {
                    "configMap": {"key": TRUST_ROOTS_KEY},
                    "namespaceSelector": {
                        "matchLabels": {"linkerd.io/is-control-plane": "true"},
                    },
                },
            },
        },
    }


def allow_manifests(rule: AllowRule) -> list[Manifest]:
    """``Server`` + ``MeshTLSAuthentication`` + ``AuthorizationPolicy`` for one rule: only
    the listed ServiceAccounts, over mTLS, reach the selected pods' port."""
    t: WorkloadSelector = rule.target
    meta = {"name": rule.name, "namespace": rule.namespace}
    return [
        {
            "apiVersion": f"{POLICY_API}/v1beta3",
            "kind": "Server",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": dict(t.labels)},
                # The number, not the name: robust to a chart renaming its container port.
                "port": t.port,
                "proxyProtocol": "opaque" if t.protocol == "opaque" else "unknown",
            },
        },
        {
            "apiVersion": f"{POLICY_API}/v1alpha1",
            "kind": "MeshTLSAuthentication",
            "metadata": meta,
            "spec": {
                "identityRefs": [
                    {"kind": "ServiceAccount", "name": c.service_account, "namespace": c.namespace}
                    for c in rule.clients
                ]
            },
        },
        {
            "apiVersion": f"{POLICY_API}/v1alpha1",
            "kind": "AuthorizationPolicy",
            "metadata": meta,
            "spec": {
                "targetRef": {"group": POLICY_API, "kind": "Server", "name": rule.name},
                "requiredAuthenticationRefs": [
                    {"group": POLICY_API, "kind": "MeshTLSAuthentication", "name": rule.name}
                ],
            },
        },
    ]


# ---------------------------------------------------------------------- component


class Linkerd(MeshBase, pulumi.ComponentResource):
    """cert-manager + trust-manager + Linkerd CRDs and control plane (+ viz, + CNI)."""

    _provider_name: ClassVar[MeshProvider] = "linkerd"
    _decisions = MeshDecisions(
        namespace_labels, namespace_annotations, pod_labels, pod_annotations, allow_manifests
    )

    control_plane_namespace: pulumi.Output[str]
    """Namespace of the control plane (``linkerd``)."""
    trust_roots_config_map: pulumi.Output[str]
    """ConfigMap (key ``ca-bundle.crt``) holding the trust anchors."""

    def __init__(
        self, name: str, args: LinkerdArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token("mesh", "Linkerd"), name, {}, opts)
        ha = args.get("ha", False)
        cni = args.get("cni", False)
        viz = args.get("viz", False)
        child = child_options(self)

        def chart(
            role: str, version: str, values: Mapping[str, Any], *deps: pulumi.Resource
        ) -> k8s.helm.v4.Chart:
            return helm_chart(f"{name}-{role}", CHARTS[role], version, values, child(*deps))

        cm_ns = plain_namespace(f"{name}-cert-manager-ns", CERT_MANAGER_NS, child())
        cert_manager = chart(
            "cert-manager", args["cert_manager_version"], cert_manager_values(ha), cm_ns
        )
        trust_manager = chart(
            "trust-manager",
            args["trust_manager_version"],
            trust_manager_values(ha),
            cert_manager,  # its webhook certificate comes from cert-manager
        )
        l5d_ns = plain_namespace(
            f"{name}-ns",
            CONTROL_PLANE_NS,
            child(),
            labels=control_plane_namespace_labels(),
            annotations={"linkerd.io/inject": "disabled"},
        )
        crds = chart(
            "crds", args["version"], crds_values(args.get("install_gateway_api", True)), l5d_ns
        )

        made: dict[str, pulumi.Resource] = {
            "cert-manager": cert_manager,
            "trust-manager": trust_manager,
            "ns": l5d_ns,
        }
        for role, manifest in identity_manifests().items():
            deps = (made[d] for d in IDENTITY_DEPENDS[role])
            made[role] = custom_resource(f"{name}-{role}", manifest, child(*deps))

        cp_deps = [crds, made["identity-issuer"], made["trust-roots"]]
        if cni:
            cni_ns = plain_namespace(
                f"{name}-cni-ns", CNI_NS, child(), labels=cni_namespace_labels()
            )
            cp_deps.append(chart("cni", args["version"], cni_values(), cni_ns))
        control_plane = chart(
            "control-plane", args["version"], control_plane_values(ha, cni), *cp_deps
        )
        self._ready = (control_plane,)

        if viz:
            viz_ns = plain_namespace(
                f"{name}-viz-ns",
                VIZ_NS,
                child(control_plane),
                labels={"linkerd.io/extension": "viz"},
                annotations={"linkerd.io/inject": "enabled"},
            )
            chart("viz", args["version"], viz_values(ha), control_plane, viz_ns)

        self.control_plane_namespace = pulumi.Output.from_input(CONTROL_PLANE_NS)
        self.trust_roots_config_map = pulumi.Output.from_input(TRUST_ROOTS)
        self.register_outputs(
            {
                "provider": self.provider,
                "controlPlaneNamespace": self.control_plane_namespace,
                "trustRootsConfigMap": self.trust_roots_config_map,
            }
        )
