"""The small mesh interface the rest of the platform talks to.

The Airflow component and future data-domain namespaces only ever see a :class:`Mesh`:
which labels and annotations make a namespace or a pod part of the mesh, which settings a
run-to-completion pod needs so it can finish, how to allow a set of ServiceAccounts to reach
a workload, and which resources must exist before anything is injected. Which mesh runs
(Linkerd, Kuma, or none) is decided once, by :func:`airflow_aks.components.mesh.build_mesh`.

The interface data and rules here are plain data and pure functions. :class:`MeshBase`
implements the interface once from a provider's pure functions (:class:`MeshDecisions`); the
helpers at the end (namespaces, chart installs, custom resources) are what the provider
components share to turn their values and manifests into Kubernetes objects.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import pulumi
import pulumi_kubernetes as k8s

MeshProvider = Literal["linkerd", "kuma", "none"]
"""The value of the ``mesh.provider`` switch."""

PodKind = Literal["service", "job", "gateway"]
"""``service``: long-running pods (API server, scheduler, ...). ``job``: run-to-completion
pods (KubernetesExecutor task pods, KubernetesPodOperator pods, migration / user Jobs) that
must be able to finish, i.e. run their proxy as a native sidecar or not be meshed at all.
``gateway``: the entrance's gateway pods, the mesh boundary — they accept traffic from
outside the mesh (the load balancer) and call meshed workloads over mTLS with their own
identity."""

Manifest = dict[str, Any]
"""A Kubernetes object as a plain dict: apiVersion, kind, metadata, spec."""

PROVIDERS: tuple[MeshProvider, ...] = ("linkerd", "kuma", "none")


@dataclass(frozen=True)
class WorkloadSelector:
    """The pods and the port a permission opens up."""

    labels: Mapping[str, str]
    """Pod labels selecting the target pods (all must match)."""
    port: int
    """Container port the clients connect to."""
    port_name: str
    """Name of that container port (documentation and object names; policies match the
    number, so a chart renaming its port cannot silently empty a Server)."""
    protocol: Literal["http", "opaque"] = "http"
    """``opaque`` for server-speaks-first / non-HTTP protocols (Postgres, PgBouncer)."""

    def __post_init__(self) -> None:
        if not self.labels:
            raise ValueError("a WorkloadSelector needs at least one pod label")
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port} out of range")


@dataclass(frozen=True)
class Client:
    """One workload allowed to connect: identified by its ServiceAccount (Linkerd's
    identity) and by its pod labels (Kuma's builtin-CA identity is tag based)."""

    namespace: str
    service_account: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Pod labels of the client; Kuma matches them as data-plane tags. When empty, Kuma
    allows the whole client namespace (``k8s.kuma.io/namespace``)."""


@dataclass(frozen=True)
class AllowRule:
    """``clients`` may reach ``target`` in ``namespace`` — and, under default deny, nobody
    else may."""

    name: str
    """Kubernetes name of the policy objects (DNS-1123 label)."""
    namespace: str
    target: WorkloadSelector
    clients: tuple[Client, ...]

    def __post_init__(self) -> None:
        if not self.clients:
            raise ValueError(f"allow rule {self.name!r} has no clients")
        if not _is_dns_label(self.name):
            raise ValueError(f"allow rule name {self.name!r} is not a DNS-1123 label")


def _is_dns_label(value: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value))


@dataclass(frozen=True)
class NetworkNeeds:
    """What a meshed pod's Kubernetes NetworkPolicy must let through for the mesh itself
    (a default-deny policy that forgets these breaks every meshed pod)."""

    control_plane_namespace: str | None = None
    """Namespace of the control plane the proxies connect to."""
    control_plane_ports: tuple[int, ...] = ()
    """Ports of the control plane the proxies connect to (egress)."""
    inbound_proxy_ports: tuple[int, ...] = ()
    """Ports meshed clients connect to instead of the app port (ingress)."""
    scrape_namespace: str | None = None
    """Namespace of the mesh's metrics scraper (e.g. linkerd-viz's Prometheus), if any."""
    scrape_ports: tuple[int, ...] = ()
    """Proxy ports it scrapes on every meshed pod (ingress)."""
    telemetry_namespace: str | None = None
    """Namespace of the collector the proxies themselves send traces to, if any."""
    telemetry_ports: tuple[int, ...] = ()
    """Its ports (egress from every meshed pod)."""


@dataclass(frozen=True)
class SidecarToken:
    """How a meshed pod whose containers mount no Kubernetes token (ServiceAccount or pod
    ``automountServiceAccountToken: false``) still hands one to the mesh's sidecar: a
    projected ServiceAccount-token volume that only the sidecar mounts, named by a pod
    annotation. ``None`` on :meth:`Mesh.sidecar_token` when the sidecar needs nothing of
    the pod (its injector adds its own token volume)."""

    annotation: str
    """Pod annotation whose value names the volume (read by the mesh's injector)."""
    volume_name: str
    """Name of the pod volume carrying the token."""
    audience: str | None = None
    """Token audience the control plane expects (``None``: the API server's default, what
    a ``TokenReview`` without audiences accepts)."""
    expiration_seconds: int = 3607
    """Token lifetime; the kubelet refreshes a projected token before 80% of it (Kubernetes
    "Configure Service Accounts for Pods", projected volume; 3607 is the kubelet's own
    choice for the automounted token)."""

    def annotations(self) -> dict[str, str]:
        return {self.annotation: self.volume_name}

    def volume(self) -> dict[str, Any]:
        source: dict[str, Any] = {"path": "token", "expirationSeconds": self.expiration_seconds}
        if self.audience:
            source["audience"] = self.audience
        return {
            "name": self.volume_name,
            "projected": {"sources": [{"serviceAccountToken": source}]},
        }


@runtime_checkable
class Mesh(Protocol):
    """What callers may rely on, whichever mesh runs."""

    @property
    def provider(self) -> MeshProvider:
        """``linkerd``, ``kuma`` or ``none``."""
        ...

    @property
    def ready(self) -> list[pulumi.Resource]:
        """Resources app namespaces and charts must depend on: the control plane (and its
        admission webhook) exists before any pod is created for injection."""
        ...

    def namespace_labels(self) -> dict[str, str]:
        """Labels for a meshed application namespace."""
        ...

    def namespace_annotations(self) -> dict[str, str]:
        """Annotations for a meshed application namespace (default-deny inbound, ...)."""
        ...

    def pod_labels(self, kind: PodKind) -> dict[str, str]:
        """Labels for a pod template of the given kind."""
        ...

    def pod_annotations(self, kind: PodKind) -> dict[str, str]:
        """Annotations for a pod template of the given kind."""
        ...

    def allow(
        self,
        name: str,
        namespace: str,
        target: WorkloadSelector,
        clients: Sequence[Client],
        opts: pulumi.ResourceOptions | None = None,
    ) -> list[pulumi.Resource]:
        """Create the provider's authorization objects letting ``clients`` reach
        ``target``; returns them (empty for ``none``)."""
        ...

    def network_needs(self) -> NetworkNeeds:
        """Control-plane and proxy ports NetworkPolicies of meshed pods must allow."""
        ...

    def sidecar_token(self) -> SidecarToken | None:
        """What a meshed pod without an automounted token must carry so the sidecar can
        authenticate to the control plane (``None``: nothing)."""
        ...


@dataclass(frozen=True)
class MeshDecisions:
    """A provider's pure functions, behind the :class:`Mesh` methods of the same names."""

    namespace_labels: Callable[[], dict[str, str]]
    namespace_annotations: Callable[[], dict[str, str]]
    pod_labels: Callable[[PodKind], dict[str, str]]
    pod_annotations: Callable[[PodKind], dict[str, str]]
    allow_manifests: Callable[[AllowRule], list[Manifest]]
    network: NetworkNeeds = NetworkNeeds()
    sidecar_token: SidecarToken | None = None


class MeshBase:
    """The :class:`Mesh` interface, implemented once: a provider sets ``provider`` and
    ``decisions`` (as ``_provider_name`` / ``_decisions``, private so the schema analyzer
    does not publish them as outputs); a provider component also sets ``_ready`` in its
    ``__init__``."""

    _provider_name: ClassVar[MeshProvider]
    _decisions: ClassVar[MeshDecisions]
    _ready: tuple[pulumi.Resource, ...] = ()

    @property
    def provider(self) -> MeshProvider:
        """``linkerd``, ``kuma`` or ``none``."""
        return self._provider_name

    @property
    def decisions(self) -> MeshDecisions:
        """The provider's pure functions."""
        return self._decisions

    @property
    def ready(self) -> list[pulumi.Resource]:
        return list(self._ready)

    def namespace_labels(self) -> dict[str, str]:
        return self.decisions.namespace_labels()

    def namespace_annotations(self) -> dict[str, str]:
        return self.decisions.namespace_annotations()

    def pod_labels(self, kind: PodKind) -> dict[str, str]:
        return self.decisions.pod_labels(kind)

    def pod_annotations(self, kind: PodKind) -> dict[str, str]:
        return self.decisions.pod_annotations(kind)

    def network_needs(self) -> NetworkNeeds:
        return self.decisions.network

    def sidecar_token(self) -> SidecarToken | None:
        return self.decisions.sidecar_token

    def allow(
        self,
        name: str,
        namespace: str,
        target: WorkloadSelector,
        clients: Sequence[Client],
        opts: pulumi.ResourceOptions | None = None,
    ) -> list[pulumi.Resource]:
        """Validate the rule, then one ``CustomResource`` per manifest of the provider,
        named ``<namespace>-<name>-<kind>`` and created once the mesh is ready."""
        rule = AllowRule(name, namespace, target, tuple(clients))
        ro = with_ready(self, opts)
        return [
            custom_resource(f"{namespace}-{name}-{m['kind'].lower()}", m, ro)
            for m in self.decisions.allow_manifests(rule)
        ]


def _no_metadata() -> dict[str, str]:
    return {}


def _no_pod_metadata(kind: PodKind) -> dict[str, str]:
    return {}


def _no_manifests(rule: AllowRule) -> list[Manifest]:
    return []


class NoMesh(MeshBase):
    """``mesh.provider: none``: no objects, no labels, no annotations (rules are still
    validated like the others)."""

    _provider_name: ClassVar[MeshProvider] = "none"
    _decisions = MeshDecisions(
        _no_metadata, _no_metadata, _no_pod_metadata, _no_pod_metadata, _no_manifests
    )


def with_ready(mesh: Mesh, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """``opts`` plus a dependency on ``mesh.ready`` (merged, never replaced)."""
    extra = pulumi.ResourceOptions(depends_on=list(mesh.ready))
    return pulumi.ResourceOptions.merge(opts or pulumi.ResourceOptions(), extra)


def meshed_namespace(
    mesh: Mesh,
    resource_name: str,
    namespace: str,
    opts: pulumi.ResourceOptions | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.core.v1.Namespace:
    """A Namespace carrying the mesh's labels and annotations (which win over the given
    ones), created only once the mesh control plane is ready — for the Airflow namespace
    and the data-domain ones."""
    return plain_namespace(
        resource_name,
        namespace,
        with_ready(mesh, opts),
        labels={**(labels or {}), **mesh.namespace_labels()},
        annotations={**(annotations or {}), **mesh.namespace_annotations()} or None,
    )


# ------------------------------------------------ helpers for the provider components


def child_options(parent: pulumi.Resource) -> Callable[..., pulumi.ResourceOptions]:
    """``child(*deps)``: options of a child of ``parent`` created after ``deps``."""

    def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, depends_on=list(deps))

    return child


def plain_namespace(
    resource_name: str,
    namespace: str,
    opts: pulumi.ResourceOptions,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.core.v1.Namespace:
    """A Namespace with the given metadata (control-plane and app namespaces alike)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels, annotations=annotations),
        opts=opts,
    )


@dataclass(frozen=True)
class ChartSource:
    """Which Helm chart, from which repository, installed into which namespace."""

    chart: str
    repo: str
    namespace: str


def helm_chart(
    resource_name: str,
    source: ChartSource,
    version: str,
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    namespace: pulumi.Input[str] | None = None,
) -> k8s.helm.v4.Chart:
    """A pinned chart install (Helm v4 ``Chart``: rendered by Pulumi, no Helm release).

    ``namespace`` may be the Namespace resource's output name: pulumi-kubernetes renders a
    v4 Chart only once its inputs are known (``helm/v4/chart.go``), so the chart's
    ``lookup`` calls then run after that Namespace (and what it waits for) exists."""
    return k8s.helm.v4.Chart(
        resource_name,
        chart=source.chart,
        version=version,
        namespace=source.namespace if namespace is None else namespace,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=source.repo),
        values=values,
        opts=opts,
    )


WAIT_READY = {"pulumi.com/waitFor": "condition=Ready"}
"""Annotation making pulumi-kubernetes wait for a custom resource's ``Ready`` condition (a
cert-manager Certificate is Ready once its Secret is issued), so what depends on it starts
after the Secret exists (pulumi-kubernetes generic await, ``pulumi.com/waitFor``)."""


def name_of(namespace: k8s.core.v1.Namespace, fallback: str) -> pulumi.Output[str]:
    """A Namespace's name as an output: known once the Namespace exists."""
    return namespace.metadata.apply(lambda m: (m.name if m else None) or fallback)


def custom_resource(
    resource_name: str, manifest: Manifest, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A ``CustomResource`` from a plain manifest built by the pure functions."""
    unexpected = set(manifest) - {"apiVersion", "kind", "metadata", "spec"}
    if unexpected:
        raise ValueError(f"unsupported top-level keys {sorted(unexpected)} in {manifest['kind']}")
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest.get("spec"),
        opts=opts,
    )
