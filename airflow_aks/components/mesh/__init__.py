"""Service mesh behind one switch: ``linkerd``, ``kuma`` or ``none``.

Callers use :func:`build_mesh` once and then only the :class:`Mesh` interface.
"""

from collections.abc import Sequence
from typing import TypedDict

import pulumi

from airflow_aks.components.mesh.base import (
    PROVIDERS,
    AllowRule,
    Client,
    Mesh,
    MeshBase,
    MeshProvider,
    NetworkNeeds,
    NoMesh,
    PodKind,
    WorkloadSelector,
    meshed_namespace,
    with_ready,
)

__all__ = [
    "PROVIDERS",
    "AllowRule",
    "Client",
    "Mesh",
    "MeshArgs",
    "MeshProvider",
    "NetworkNeeds",
    "NoMesh",
    "PodKind",
    "WorkloadSelector",
    "build_mesh",
    "detached_mesh",
    "meshed_namespace",
    "with_ready",
]


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


def build_mesh(
    provider: MeshProvider, name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None = None
) -> Mesh:
    """The mesh chosen by ``provider``; ``none`` registers no resource at all."""
    if provider == "linkerd":
        from airflow_aks.components.mesh.linkerd import Linkerd, LinkerdArgs

        largs = LinkerdArgs(
            version=_need(args, "linkerd_version"),
            cert_manager_version=_need(args, "cert_manager_version"),
            trust_manager_version=_need(args, "trust_manager_version"),
            ha=args.get("ha", False),
            viz=args.get("viz", False),
            cni=args.get("cni", False),
            install_gateway_api=args.get("install_gateway_api", True),
        )
        return Linkerd(name, largs, opts)
    if provider == "kuma":
        from airflow_aks.components.mesh.kuma import Kuma, KumaArgs

        kargs = KumaArgs(
            version=_need(args, "kuma_version"),
            cert_manager_version=_need(args, "cert_manager_version"),
            ha=args.get("ha", False),
            otel_endpoint=args.get("otel_endpoint"),
        )
        return Kuma(name, kargs, opts)
    if provider == "none":
        return NoMesh()
    raise ValueError(f"unknown mesh provider {provider!r}; expected one of {PROVIDERS}")


def detached_mesh(provider: MeshProvider, ready: Sequence[pulumi.Resource] = ()) -> Mesh:
    """The :class:`Mesh` interface of ``provider`` without its component: the same pure
    decisions and ``allow(...)``, waiting for ``ready`` — for a component that is handed
    only the provider's name (e.g. constructed from another language), the mesh itself
    being installed elsewhere."""
    if provider == "linkerd":
        from airflow_aks.components.mesh.linkerd import Linkerd as cls
    elif provider == "kuma":
        from airflow_aks.components.mesh.kuma import Kuma as cls  # type: ignore[assignment]
    elif provider == "none":
        return NoMesh()
    else:
        raise ValueError(f"unknown mesh provider {provider!r}; expected one of {PROVIDERS}")

    class _Detached(MeshBase):
        _provider_name = cls._provider_name
        _decisions = cls._decisions
        _ready = tuple(ready)

    return _Detached()


def _need(args: MeshArgs, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"mesh argument {key!r} is required for this provider")
    return value
