"""The one assembler: typed stack config -> component args -> resources.

Nothing here decides a setting; it only routes config into components. Validation runs
first and completely, so an invalid stack registers no resource at all.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import features

from airflow_aks.components import naming
from airflow_aks.components.airflow import mesh_paths
from airflow_aks.components.airflow.component import Airflow, AirflowArgs, DomainTasksArgs
from airflow_aks.components.airflow.network_policies import STATSD_INGEST_PORT
from airflow_aks.components.airflow.values import WORKLOAD_IDENTITY_LABEL, ServiceAccountNames
from airflow_aks.components.aks import (
    ENCRYPTION_AT_HOST,
    Cluster,
    ClusterArgs,
    ClusterNetworkArgs,
    MaintenanceWindowArgs,
    NodePoolArgs,
    feature_commands,
    feature_problem,
)
from airflow_aks.components.database import EntraAdmin, MetadataDatabase, MetadataDatabaseArgs
from airflow_aks.components.domains import (
    DOMAIN_LABEL,
    AirflowPeerArgs,
    DataDomain,
    DataDomainArgs,
)
from airflow_aks.components.entrance import (
    GATEWAY_CLASS,
    ISTIOD_NAMESPACE,
    ISTIOD_PORTS,
    LISTENER_PORTS,
    Entrance,
    EntranceArgs,
    gateway_client,
)
from airflow_aks.components.gitops import GitOps, GitOpsArgs
from airflow_aks.components.gpu import NvidiaDevicePlugin, NvidiaDevicePluginArgs
from airflow_aks.components.mesh import Mesh, build_mesh
from airflow_aks.components.scheduling import PodPlacementArgs, pool_placement
from airflow_aks.components.secrets import Vault, VaultArgs
from airflow_aks.components.signin import EntraSignIn, SignInArgs
from airflow_aks.components.storage import LogStorage, LogStorageArgs
from airflow_aks.config.airflow import airflow_component_args
from airflow_aks.config.base import ConfigError
from airflow_aks.config.domains import domain_component_args, inbound_by_domain
from airflow_aks.config.mesh import mesh_args
from airflow_aks.config.stack import StackConfig, from_engine, load

_PARENT: ContextVar[pulumi.Resource | None] = ContextVar("airflow_aks_parent", default=None)
"""Set by :class:`airflow_aks.program.platform.Platform` while it builds the stack under itself."""


def _opts(**kw: Any) -> pulumi.ResourceOptions:
    """Options of a top-level component: a child of the Platform component when one is
    building (``parent=None`` otherwise, i.e. the stack, as in ``pulumi up``)."""
    return pulumi.ResourceOptions(parent=_PARENT.get(), **kw)


def _pool(cfg: Any) -> NodePoolArgs:
    dumped = cfg.model_dump(exclude={"enabled", "device_plugin_version"})
    return NodePoolArgs(**dumped)  # type: ignore[typeddict-item]


def cluster_args(cfg: StackConfig) -> ClusterArgs:
    """Config -> :class:`airflow_aks.components.aks.ClusterArgs`."""
    aks = cfg.aks
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    rg_name = cfg.resource_group.name or naming.resource_name("rg", prefix, env, loc)
    dumped = aks.model_dump(
        exclude={
            "system_pool",
            "workload_pool",
            "task_pool",
            "gpu_pool",
            "maintenance_window",
            "check_subscription_features",  # a program preflight, not a cluster setting
        }
    )
    return ClusterArgs(
        location=loc,
        tags=base_tags(cfg),
        resource_group_name=rg_name,
        existing_resource_group=cfg.resource_group.existing,
        cluster_name=naming.resource_name("aks", prefix, env, loc),
        workspace_name=naming.resource_name("log", prefix, env, loc),
        vnet_name=naming.resource_name("vnet", prefix, env, loc),
        network=ClusterNetworkArgs(**cfg.network.model_dump()),
        maintenance_window=MaintenanceWindowArgs(**aks.maintenance_window.model_dump()),
        system_pool=_pool(aks.system_pool),
        user_pools=[_pool(p) for p in aks.pools()[1:]],
        **dumped,
    )


def pool_placement_args(pool: Any, config_key: str) -> PodPlacementArgs:
    """A pool's config -> the placement (tolerations + node selection) of its pods."""
    return pool_placement(
        pool.name, pool.taints, pool.labels, spot=pool.spot, config_key=config_key
    ).as_args()


def task_placements(cfg: StackConfig) -> dict[str, PodPlacementArgs | None]:
    """``task_placement`` (task pool) and ``gpu_placement`` (GPU pool, if enabled)."""
    gpu = cfg.aks.gpu_pool
    return {
        "task_placement": pool_placement_args(cfg.aks.task_pool, "aks.taskPool"),
        "gpu_placement": (
            pool_placement_args(gpu, "aks.gpuPool") if gpu is not None and gpu.enabled else None
        ),
    }


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
    args = mesh_args(cfg.mesh, ha=cfg.production)
    if cfg.entrance_on:
        # app routing needs the AKS managed Gateway API CRDs; linkerd-crds must not own them
        args["install_gateway_api"] = False
    return build_mesh(
        cfg.mesh.provider,
        "mesh",
        args,
        _opts(provider=cluster.provider, depends_on=[cluster]),
    )


@dataclass
class State:
    """Secrets and state (issue 3): the vault, the metadata database, the log storage."""

    vault: Vault
    database: MetadataDatabase
    logs: LogStorage


_GEO_BACKUP = {"auto": None, "Enabled": True, "Disabled": False}


def entra_admin(cfg: StackConfig) -> EntraAdmin:
    """The PostgreSQL Entra administrator: a group (``database.entraAdminGroupObjectId``,
    else the first AKS admin group), its display name as the role name."""
    db = cfg.database
    group = db.entra_admin_group_object_id or cfg.aks.admin_group_object_ids[0]
    name: pulumi.Input[str] = db.entra_admin_group_name or (
        azuread.get_group_output(object_id=group).display_name
    )
    return EntraAdmin(object_id=group, principal_name=name, principal_type="group")


def build_state(cfg: StackConfig, cluster: Cluster) -> State:
    """Key Vault, Postgres and log storage, protected in prod, reachable from AKS only."""
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    kv, db, st = cfg.key_vault, cfg.database, cfg.storage
    rg, tags, protect = cluster.resource_group_name, base_tags(cfg), cfg.production
    issued_on, rotation = kv.secrets_issued_on.isoformat(), kv.secret_rotation_days
    vault_args = VaultArgs(
        resource_group_name=rg,
        location=loc,
        vault_name=(
            naming.key_vault_base(prefix, env, loc)
            if kv.random_name_suffix
            else naming.key_vault_name(prefix, env, loc)
        ),
        random_name_suffix=kv.random_name_suffix,
        sku=kv.sku,
        soft_delete_retention_days=kv.soft_delete_retention_days,
        purge_protection=kv.purge_protection,
        public_network_access=kv.effective_public_network_access,
        allowed_subnet_ids=[cluster.aks_subnet_id],
        allowed_ip_ranges=kv.allowed_ip_ranges,
        log_analytics_workspace_id=cluster.workspace_id,
        secrets_issued_on=issued_on,
        secret_rotation_days=rotation,
        protect=protect,
        tags=tags,
    )
    if kv.private_endpoint:
        vault_args["private_endpoint_subnet_id"] = cluster.private_endpoint_subnet_id
        vault_args["virtual_network_id"] = cluster.vnet_id
    vault = Vault("keyvault", vault_args, _opts())
    db_args = MetadataDatabaseArgs(
        resource_group_name=rg,
        location=loc,
        server_name=naming.resource_name("psql", prefix, env, loc),
        version=db.version,
        tier=db.tier,
        sku_name=db.sku_name,
        storage_size_gb=db.storage_size_gb,
        backup_retention_days=db.backup_retention_days,
        high_availability=db.high_availability,
        geo_redundant_backup=_GEO_BACKUP[db.geo_redundant_backup],
        administrator_login=db.administrator_login,
        database_name=db.database_name,
        entra_auth=db.entra_auth,
        key_vault_name=vault.vault_name,
        secrets_issued_on=issued_on,
        secret_rotation_days=rotation,
        protect=protect,
        tags=tags,
    )
    if db.entra_auth:
        db_args["entra_admins"] = {"admins": entra_admin(cfg)}
    if db.private_access:
        db_args["delegated_subnet_id"] = cluster.database_subnet_id
        db_args["virtual_network_id"] = cluster.vnet_id
    database = MetadataDatabase("postgres", db_args, _opts())
    logs_args = LogStorageArgs(
        resource_group_name=rg,
        location=loc,
        account_name=naming.storage_account_name(prefix, env, loc),
        sku_name=st.sku_name,
        container_name=st.container_name,
        log_retention_days=st.log_retention_days,
        allowed_subnet_ids=[cluster.aks_subnet_id],
        protect=protect,
        tags=tags,
    )
    if st.private_endpoint:
        logs_args["private_endpoint_subnet_id"] = cluster.private_endpoint_subnet_id
        logs_args["virtual_network_id"] = cluster.vnet_id
    logs = LogStorage("logs", logs_args, _opts())
    return State(vault=vault, database=database, logs=logs)


def cluster_outputs(cluster: Cluster) -> dict[str, Any]:
    """ARM ids for other stacks (StackReference): cluster, workspace, network, identity."""
    return {
        "clusterId": cluster.cluster_id,
        "clusterIdentityId": cluster.control_plane_identity_id,
        "logAnalyticsWorkspaceId": cluster.workspace_id,
        "vnetId": cluster.vnet_id,
        "aksSubnetId": cluster.aks_subnet_id,
        "databaseSubnetId": cluster.database_subnet_id,
        "privateEndpointSubnetId": cluster.private_endpoint_subnet_id,
    }


def state_outputs(state: State) -> dict[str, Any]:
    """Names, URIs and ARM ids only: never a secret value."""
    return {
        "keyVaultId": state.vault.vault_id,
        "postgresServerId": state.database.server_id,
        "logStorageAccountId": state.logs.account_id,
        "keyVaultName": state.vault.vault_name,
        "keyVaultUri": state.vault.vault_uri,
        "postgresServerName": state.database.server_name,
        "postgresFqdn": state.database.fqdn,
        "postgresDatabase": state.database.database_name,
        "logStorageAccount": state.logs.account_name,
        "logContainer": state.logs.container_name,
        "keyVaultSecretNames": sorted(
            {**state.vault.secret_names, **state.database.secret_names}.values()
        ),
    }


def cluster_cidrs(cfg: StackConfig) -> list[str]:
    """The cluster's own ranges (pods, services, nodes): NetworkPolicy egress "outside the
    cluster" is everything else. Not the whole VNet: the Key Vault and Blob private
    endpoints live there (prod requires the blob one) and pods must reach them on 443.
    A bring-your-own subnet's range is not known here, so only pods and services."""
    out = [cfg.aks.pod_cidr, cfg.aks.service_cidr]
    if not cfg.network.byo:
        out.append(cfg.network.aks_subnet_cidr)
    return out


def network_policy_args(cfg: StackConfig) -> dict[str, Any]:
    """The Airflow namespace's NetworkPolicy inputs: Postgres by subnet with private
    access in our VNet, else (public, or a bring-your-own subnet) outside the cluster."""
    private_db = cfg.database.private_access and not cfg.network.byo
    return {
        "cluster_cidrs": cluster_cidrs(cfg),
        "database_cidr": cfg.network.database_subnet_cidr if private_db else None,
    }


def domain_service_account(domain: str) -> str:
    return f"{domain}-tasks"


def build_domains(
    cfg: StackConfig, cluster: Cluster, mesh: Mesh, state: State
) -> list[DomainTasksArgs]:
    """Data domains (issue 12): each a DataDomain component; returns what Airflow needs
    to launch their task pods. Linear in the number of domains and declared calls."""
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    release, sas = cfg.airflow.release_name, ServiceAccountNames()
    airflow_peer = AirflowPeerArgs(
        namespace=cfg.airflow.namespace,
        release=release,
        scheduler_service_account=sas.scheduler,
        api_server_service_account=sas.api_server,
        api_server_labels={"component": "api-server", "release": release},
        api_server_port=mesh_paths.API_SERVER_PORT,
        worker_labels={"component": "worker", "release": release},
        worker_logs_port=mesh_paths.WORKER_LOGS_PORT,
        statsd_labels={"component": "statsd", "release": release},
        statsd_port=STATSD_INGEST_PORT,
    )
    cidrs = cluster_cidrs(cfg)
    by_name = {d.name: d for d in cfg.domains}
    pools = {p.name: p for p in cfg.aks.pools()}
    by_sa = {d.name: domain_service_account(d.name) for d in cfg.domains}
    inbound = inbound_by_domain(cfg.domains, by_sa)
    out: list[DomainTasksArgs] = []
    for i, d in enumerate(cfg.domains):
        sa = by_sa[d.name]
        args: dict[str, Any] = {
            **domain_component_args(d, by_name, inbound, sa),
            "resource_group_name": cluster.resource_group_name,
            "location": loc,
            "identity_name": naming.resource_name("id", prefix, env, loc, d.name),
            "oidc_issuer_url": cluster.oidc_issuer_url,
            "key_vault_id": state.vault.vault_id,
            "storage_account_id": state.logs.account_id,
            "storage_account_name": state.logs.account_name,
            "logs_container": cfg.storage.container_name,
            "airflow": airflow_peer,
            "cluster_cidrs": cidrs,
            "tags": base_tags(cfg),
        }
        DataDomain(
            f"domain-{d.name}",
            DataDomainArgs(**args),  # type: ignore[typeddict-item]
            _opts(provider=cluster.provider),
            mesh=mesh,
        )
        placement = pool_placement_args(pools[d.pool], f"domains[{i}].pool")
        out.append(
            DomainTasksArgs(
                name=d.name,
                namespace=d.effective_namespace,
                service_account=sa,
                labels={
                    **mesh.pod_labels("job"),
                    DOMAIN_LABEL: d.name,
                    WORKLOAD_IDENTITY_LABEL: "true",
                },
                annotations=mesh.pod_annotations("job"),
                node_selector=dict(placement["node_selector"]),
                tolerations=[dict(t) for t in placement["tolerations"]],
            )
        )
    return out


def secret_ids(state: State) -> dict[str, pulumi.Output[str]]:
    """Key Vault secret name -> ARM id of the secret this stack writes."""
    out: dict[str, pulumi.Output[str]] = {}
    for names, secrets in (
        (state.vault.secret_names, state.vault.secrets),
        (state.database.secret_names, state.database.secrets),
    ):
        for logical, kv_name in names.items():
            out[kv_name] = secrets[logical].id
    return out


GATEWAY_NAME = "airflow"


def build_sign_in(cfg: StackConfig, cluster: Cluster) -> EntraSignIn | None:
    """The Entra app registration people sign in with, when the entrance and sign-in are
    on; trusts the API server's ServiceAccount (no client secret)."""
    e = cfg.entrance
    if not (cfg.entrance_on and e.sign_in.enabled and e.host):
        return None
    args = SignInArgs(
        display_name=f"{cfg.name_prefix}-{cfg.environment}-airflow-ui",
        host=e.host,
        oidc_issuer_url=cluster.oidc_issuer_url,
        namespace=cfg.airflow.namespace,
        service_account=ServiceAccountNames().api_server,
        group_assignments={k: list(v) for k, v in e.sign_in.groups.items()},
        owners=list(e.sign_in.owners),
    )
    return EntraSignIn("signin", args, _opts())


def entrance_airflow_args(cfg: StackConfig, sign_in: EntraSignIn | None) -> dict[str, Any]:
    """What the Airflow component needs to know about the entrance: who signs people in,
    and which gateway identity the mesh admits to the API server."""
    if not cfg.entrance_on or not cfg.entrance.host:
        return {}
    gw = gateway_client(cfg.airflow.namespace, GATEWAY_NAME, cfg.entrance.gateway_class)
    out: dict[str, Any] = {
        "gateway": {
            "service_account": gw.service_account,
            "labels": dict(gw.labels),
            "listener_ports": list(LISTENER_PORTS),
        }
    }
    if cfg.entrance.gateway_class == GATEWAY_CLASS:  # another class: its control plane is unknown
        out["gateway"] |= {
            "control_plane_namespace": ISTIOD_NAMESPACE,
            "control_plane_ports": list(ISTIOD_PORTS),
        }
    if sign_in is not None:
        out["sign_in"] = {"client_id": sign_in.client_id, "host": cfg.entrance.host}
    return out


def build_entrance(
    cfg: StackConfig, cluster: Cluster, mesh: Mesh, airflow: Airflow
) -> Entrance | None:
    """Gateway + routes + certificate in the Airflow namespace, after Airflow (its
    namespace and the API server's mesh authorisation exist first)."""
    e = cfg.entrance
    if not cfg.entrance_on or e.host is None or e.issuer is None:
        return None
    args = EntranceArgs(
        namespace=cfg.airflow.namespace,
        host=e.host,
        issuer={"name": e.issuer.name, "kind": e.issuer.kind},
        release_name=cfg.airflow.release_name,
        gateway_name=GATEWAY_NAME,
        gateway_class=e.gateway_class,
        internal=e.internal,
        mesh={
            "labels": mesh.pod_labels("gateway"),
            "annotations": mesh.pod_annotations("gateway"),
        },
    )
    if mesh.provider != "linkerd":  # Linkerd's component already installs cert-manager
        args["cert_manager"] = {"version": cfg.mesh.cert_manager_version, "ha": cfg.production}
    return Entrance(
        "entrance",
        args,
        _opts(provider=cluster.provider, depends_on=[airflow, *mesh.ready]),
    )


def build_airflow(
    cfg: StackConfig,
    cluster: Cluster,
    mesh: Mesh,
    state: State,
    sign_in: EntraSignIn | None = None,
    domains: list[DomainTasksArgs] | None = None,
) -> Airflow:
    """Airflow (issue 5): its identities get "Key Vault Secrets User" on each secret they read and
    "Storage Blob Data Contributor" on the log container; mesh settings are plain dicts
    read through the mesh interface; installed once the mesh control plane is ready."""
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    args: dict[str, Any] = {
        **airflow_component_args(cfg.airflow),
        "environment": "prod" if cfg.production else "dev",
        "resource_group_name": cluster.resource_group_name,
        "location": loc,
        "oidc_issuer_url": cluster.oidc_issuer_url,
        "tenant_id": state.vault.tenant_id,
        "control_plane_identity_name": naming.resource_name("id", prefix, env, loc, "airflow"),
        "tasks_identity_name": naming.resource_name("id", prefix, env, loc, "tasks"),
        "key_vault_name": state.vault.vault_name,
        "key_vault_id": state.vault.vault_id,
        "key_vault_secret_ids": secret_ids(state),
        "storage_account_name": naming.storage_account_name(prefix, env, loc),
        "logs_container": state.logs.container_name,
        "logs_container_scope": state.logs.container_id,
        "mesh_namespace_labels": mesh.namespace_labels(),
        "mesh_namespace_annotations": mesh.namespace_annotations(),
        "mesh_service_labels": mesh.pod_labels("service"),
        "mesh_service_annotations": mesh.pod_annotations("service"),
        "mesh_job_labels": mesh.pod_labels("job"),
        "mesh_job_annotations": mesh.pod_annotations("job"),
        **task_placements(cfg),
        **entrance_airflow_args(cfg, sign_in),
        "domains": domains or [],
        "network_policies": network_policy_args(cfg),
    }
    deps: list[pulumi.Resource] = [*mesh.ready, *state.vault.secrets.values(), state.database]
    return Airflow(
        "airflow",
        AirflowArgs(**args),  # type: ignore[typeddict-item]
        _opts(provider=cluster.provider, depends_on=deps),
        mesh=mesh,
    )


def build_gitops(cfg: StackConfig, cluster: Cluster, namespaces: list[str]) -> GitOps:
    """Flux on the cluster, plus the keyless CI identity and the operators group."""
    g = cfg.gitops
    prefix = f"{cfg.name_prefix}-{cfg.environment}"
    args = GitOpsArgs(
        resource_group_name=cluster.resource_group_name,
        cluster_name=cluster.cluster_name,
        cluster_id=cluster.cluster_id,
        name_prefix=prefix,
        repository_url=g.repository_url or "",
        branch=g.branch,
        sync_interval_seconds=g.sync_interval_seconds,
        local_auth_secret=g.local_auth_secret,
        kustomizations={n: k.model_dump() for n, k in g.kustomizations.items()},
        release_train=g.release_train,
        version=g.extension_version,
        deploy_namespaces=namespaces,
        operators_group=g.operators_group,
    )
    # Flux reconciles workloads that need the nodes and the mesh in place.
    return GitOps("gitops", args, _opts(depends_on=[cluster]))


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create the platform for a validated config; returns the stack outputs."""
    cluster = Cluster("aks", cluster_args(cfg), _opts())
    outputs: dict[str, Any] = {
        "environment": cfg.environment,
        "location": cfg.location,
        "resourceGroupName": cluster.resource_group_name,
        "clusterName": cluster.cluster_name,
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "kubeconfig": cluster.kubeconfig,
        **cluster_outputs(cluster),
    }
    gpu = cfg.aks.gpu_pool
    if gpu is not None and gpu.enabled:
        # AKS installs GPU drivers, not the device plugin: without it no node offers a GPU.
        NvidiaDevicePlugin(
            "gpu-device-plugin",
            NvidiaDevicePluginArgs(
                version=gpu.device_plugin_version,
                placement=pool_placement_args(gpu, "aks.gpuPool"),
            ),
            pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
        )
    mesh = build_platform_mesh(cfg, cluster)
    outputs["meshProvider"] = mesh.provider
    state = build_state(cfg, cluster)
    outputs.update(state_outputs(state))
    domains = build_domains(cfg, cluster, mesh, state)
    if domains:
        outputs["domainNamespaces"] = {d["name"]: d["namespace"] for d in domains}
    if cfg.airflow.enabled:
        sign_in = build_sign_in(cfg, cluster)
        airflow = build_airflow(cfg, cluster, mesh, state, sign_in, domains)
        outputs["airflowNamespace"] = airflow.namespace
        outputs["airflowChartVersion"] = airflow.chart_version
        outputs["airflowIdentityId"] = airflow.control_plane_identity_id
        outputs["airflowTasksIdentityId"] = airflow.tasks_identity_id
        outputs["airflowTasksClientId"] = airflow.tasks_client_id
        if entrance := build_entrance(cfg, cluster, mesh, airflow):
            outputs["airflowUrl"] = entrance.url
        if sign_in is not None:
            outputs["signInClientId"] = sign_in.client_id
            outputs["signInRedirectUri"] = sign_in.redirect_uri
    if cfg.gitops.enabled:
        gitops = build_gitops(cfg, cluster, [cfg.airflow.namespace])
        outputs["fluxConfiguration"] = gitops.flux_configuration_name
        if gitops.operators_group_id is not None:
            outputs["operatorsGroupId"] = gitops.operators_group_id
    return outputs


def preflight(cfg: StackConfig) -> None:
    """Fail before anything registers when the subscription lacks a feature the stack uses.

    azure-native registers neither resource providers nor preview features (#3479, #1075):
    those are one-time commands (README "One-time subscription prerequisites"). Encryption
    at host can be read back, so a missing registration stops here with the commands
    instead of failing minutes into the first ``up``.
    """
    if not cfg.aks.check_subscription_features:
        return
    if not any(p.encryption_at_host for p in cfg.aks.pools()):
        return
    namespace, feature = ENCRYPTION_AT_HOST
    try:
        registration = features.get_subscription_feature_registration(
            provider_namespace=namespace, feature_name=feature
        )
    except Exception as exc:  # e.g. never registered (not found) or no read permission
        raise pulumi.RunError(
            f"could not read subscription feature {namespace}/{feature} ({exc}). Register it "
            f"once: {feature_commands(namespace, feature)}; or skip this check with "
            "airflow-aks:aks.checkSubscriptionFeatures: false"
        ) from None
    props = registration.properties
    if problem := feature_problem(namespace, feature, props.state if props else None):
        raise pulumi.RunError(problem)


def main() -> None:
    """Program entry for ``pulumi up`` and the offline plan."""
    try:
        cfg = load(from_engine(), pulumi.get_stack())
    except ConfigError as err:
        # RunError prints the message without a Python traceback.
        raise pulumi.RunError(str(err)) from None
    preflight(cfg)
    for key, value in build(cfg).items():
        pulumi.export(key, value)
