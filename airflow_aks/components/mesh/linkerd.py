"""Linkerd (edge) with cert-manager-driven identity: ``airflow-aks:index:Linkerd``.

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
from dataclasses import replace
from typing import Any, ClassVar, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from airflow_aks.components.mesh import cert_manager
from airflow_aks.components.mesh.base import (
    WAIT_READY,
    AllowRule,
    ChartSource,
    Manifest,
    MeshBase,
    MeshDecisions,
    MeshProvider,
    NetworkNeeds,
    PodKind,
    WorkloadSelector,
    child_options,
    custom_resource,
    helm_chart,
    plain_namespace,
)
from airflow_aks.components.tokens import type_token

LINKERD_REPO = "https://helm.linkerd.io/edge"  # linkerd2 bin/helm-build (helm repo index --url)
JETSTACK_REPO = cert_manager.JETSTACK_REPO

CONTROL_PLANE_NS = "linkerd"
VIZ_NS = "linkerd-viz"
CNI_NS = "linkerd-cni"
CERT_MANAGER_NS = cert_manager.CERT_MANAGER_NS

TRUST_ANCHOR = "linkerd-trust-anchor"
SELF_SIGNED_ISSUER = "linkerd-selfsigned"
IDENTITY_CLUSTER_ISSUER = "linkerd-identity-issuer"
IDENTITY_ISSUER = "linkerd-identity-issuer"
TRUST_ROOTS = "linkerd-identity-trust-roots"
TRUST_ROOTS_KEY = "ca-bundle.crt"
IDENTITY_NAME = "identity.linkerd.cluster.local"

OPAQUE_PORTS = (5432, 6543)
# What meshed pods' NetworkPolicies must allow (linkerd2 charts/linkerd-control-plane
# templates/destination.yaml: destination 8086, policy 8090; identity.yaml: 8080; at
# b24cd40, 2026-08-21). Meshed clients connect to the proxy's inbound port 4143, not the
# app port (linkerd.io/2/common-errors/network-policy, read 2026-12).
PROXY_ADMIN_PORT = 4191  # values.yaml proxy.ports.admin (edge-26.8.3, read 2026-12-02)
NETWORK_NEEDS = NetworkNeeds(
    control_plane_namespace="linkerd",
    control_plane_ports=(8080, 8086, 8090),
    inbound_proxy_ports=(4143,),
)
"""Postgres and PgBouncer: server-speaks-first, protocol detection would stall them."""

POLICY_API = "policy.linkerd.io"

CHARTS: dict[str, ChartSource] = {
    "cert-manager": cert_manager.CHART,
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

WEBHOOK_SELF_SIGNED = "linkerd-webhook-selfsigned"
WEBHOOK_CA = "linkerd-webhook-ca"
WEBHOOK_ISSUER = "linkerd-webhook-issuer"

WEBHOOKS: dict[str, tuple[str, str]] = {
    "proxyInjector": ("linkerd-proxy-injector", "linkerd-proxy-injector-k8s-tls"),
    "profileValidator": ("linkerd-sp-validator", "linkerd-sp-validator-k8s-tls"),
    "policyValidator": ("linkerd-policy-validator", "linkerd-policy-validator-k8s-tls"),
}
"""Chart values key -> (webhook Service = Certificate name, TLS Secret the pods mount).

linkerd2 edge-26.8.3 ``charts/linkerd-control-plane``: ``templates/proxy-injector-rbac.yaml``
and ``templates/destination-rbac.yaml`` call ``genSelfSignedCert`` for host
``<service>.<ns>.svc`` on every render and put it in these Secrets and the webhooks'
``caBundle`` unless ``<key>.externalSecret`` is true with ``<key>.injectCaFrom`` naming a
cert-manager Certificate (``_validate.tpl``: inject* needs externalSecret); the
``checksum/config`` pod annotations hash that output, so only then is a render stable.
Recipe: linkerd.io/2/tasks/automatically-rotating-webhook-tls-credentials (read 2026-12-02).
"""

WEBHOOK_DEPENDS: dict[str, tuple[str, ...]] = {
    "webhook-selfsigned-issuer": ("cert-manager", "ns"),
    "webhook-ca": ("cert-manager", "ns", "webhook-selfsigned-issuer"),
    "webhook-issuer": ("cert-manager", "ns", "webhook-ca"),
    **{f"webhook-{svc}": ("cert-manager", "ns", "webhook-issuer") for svc, _ in WEBHOOKS.values()},
}
"""What each object of :func:`webhook_manifests` waits for, by role."""

# ---------------------------------------------------------------------------- args


class LinkerdArgs(TypedDict, total=False):
    """Arguments of :class:`Linkerd` (built by the assembler from ``MeshConfig``)."""

    version: Required[str]
    """Linkerd edge chart version, e.g. ``2026.8.3`` (= edge-26.8.3)."""
    cert_manager_version: Required[str]
    """cert-manager chart version, e.g. ``v1.21.1``."""
    trust_manager_version: Required[str]
    """trust-manager chart version, e.g. ``v0.24.0``."""
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
    if kind == "gateway":
        # The boundary: the namespace denies un-authorised inbound; the gateway's own ports
        # must take the load balancer's (unmeshed) connections. Outbound stays mTLS.
        # Microsoft supports extra sidecars in app routing's managed gateway pods only on a
        # best-effort basis (aks-docs app-routing-gateway-api.md, Limitations, read
        # 2026-12-07); kept: the proxy's identity is how the API server admits the gateway
        # (docs/entrance.md "Mesh").
        out["config.linkerd.io/default-inbound-policy"] = "all-unauthenticated"
    return out


def control_plane_namespace_labels() -> dict[str, str]:
    """The ``linkerd`` namespace: target of the trust bundle, never injected itself."""
    return {
        "linkerd.io/is-control-plane": "true",
        "linkerd.io/control-plane-ns": CONTROL_PLANE_NS,
        "config.linkerd.io/admission-webhooks": "disabled",
    }


cert_manager_values = cert_manager.cert_manager_values


def trust_manager_values(ha: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        # Sources (the trust anchor secret) are read from cert-manager's namespace.
        "app": {"trust": {"namespace": CERT_MANAGER_NS}},
        # We only bundle our own root: no public CA package image needed.
        "defaultPackage": {"enabled": False},
    }
    if ha:
        values |= {
            "replicaCount": 2,
            "podDisruptionBudget": {"enabled": True},
            # The figures of the chart's own example (trust-manager v0.24.0 values.yaml
            # `resources`, read 2026-12-02); no CPU limit, like the rest of the stack.
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "128Mi"},
            },
        }
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
        # No `controllerResources` (values-ha.yaml only: no template reads it at edge-26.8.3)
        # nor `heartbeatResources` (templates/heartbeat.yaml:1 renders only without
        # disableHeartBeat, which we set); render check 2026-12-02.
        "destinationResources": _CONTROLLER_RESOURCES,
        "identityResources": {
            "cpu": _CONTROLLER_RESOURCES["cpu"],
            "memory": {"limit": "250Mi", "request": "10Mi"},
        },
        "proxyInjectorResources": _CONTROLLER_RESOURCES,
        "spValidatorResources": _CONTROLLER_RESOURCES,
        # The destination pod's `policy` container (templates/destination.yaml:391,
        # edge-26.8.3, read 2026-12-02); values-ha.yaml leaves it without resources.
        "policyController": {"resources": _CONTROLLER_RESOURCES},
        "webhookFailurePolicy": "Fail",
    }


# Every injected proxy gets requests *and* limits: a data domain's ResourceQuota tracks
# limits.cpu/limits.memory and rejects a pod with a container lacking them, and the
# LimitRange defaults are applied before the injector adds the proxy. Requests and the
# memory limit are values-ha.yaml's (edge-26.8.3, 19a0d90d, read 2026-12-02); its CPU
# limit is unset, and values.yaml asks runtime.workers.minimum (1) to match a CPU limit.
PROXY_RESOURCES: dict[str, Any] = {
    "cpu": {"request": "100m", "limit": "1"},
    "memory": {"request": "20Mi", "limit": "250Mi"},
}


def control_plane_values(ha: bool, cni: bool) -> dict[str, Any]:
    """Values for ``linkerd-control-plane``: external CA (cert-manager), native sidecars,
    non-root proxy-init (or the CNI plugin), HA overrides in prod."""
    proxy: dict[str, Any] = {"nativeSidecar": True, "resources": PROXY_RESOURCES}
    values: dict[str, Any] = {
        "identity": {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}},
        "proxy": proxy,
        "proxyInit": {"runAsRoot": False},
        "cniEnabled": cni,
        **webhook_values(),
        # The heartbeat CronJob's schedule is `now` + 10m at render time
        # (templates/heartbeat.yaml): a new schedule on every render. It only reports usage
        # to the Linkerd project; off.
        "disableHeartBeat": True,
    }
    if ha:
        values |= ha_values()
    return values


def webhook_values() -> dict[str, Any]:
    """Each webhook serves a cert-manager-issued Secret; cainjector fills its caBundle."""
    return {
        key: {"externalSecret": True, "injectCaFrom": f"{CONTROL_PLANE_NS}/{certificate}"}
        for key, (certificate, _) in WEBHOOKS.items()
    }


def webhook_manifests() -> dict[str, Manifest]:
    """A CA of their own for the webhooks (never the mesh trust anchor) and one serving
    certificate per webhook, all in the ``linkerd`` namespace, by role."""

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": CONTROL_PLANE_NS}

    ecdsa = {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    out: dict[str, Manifest] = {
        "webhook-selfsigned-issuer": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": meta(WEBHOOK_SELF_SIGNED),
            "spec": {"selfSigned": {}},
        },
        "webhook-ca": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {**meta(WEBHOOK_CA), "annotations": dict(WAIT_READY)},
            "spec": {
                "isCA": True,
                "commonName": "webhook.linkerd.cluster.local",
                "secretName": WEBHOOK_CA,
                "duration": "8760h",
                "renewBefore": "720h",
                "privateKey": ecdsa,
                "issuerRef": {
                    "name": WEBHOOK_SELF_SIGNED,
                    "kind": "Issuer",
                    "group": "cert-manager.io",
                },
            },
        },
        "webhook-issuer": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": meta(WEBHOOK_ISSUER),
            "spec": {"ca": {"secretName": WEBHOOK_CA}},
        },
    }
    for certificate, secret in WEBHOOKS.values():
        host = f"{certificate}.{CONTROL_PLANE_NS}.svc"
        out[f"webhook-{certificate}"] = {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            # The pods mount the Secret: the chart waits until it is issued.
            "metadata": {**meta(certificate), "annotations": dict(WAIT_READY)},
            "spec": {
                "secretName": secret,
                "commonName": host,
                "dnsNames": [host],
                "duration": "24h",
                "renewBefore": "1h",
                "isCA": False,
                "privateKey": ecdsa,
                "usages": ["server auth"],
                "issuerRef": {"name": WEBHOOK_ISSUER, "kind": "Issuer", "group": "cert-manager.io"},
            },
        }
    return out


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
            # The identity pod mounts its Secret: the control plane waits until it is issued.
            "metadata": {
                "name": IDENTITY_ISSUER,
                "namespace": CONTROL_PLANE_NS,
                "annotations": dict(WAIT_READY),
            },
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
        namespace_labels,
        namespace_annotations,
        pod_labels,
        pod_annotations,
        allow_manifests,
        NETWORK_NEEDS,
        # No SidecarToken: the proxy injector adds its own projected token volume
        # `linkerd-identity-token` (audience identity.l5d.io) to every injected pod,
        # whatever the pod automounts (linkerd2 edge-26.8.3 charts/partials/templates/
        # _volumes.tpl, _proxy.tpl; read 2026-12-07).
        None,
    )

    control_plane_namespace: pulumi.Output[str]
    """Namespace of the control plane (``linkerd``)."""
    trust_roots_config_map: pulumi.Output[str]
    """ConfigMap (key ``ca-bundle.crt``) holding the trust anchors."""

    _network: NetworkNeeds = NETWORK_NEEDS

    def network_needs(self) -> NetworkNeeds:
        return self._network

    def __init__(
        self, name: str, args: LinkerdArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token(Linkerd), name, {}, opts)
        ha = args.get("ha", False)
        cni = args.get("cni", False)
        viz = args.get("viz", False)
        child = child_options(self)

        def chart(
            role: str, version: str, values: Mapping[str, Any], *deps: pulumi.Resource
        ) -> k8s.helm.v4.Chart:
            return helm_chart(f"{name}-{role}", CHARTS[role], version, values, child(*deps))

        _, cm_chart = cert_manager.install(name, args["cert_manager_version"], ha, child)
        trust_manager = chart(
            "trust-manager",
            args["trust_manager_version"],
            trust_manager_values(ha),
            cm_chart,  # its webhook certificate comes from cert-manager
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
            "cert-manager": cm_chart,
            "trust-manager": trust_manager,
            "ns": l5d_ns,
        }
        depends = {**IDENTITY_DEPENDS, **WEBHOOK_DEPENDS}
        for role, manifest in {**identity_manifests(), **webhook_manifests()}.items():
            deps = (made[d] for d in depends[role])
            made[role] = custom_resource(f"{name}-{role}", manifest, child(*deps))

        webhook_certs = [made[f"webhook-{svc}"] for svc, _ in WEBHOOKS.values()]
        cp_deps = [crds, made["identity-issuer"], made["trust-roots"], *webhook_certs]
        if cni:
            cni_ns = plain_namespace(
                f"{name}-cni-ns", CNI_NS, child(), labels=cni_namespace_labels()
            )
            cp_deps.append(chart("cni", args["version"], cni_values(), cni_ns))
        control_plane = chart(
            "control-plane", args["version"], control_plane_values(ha, cni), *cp_deps
        )
        self._ready = (control_plane,)
        if viz:  # viz's Prometheus scrapes every meshed pod's proxy
            self._network = replace(
                NETWORK_NEEDS, scrape_namespace=VIZ_NS, scrape_ports=(PROXY_ADMIN_PORT,)
            )

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
