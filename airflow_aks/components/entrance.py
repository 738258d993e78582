"""``airflow-aks:index:Entrance`` — the one way in from outside the cluster.

Kubernetes Gateway API through the AKS application routing add-on's Gateway API
implementation (GatewayClass ``approuting-istio``: an Istio control plane without sidecars
that deploys one Envoy Deployment + LoadBalancer Service per Gateway; GA since the docs
commit of 2026-05-18, see ``/work/research/azure.md`` item 9, seen 2026-12-02).

Children (all in the Airflow namespace, so the mesh treats the gateway like any Airflow
workload):

1. a cert-manager ``Certificate`` for the host into the Secret the listener uses, issued by
   the configured (Cluster)Issuer — the issuer is the organisation's (ACME with DNS-01,
   or an internal CA), created outside this stack;
2. the ``Gateway``: an HTTPS listener (TLS terminated, AEAD-only cipher suites so nothing
   older than TLS 1.2 can complete a handshake) and an HTTP listener that only redirects;
   ``spec.infrastructure`` carries the mesh's ``gateway`` pod settings and, for a private
   entrance, the Azure internal load-balancer annotation;
3. two ``HTTPRoute`` objects: host -> the API server Service only, and HTTP -> HTTPS (301).

Istio names the Deployment and its ServiceAccount ``<gateway>-<gatewayClassName>`` and
labels the pods ``gateway.networking.k8s.io/gateway-name: <gateway>`` (istio
``pilot/pkg/config/kube/gateway`` ``getDefaultName`` and deployment-controller tests, seen
2026-12-02; the app routing walkthrough lists ``httpbin-gateway-approuting-istio`` as the
Deployment, Service, HPA and PDB of Gateway ``httpbin-gateway``, and adds the internal
load-balancer annotation through ``spec.infrastructure.annotations``):
:func:`gateway_client` turns that into the mesh client the API server's allow rule admits.

Prerequisite the installed SDK cannot express (pulumi-azure-native 3.29.0 registers
ManagedCluster with REST 2025-09-01, which has no ``ingressProfile.gatewayAPI`` nor
``webAppRouting.gatewayAPIImplementations``; both arrived in 2026-02-01): turn on the
managed Gateway API CRDs and the Istio implementation once per cluster with
``az aks update --enable-gateway-api --enable-app-routing-istio`` (azure-cli >= 2.86.0).
"""

import re
from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi

from airflow_aks.components.mesh.base import (
    ChartSource,
    Client,
    Manifest,
    custom_resource,
    helm_chart,
    plain_namespace,
)
from airflow_aks.components.tokens import type_token

GATEWAY_API = "gateway.networking.k8s.io/v1"
HTTPS_PORT, HTTP_PORT = 443, 80
LISTENER_PORTS = (HTTPS_PORT, HTTP_PORT)
"""The Gateway's listener ports (the NetworkPolicy opens them on the gateway pods; Istio's
generated Envoy binds the listener port itself)."""
# The gateway pods get their configuration and certificates from istiod: in
# aks-istio-system for approuting-istio (aks-docs articles/aks/app-routing-gateway-api.md,
# changed 2026-07-01, read 2026-12-02), on 15012, "XDS and CA services (TLS and mTLS)"
# (istio.io "Application Requirements", ports used by Istio; istio 1.30.0
# manifests/charts/istio-control/istio-discovery/templates/service.yaml, read 2026-12-02).
ISTIOD_NAMESPACE = "aks-istio-system"
ISTIOD_PORTS = (15012,)
STATUS_PORT = 15021
"""The approuting-istio gateway's status (readiness) port: AKS publishes it on the gateway's
LoadBalancer Service next to the listeners (aks-docs app-routing-gateway-api.md, changed
2026-07-01, sample output ``15021:30580/TCP,80:32693/TCP``; read 2026-12-07), so the Azure
load balancer gets a rule and a health probe for it; Cilium enforces NetworkPolicy on that
traffic, so the gateway pods must admit it like the listeners."""
GATEWAY_CLASS = "approuting-istio"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
INTERNAL_LB_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-internal"
API_SERVER_PORT = 8080  # chart ports.apiServer
TLS_SECRET_SUFFIX = "gateway-tls"

TLS_CIPHER_SUITES = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
"""TLS 1.2 AEAD suites only (TLS 1.3 suites are always on in Envoy). No TLS 1.0/1.1 suite
is listed, so those protocols cannot complete a handshake even if a default changed.
Istio reads listener ``tls.options["gateway.istio.io/tls-cipher-suites"]`` (Istio 1.29
release notes, seen 2026-12-02); Istio's own downstream default minimum is TLS 1.2."""
CIPHER_OPTION = "gateway.istio.io/tls-cipher-suites"

JETSTACK_REPO = "https://charts.jetstack.io"
CERT_MANAGER = ChartSource("cert-manager", JETSTACK_REPO, "cert-manager")

_DNS = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class IssuerRef(TypedDict):
    """The cert-manager issuer that signs the host's certificate."""

    name: str
    """Issuer or ClusterIssuer name."""
    kind: str
    """``ClusterIssuer`` (cluster-wide) or ``Issuer`` (in the Airflow namespace); checked by
    :func:`certificate_manifest` (a plain ``str``: ``Literal`` fields are not analysable)."""


class CertManagerInstall(TypedDict):
    """Install cert-manager with the entrance (when no mesh brought it)."""

    version: str
    """cert-manager chart version (``vX.Y.Z``)."""
    ha: bool
    """Two controllers, three webhooks, PDBs."""


class GatewayPodSettings(TypedDict, total=False):
    """The mesh's ``gateway`` pod settings (``Mesh.pod_labels/annotations("gateway")``)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]


class EntranceArgs(TypedDict, total=False):
    """Arguments of :class:`Entrance`."""

    namespace: Required[str]
    """The Airflow namespace (Gateway, routes, certificate and Secret live there)."""
    host: Required[str]
    """DNS name people use, e.g. ``airflow.example.com``."""
    issuer: Required[IssuerRef]
    """Who signs the certificate."""
    release_name: str
    """Airflow Helm release (default ``airflow``): the API server Service is
    ``<release>-api-server``."""
    gateway_name: str
    """Gateway name (default ``airflow``)."""
    gateway_class: str
    """GatewayClass (default ``approuting-istio``)."""
    internal: bool
    """Private entrance: an internal Azure load balancer (VNet address only)."""
    mesh: GatewayPodSettings
    """How the gateway pods join the mesh."""
    cert_manager: CertManagerInstall
    """Set to install cert-manager here (Linkerd already installs it)."""


# ---------------------------------------------------------------- pure builders


def validate_host(host: str) -> str:
    if not _DNS.match(host or ""):
        raise ValueError(f"host {host!r} is not a lower-case DNS name like airflow.example.com")
    return host


def api_server_service(release: str) -> str:
    """The chart's API server Service (``useStandardNaming: false``)."""
    return f"{release}-api-server"


def tls_secret_name(gateway_name: str) -> str:
    return f"{gateway_name}-{TLS_SECRET_SUFFIX}"


def gateway_service_account(gateway_name: str, gateway_class: str = GATEWAY_CLASS) -> str:
    """Istio's deployment (and ServiceAccount) name for a Gateway."""
    return f"{gateway_name}-{gateway_class}"


def gateway_client(namespace: str, gateway_name: str, gateway_class: str = GATEWAY_CLASS) -> Client:
    """The gateway pods as a mesh client (Linkerd: ServiceAccount; Kuma: pod label)."""
    return Client(
        namespace,
        gateway_service_account(gateway_name, gateway_class),
        {GATEWAY_NAME_LABEL: gateway_name},
    )


def infrastructure(mesh: GatewayPodSettings, internal: bool) -> dict[str, dict[str, str]]:
    """``Gateway.spec.infrastructure``: labels/annotations Istio copies onto the pods (and
    Service) it generates."""
    annotations = dict(mesh.get("annotations", {}))
    if internal:
        annotations[INTERNAL_LB_ANNOTATION] = "true"
    out: dict[str, dict[str, str]] = {}
    if labels := dict(mesh.get("labels", {})):
        out["labels"] = labels
    if annotations:
        out["annotations"] = annotations
    return out


def gateway_manifest(
    namespace: str,
    host: str,
    gateway_name: str = "airflow",
    gateway_class: str = GATEWAY_CLASS,
    mesh: GatewayPodSettings | None = None,
    internal: bool = False,
) -> Manifest:
    """HTTPS (terminate, certificate Secret, strong suites) + HTTP (redirect only); routes
    only from the Gateway's own namespace."""
    same_ns = {"namespaces": {"from": "Same"}}
    spec: dict[str, object] = {
        "gatewayClassName": gateway_class,
        "listeners": [
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": HTTPS_PORT,
                "hostname": validate_host(host),
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [
                        {"group": "", "kind": "Secret", "name": tls_secret_name(gateway_name)}
                    ],
                    "options": {CIPHER_OPTION: ",".join(TLS_CIPHER_SUITES)},
                },
                "allowedRoutes": same_ns,
            },
            {
                "name": "http",
                "protocol": "HTTP",
                "port": HTTP_PORT,
                "hostname": host,
                "allowedRoutes": same_ns,
            },
        ],
    }
    if infra := infrastructure(mesh or {}, internal):
        spec["infrastructure"] = infra
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": gateway_name, "namespace": namespace},
        "spec": spec,
    }


def https_route_manifest(
    namespace: str, host: str, gateway_name: str = "airflow", release: str = "airflow"
) -> Manifest:
    """Everything on the host's HTTPS listener goes to the API server, and nowhere else."""
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": f"{gateway_name}-api-server", "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": gateway_name, "sectionName": "https"}],
            "hostnames": [validate_host(host)],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": api_server_service(release), "port": API_SERVER_PORT}],
                }
            ],
        },
    }


def redirect_route_manifest(namespace: str, host: str, gateway_name: str = "airflow") -> Manifest:
    """Plain HTTP on the host: a permanent redirect to HTTPS, no backend at all."""
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": f"{gateway_name}-https-redirect", "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": gateway_name, "sectionName": "http"}],
            "hostnames": [validate_host(host)],
            "rules": [
                {
                    "filters": [
                        {
                            "type": "RequestRedirect",
                            "requestRedirect": {"scheme": "https", "statusCode": 301},
                        }
                    ]
                }
            ],
        },
    }


def certificate_manifest(
    namespace: str, host: str, issuer: IssuerRef, gateway_name: str = "airflow"
) -> Manifest:
    """cert-manager ``Certificate`` for the host (ECDSA P-256, key rotated on renewal)."""
    if issuer.get("kind") not in ("Issuer", "ClusterIssuer"):
        raise ValueError(f"issuer kind {issuer.get('kind')!r}: use Issuer or ClusterIssuer")
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": tls_secret_name(gateway_name), "namespace": namespace},
        "spec": {
            "secretName": tls_secret_name(gateway_name),
            "dnsNames": [validate_host(host)],
            "duration": "2160h",  # 90 days
            "renewBefore": "720h",  # 30 days
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "usages": ["server auth", "digital signature"],
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": issuer["kind"],
                "name": issuer["name"],
            },
        },
    }


def cert_manager_values(ha: bool) -> dict[str, object]:
    """cert-manager with its CRDs kept on uninstall; HA replicas and PDBs in prod."""
    values: dict[str, object] = {
        "crds": {"enabled": True, "keep": True},
        "global": {"leaderElection": {"namespace": CERT_MANAGER.namespace}},
    }
    if ha:
        pdb = {"enabled": True, "minAvailable": 1}
        values |= {
            "replicaCount": 2,
            "podDisruptionBudget": pdb,
            "webhook": {"replicaCount": 3, "podDisruptionBudget": pdb},
            "cainjector": {"replicaCount": 2, "podDisruptionBudget": pdb},
        }
    return values


# ---------------------------------------------------------------------- component


class Entrance(pulumi.ComponentResource):
    """Gateway + HTTPRoutes + certificate for the Airflow UI and API."""

    url: pulumi.Output[str]
    """``https://<host>/``."""
    gateway_name: str
    """Name of the Gateway (its address: ``kubectl get gateway -n <ns> <name>``)."""
    gateway_service_account: str
    """ServiceAccount of the gateway pods (the identity the API server admits)."""

    def __init__(
        self, name: str, args: EntranceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        ns, host = args["namespace"], validate_host(args["host"])
        gw_name = args.get("gateway_name", "airflow")
        gw_class = args.get("gateway_class", GATEWAY_CLASS)
        release = args.get("release_name", "airflow")
        manifests = {
            "certificate": certificate_manifest(ns, host, args["issuer"], gw_name),
            "gateway": gateway_manifest(
                ns, host, gw_name, gw_class, args.get("mesh"), args.get("internal", False)
            ),
            "route": https_route_manifest(ns, host, gw_name, release),
            "redirect": redirect_route_manifest(ns, host, gw_name),
        }
        super().__init__(type_token(Entrance), name, {}, opts)
        deps: list[pulumi.Resource] = []
        if cm := args.get("cert_manager"):
            cm_ns = plain_namespace(
                f"{name}-cert-manager-ns",
                CERT_MANAGER.namespace,
                pulumi.ResourceOptions(parent=self),
            )
            deps.append(
                helm_chart(
                    f"{name}-cert-manager",
                    CERT_MANAGER,
                    cm["version"],
                    cert_manager_values(cm["ha"]),
                    pulumi.ResourceOptions(parent=self, depends_on=[cm_ns]),
                )
            )
        cert = custom_resource(
            f"{name}-certificate",
            manifests["certificate"],
            pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        gateway = custom_resource(
            f"{name}-gateway",
            manifests["gateway"],
            pulumi.ResourceOptions(parent=self, depends_on=[cert]),
        )
        for role in ("route", "redirect"):
            custom_resource(
                f"{name}-{role}",
                manifests[role],
                pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
        self.url = pulumi.Output.from_input(f"https://{host}/")
        self.gateway_name = gw_name
        self.gateway_service_account = gateway_service_account(gw_name, gw_class)
        self.register_outputs(
            {
                "url": self.url,
                "gateway_name": self.gateway_name,
                "gateway_service_account": self.gateway_service_account,
            }
        )
