"""The meshes the platform knows, and what each tells the rest of the program.

Everything outside ``components/mesh/`` that depends on which mesh runs reads it from here
(or from the :class:`~airflow_aks.components.mesh.base.Mesh` interface): how to build it,
how its interface looks without its component, whether its component installs
cert-manager, how a namespace opts out of its injection, and which components the provider
host publishes. A third mesh is one module (its component and pure decisions) plus one
:data:`REGISTRY` entry and its name in ``base.MeshProvider`` / ``base.PROVIDERS``.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import pulumi

from airflow_aks.components.mesh import kuma, linkerd
from airflow_aks.components.mesh.base import (
    PROVIDERS,
    Mesh,
    MeshBase,
    MeshDecisions,
    MeshProvider,
    NoMesh,
)


class MeshArgs(TypedDict, total=False):
    """Everything any mesh needs; each provider reads its own keys."""

    ha: bool
    """High availability (prod)."""
    linkerd_version: str
    """Linkerd edge chart version (``YYYY.M.N``)."""
    cert_manager_version: str
    """cert-manager chart version (``vX.Y.Z``): Linkerd's identity and webhook certificates,
    Kuma's webhook certificate."""
    trust_manager_version: str
    """trust-manager chart version (``vX.Y.Z``), Linkerd only."""
    viz: bool
    """Linkerd only: install linkerd-viz."""
    cni: bool
    """Linkerd only: use the linkerd2-cni plugin."""
    install_gateway_api: bool
    """Linkerd only: let linkerd-crds install the Gateway API CRDs."""
    kuma_version: str
    """``kuma`` chart version (``X.Y.Z``)."""
    otel_endpoint: str | None
    """Kuma only: OpenTelemetry collector ``host:port`` for a MeshTrace."""


Build = Callable[[str, MeshArgs, pulumi.ResourceOptions | None], Mesh]


@dataclass(frozen=True)
class MeshEntry:
    """One mesh as the rest of the program sees it."""

    name: MeshProvider
    """The ``mesh.provider`` value selecting it."""
    build: Build
    """Registers the mesh (its component) from the common :class:`MeshArgs`."""
    decisions: MeshDecisions
    """Its pure decisions (labels, annotations, allow manifests, network needs): the
    :class:`Mesh` interface without the component (:func:`detached_mesh`)."""
    component: type[pulumi.ComponentResource] | None
    """The component the provider host publishes (None: nothing to publish)."""
    installs_cert_manager: bool
    """Its component installs cert-manager (so nothing else may)."""
    opt_out_labels: Mapping[str, str] = field(default_factory=dict)
    """Namespace labels that keep its injector away (node-level add-ons)."""
    opt_out_annotations: Mapping[str, str] = field(default_factory=dict)
    """Namespace annotations that keep its injector away."""


def _need(args: MeshArgs, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"mesh argument {key!r} is required for this provider")
    return value


def _build_linkerd(name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None) -> Mesh:
    return linkerd.Linkerd(
        name,
        linkerd.LinkerdArgs(
            version=_need(args, "linkerd_version"),
            cert_manager_version=_need(args, "cert_manager_version"),
            trust_manager_version=_need(args, "trust_manager_version"),
            ha=args.get("ha", False),
            viz=args.get("viz", False),
            cni=args.get("cni", False),
            install_gateway_api=args.get("install_gateway_api", True),
        ),
        opts,
    )


def _build_kuma(name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None) -> Mesh:
    return kuma.Kuma(
        name,
        kuma.KumaArgs(
            version=_need(args, "kuma_version"),
            cert_manager_version=_need(args, "cert_manager_version"),
            ha=args.get("ha", False),
            otel_endpoint=args.get("otel_endpoint"),
        ),
        opts,
    )


def _build_none(name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None) -> Mesh:
    return NoMesh()


# Opt-out metadata, moved unchanged from components/gpu.py. Linkerd: "Automatic injection can
# be disabled ... by adding the linkerd.io/inject: disabled annotation"
# (https://linkerd.io/2/features/proxy-injection/, read 2026-12-07). Kuma's label value was
# not re-checked in this change (kuma.py documents ``false`` for its system namespace).
REGISTRY: dict[str, MeshEntry] = {
    "linkerd": MeshEntry(
        name="linkerd",
        build=_build_linkerd,
        decisions=linkerd.Linkerd._decisions,
        component=linkerd.Linkerd,
        installs_cert_manager=True,
        opt_out_annotations={"linkerd.io/inject": "disabled"},
    ),
    "kuma": MeshEntry(
        name="kuma",
        build=_build_kuma,
        decisions=kuma.Kuma._decisions,
        component=kuma.Kuma,
        installs_cert_manager=True,
        opt_out_labels={"kuma.io/sidecar-injection": "disabled"},
    ),
    "none": MeshEntry(
        name="none",
        build=_build_none,
        decisions=NoMesh._decisions,
        component=None,
        installs_cert_manager=False,
    ),
}
assert tuple(REGISTRY) == PROVIDERS, "base.PROVIDERS and REGISTRY name the same meshes"
assert all(k == e.name for k, e in REGISTRY.items())


def entry(provider: str) -> MeshEntry:
    """The registry entry of ``provider``; a clear error for an unknown one."""
    if provider not in REGISTRY:
        raise ValueError(f"unknown mesh provider {provider!r}; expected one of {PROVIDERS}")
    return REGISTRY[provider]


def build_mesh(
    provider: MeshProvider, name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None = None
) -> Mesh:
    """The mesh chosen by ``provider``; ``none`` registers no resource at all."""
    return entry(provider).build(name, args, opts)


def detached_mesh(provider: str, ready: Sequence[pulumi.Resource] = ()) -> Mesh:
    """The :class:`Mesh` interface of ``provider`` without its component: the same pure
    decisions and ``allow(...)``, waiting for ``ready`` — for a component that is handed
    only the provider's name (e.g. constructed from another language), the mesh itself
    being installed elsewhere."""
    e = entry(provider)
    if e.component is None:
        return NoMesh()

    name = e.name

    class _Detached(MeshBase):
        _provider_name = name
        _decisions = e.decisions
        _ready = tuple(ready)

    return _Detached()


def installs_cert_manager(provider: str) -> bool:
    """Whether ``provider``'s component installs cert-manager (else who needs it must)."""
    return entry(provider).installs_cert_manager


def components() -> list[type[pulumi.ComponentResource]]:
    """The mesh components the provider host publishes, in registry order."""
    return [e.component for e in REGISTRY.values() if e.component is not None]


def injection_opt_out() -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations) keeping every known mesh's injector out of a namespace
    (a node-level add-on is never meshed, whichever mesh runs)."""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for e in REGISTRY.values():
        labels |= e.opt_out_labels
        annotations |= e.opt_out_annotations
    return labels, annotations
