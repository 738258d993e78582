"""The one assembler: typed stack config -> component args -> resources.

Nothing here decides a setting; it only routes config into components. Validation runs
first and completely, so an invalid stack registers no resource at all.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import naming
from components.aks import Cluster, ClusterArgs, NodePoolArgs
from components.mesh import Mesh, build_mesh

from .config.base import ConfigError
from .config.mesh import mesh_args
from .config.stack import StackConfig, from_engine, load


def _pool(cfg: Any) -> NodePoolArgs:
    return NodePoolArgs(**cfg.model_dump(exclude={"enabled"}))  # type: ignore[typeddict-item]


def cluster_args(cfg: StackConfig) -> ClusterArgs:
    """Config -> :class:`components.aks.ClusterArgs`."""
    aks = cfg.aks
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    rg_name = cfg.resource_group.name or naming.resource_name("rg", prefix, env, loc)
    dumped = aks.model_dump(
        exclude={"system_pool", "workload_pool", "task_pool", "gpu_pool", "maintenance_window"}
    )
    return ClusterArgs(
        location=loc,
        tags=base_tags(cfg),
        resource_group_name=rg_name,
        existing_resource_group=cfg.resource_group.existing,
        cluster_name=naming.resource_name("aks", prefix, env, loc),
        workspace_name=naming.resource_name("log", prefix, env, loc),
        vnet_name=naming.resource_name("vnet", prefix, env, loc),
        network=cfg.network.model_dump(),
        maintenance_window=aks.maintenance_window.model_dump(),
        system_pool=_pool(aks.system_pool),
        user_pools=[_pool(p) for p in aks.pools()[1:]],
        **dumped,
    )


def base_tags(cfg: StackConfig) -> dict[str, str]:
    return {
        "project": "airflow-aks",
        "environment": cfg.environment,
        "managed-by": "pulumi",
        **cfg.tags,
    }


def build_platform_mesh(cfg: StackConfig, cluster: Cluster) -> Mesh:
    """The mesh chosen by ``mesh.provider``, HA in prod, on the cluster's k8s provider,
    after the cluster and its node pools exist (control planes do not tolerate the
    CriticalAddonsOnly system pool)."""
    return build_mesh(
        cfg.mesh.provider,
        "mesh",
        mesh_args(cfg.mesh, ha=cfg.production),
        pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
    )


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create the platform for a validated config; returns the stack outputs."""
    cluster = Cluster("aks", cluster_args(cfg))
    outputs: dict[str, Any] = {
        "environment": cfg.environment,
        "location": cfg.location,
        "resourceGroupName": cluster.resource_group_name,
        "clusterName": cluster.cluster_name,
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "kubeconfig": cluster.kubeconfig,
    }
    mesh = build_platform_mesh(cfg, cluster)
    outputs["meshProvider"] = mesh.provider
    return outputs


def main() -> None:
    """Program entry for ``pulumi up`` and the offline plan."""
    try:
        cfg = load(from_engine(), pulumi.get_stack())
    except ConfigError as err:
        # RunError prints the message without a Python traceback.
        raise pulumi.RunError(str(err)) from None
    for key, value in build(cfg).items():
        pulumi.export(key, value)
