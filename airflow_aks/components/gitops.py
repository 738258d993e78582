"""GitOps: Flux (the AKS ``microsoft.flux`` extension) and an Entra ID operators group.

The identities CI deploys with are not here: the pipeline bootstrap creates them
(:mod:`airflow_aks.components.delivery`), outside the stack they deploy.

Access is granted at Kubernetes-namespace scope through Azure RBAC for Kubernetes
(``<cluster id>/namespaces/<ns>``), never cluster-wide and never on the resource group.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import kubernetesconfiguration

from airflow_aks.components.tokens import type_token

from .identity import role_assignment


def kustomization_specs(kustomizations: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """FluxConfiguration ``kustomizations`` with dependencies checked (known, acyclic)."""
    names = set(kustomizations)
    graph = {n: list(k.get("depends_on", ())) for n, k in kustomizations.items()}
    for name, deps in graph.items():
        missing = sorted(set(deps) - names)
        if missing:
            raise ValueError(f"kustomization {name!r} depends on unknown {missing}")
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 1:
            raise ValueError(f"kustomization dependency cycle: {' -> '.join([*path, n])}")
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in graph[n]:
            visit(d, [*path, n])
        state[n] = 2

    for n in sorted(graph):
        visit(n, [])
    return {
        name: {
            "path": k["path"],
            "depends_on": list(k.get("depends_on", ())),
            "prune": k.get("prune", True),
            # wait: a dependent kustomization starts only once this one is healthy.
            "wait": k.get("wait", True),
            "sync_interval_in_seconds": k.get("sync_interval_seconds", 600),
            "timeout_in_seconds": k.get("timeout_seconds", 600),
        }
        for name, k in kustomizations.items()
    }


def flux_settings(*, multi_tenancy: bool = True) -> dict[str, str]:
    """Extension configuration: multi-tenancy lockdown, no image automation, no Azure identity."""
    return {
        # Tenants' Kustomizations cannot impersonate cluster-admin or cross namespaces.
        "multiTenancy.enforce": "true" if multi_tenancy else "false",
        "helm-controller.enabled": "true",
        "source-controller.enabled": "true",
        "kustomize-controller.enabled": "true",
        "notification-controller.enabled": "true",
        # Image automation would write to Git from the cluster: the DAG/CI does that instead.
        "image-automation-controller.enabled": "false",
        "image-reflector-controller.enabled": "false",
        # Off: nothing here needs Flux to reach Azure (Git over https/ssh). Turning it on
        # needs workloadIdentity.azureClientId plus federated credentials for the
        # flux-system source-/kustomize-controller ServiceAccounts (Flux GitOps tutorial,
        # azure-management-docs 2026-06); the policy flux-workload-identity-complete checks.
        "workloadIdentity.enable": "false",
        "useKubeletIdentity": "false",
    }


def cluster_grants(level: str, namespaces: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(logical suffix, role, namespace or None for the cluster) for one principal.

    Cluster User Role only lets it fetch a kubeconfig; what it may do inside comes from
    Azure RBAC for Kubernetes at namespace scope, never cluster-wide.
    """
    if level not in ("Reader", "Writer"):
        raise ValueError(f"level {level!r}: use 'Reader' or 'Writer'")
    grants: list[tuple[str, str, str | None]] = [
        ("cluster-user", "Azure Kubernetes Service Cluster User Role", None)
    ]
    grants += [(ns, f"Azure Kubernetes Service RBAC {level}", ns) for ns in namespaces]
    return grants


class GitOpsArgs(TypedDict, total=False):
    """Arguments of :class:`GitOps`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the cluster."""
    cluster_name: Required[pulumi.Input[str]]
    """Name of the ManagedCluster."""
    cluster_id: Required[pulumi.Input[str]]
    """ARM id of the ManagedCluster (scope for namespace-level grants)."""
    name_prefix: Required[str]
    """Prefix for Entra display names, e.g. ``airflow-aks-dev``."""
    repository_url: Required[str]
    """Git repository Flux reconciles (https:// or ssh://)."""
    branch: str
    """Branch Flux follows."""
    sync_interval_seconds: int
    """How often Flux polls the repository."""
    local_auth_secret: str | None
    """Kubernetes Secret in ``flux-system`` with Git credentials (private repositories)."""
    kustomizations: Required[Mapping[str, Mapping[str, Any]]]
    """name -> {path, depends_on, prune, wait, sync_interval_seconds}."""
    release_train: str
    """Extension release train (``stable``)."""
    version: str | None
    """Pinned extension version; None follows the release train's minor upgrades."""
    deploy_namespaces: Sequence[str]
    """Namespaces where operators get Azure RBAC for Kubernetes (read)."""
    operators_group: bool
    """Create an Entra security group of platform operators."""


class GitOps(pulumi.ComponentResource):
    """Flux extension + configuration and an operators group."""

    operators_group_id: pulumi.Output[str] | None
    """Object id of the Entra operators group."""
    flux_configuration_name: pulumi.Output[str]
    """Name of the FluxConfiguration."""

    def __init__(self, name: str, args: GitOpsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token(GitOps), name, {}, opts)
        # Decide everything before registering children: bad input registers nothing more.
        specs = kustomization_specs(args["kustomizations"])
        child = pulumi.ResourceOptions(parent=self)
        version = args.get("version")
        extension = kubernetesconfiguration.Extension(
            f"{name}-flux",
            extension_name="flux",
            extension_type="microsoft.flux",
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=args["cluster_name"],
            resource_group_name=args["resource_group_name"],
            release_train=args.get("release_train", "stable"),
            auto_upgrade_minor_version=version is None,
            version=version,
            configuration_settings=flux_settings(),
            scope={"cluster": {"release_namespace": "flux-system"}},
            opts=child,
        )
        git: dict[str, Any] = {
            "url": args["repository_url"],
            "repository_ref": {"branch": args.get("branch", "main")},
            "sync_interval_in_seconds": args.get("sync_interval_seconds", 300),
            "timeout_in_seconds": 600,
        }
        if secret := args.get("local_auth_secret"):
            git["local_auth_ref"] = secret
        flux = kubernetesconfiguration.FluxConfiguration(
            f"{name}-config",
            flux_configuration_name=f"{args['name_prefix']}-platform"[:30],
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=args["cluster_name"],
            resource_group_name=args["resource_group_name"],
            namespace="flux-system",
            scope="cluster",
            source_kind="GitRepository",
            git_repository=git,  # type: ignore[arg-type]
            kustomizations=specs,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[extension]),
        )
        self.flux_configuration_name = flux.name
        namespaces = list(args.get("deploy_namespaces", ()))

        self.operators_group_id = None
        if args.get("operators_group", True):
            group = azuread.Group(
                f"{name}-operators",
                display_name=f"{args['name_prefix']}-operators",
                description="Operators of the airflow-aks platform (namespace-scoped access)",
                security_enabled=True,
                prevent_duplicate_names=True,
                opts=child,
            )
            self.operators_group_id = group.object_id
            self._grant(
                f"{name}-operators",
                group.object_id,
                "Group",
                args["cluster_id"],
                cluster_grants("Reader", namespaces),
            )

        self.register_outputs(
            {
                "operators_group_id": self.operators_group_id,
                "flux_configuration_name": self.flux_configuration_name,
            }
        )

    def _grant(
        self,
        name: str,
        principal_id: pulumi.Input[str],
        principal_type: str,
        cluster_id: pulumi.Input[str],
        grants: Sequence[tuple[str, str, str | None]],
    ) -> None:
        for suffix, role, namespace in grants:
            role_assignment(
                f"{name}-{suffix}",
                principal_id=principal_id,
                role=role,
                scope=pulumi.Output.from_input(cluster_id).apply(
                    lambda c, ns=namespace: f"{c}/namespaces/{ns}" if ns else c
                ),
                principal_type=principal_type,
                opts=pulumi.ResourceOptions(parent=self),
            )
