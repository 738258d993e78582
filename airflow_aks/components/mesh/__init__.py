"""Service mesh behind one switch: ``linkerd``, ``kuma`` or ``none``.

Callers use :func:`build_mesh` once and then only the :class:`Mesh` interface; what else
they need to know about a mesh comes from its :data:`REGISTRY` entry (``registry.py``).
"""

from airflow_aks.components.mesh.base import (
    PROVIDERS,
    AllowRule,
    Client,
    Mesh,
    MeshProvider,
    NetworkNeeds,
    NoMesh,
    PodKind,
    WorkloadSelector,
    meshed_namespace,
    with_ready,
)
from airflow_aks.components.mesh.registry import (
    REGISTRY,
    MeshArgs,
    MeshEntry,
    build_mesh,
    components,
    detached_mesh,
    injection_opt_out,
    installs_cert_manager,
)

__all__ = [
    "PROVIDERS",
    "REGISTRY",
    "AllowRule",
    "Client",
    "Mesh",
    "MeshArgs",
    "MeshEntry",
    "MeshProvider",
    "NetworkNeeds",
    "NoMesh",
    "PodKind",
    "WorkloadSelector",
    "build_mesh",
    "components",
    "detached_mesh",
    "injection_opt_out",
    "installs_cert_manager",
    "meshed_namespace",
    "with_ready",
]
