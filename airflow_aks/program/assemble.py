"""Config -> component args: one pure function per component, each returning its TypedDict
built literally, so a misspelt or missing key fails type checking (pyright ``standard``).

The functions take the validated :class:`StackConfig` and the upstream component outputs
they need (plain values or ``pulumi.Output``); they register nothing. The decisions the
assembler makes (environment, which optional components exist, what the entrance brings)
are the named functions at the top, table-tested in ``tests/test_assemble.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pulumi
import pulumi_azuread as azuread

from airflow_aks.components import naming
from airflow_aks.components.airflow import mesh_paths
from airflow_aks.components.airflow.component import (
    AirflowArgs,
    DomainTasksArgs,
    GatewayClientArgs,
    GitSyncArgs,
    NetworkPolicyArgs,
    SignInArgs,
)
from airflow_aks.components.airflow.network_policies import STATSD_INGEST_PORT
from airflow_aks.components.airflow.values import WORKLOAD_IDENTITY_LABEL, ServiceAccountNames
from airflow_aks.components.aks import (
    ClusterArgs,
    ClusterNetworkArgs,
    MaintenanceWindowArgs,
    NodePoolArgs,
)
from airflow_aks.components.database import EntraAdmin, MetadataDatabaseArgs
from airflow_aks.components.domains import (
    DOMAIN_LABEL,
    AirflowPeerArgs,
    ContainerGrantArgs,
    DataDomainArgs,
    HostArgs,
    InboundArgs,
    OutboundArgs,
    QuotaArgs,
    SecretGrantArgs,
    inbound_calls,
)
from airflow_aks.components.entrance import (
    GATEWAY_CLASS,
    ISTIOD_NAMESPACE,
    ISTIOD_PORTS,
    LISTENER_PORTS,
    STATUS_PORT,
    EntranceArgs,
    gateway_client,
)
from airflow_aks.components.gitops import GitOpsArgs
from airflow_aks.components.gpu import NvidiaDevicePluginArgs
from airflow_aks.components.hibernation import HibernationArgs
from airflow_aks.components.mesh import Mesh, MeshArgs
from airflow_aks.components.scheduling import PodPlacementArgs, pool_placement
from airflow_aks.components.secrets import VaultArgs
from airflow_aks.components.signin import SignInArgs as EntraSignInArgs
from airflow_aks.components.storage import LogStorageArgs
from airflow_aks.config.airflow import AirflowConfig
from airflow_aks.config.aks import GpuPoolConfig, NodePoolConfig
from airflow_aks.config.domains import DomainConfig, QuotaConfig, parse_host_port
from airflow_aks.config.entrance import EntranceConfig
from airflow_aks.config.hibernation import WINDOWS_ZONES
from airflow_aks.config.mesh import MeshConfig
from airflow_aks.config.stack import StackConfig

GATEWAY_NAME = "airflow"
"""The entrance's Gateway (and the identity the mesh admits to the API server)."""

_GEO_BACKUP: dict[str, bool | None] = {"auto": None, "Enabled": True, "Disabled": False}


# ---------------------------------------------------------------- decisions


def airflow_environment(production: bool) -> Literal["prod", "dev"]:
    """The Airflow component's environment: ``prod`` for a production profile."""
    return "prod" if production else "dev"


def gpu_plugin_wanted(gpu: GpuPoolConfig | None) -> bool:
    """AKS installs GPU drivers, not the device plugin: an enabled GPU pool needs it."""
    return gpu is not None and gpu.enabled


def entrance_wanted(cfg: StackConfig) -> bool:
    """The entrance (gateway, routes, certificate) needs it switched on, a host and an issuer."""
    e = cfg.entrance
    return cfg.entrance_on and e.host is not None and e.issuer is not None


def sign_in_wanted(cfg: StackConfig) -> bool:
    """Entra sign-in needs the entrance on, sign-in enabled and a host to redirect to."""
    e = cfg.entrance
    return bool(cfg.entrance_on and e.sign_in.enabled and e.host)


def gateway_control_plane_known(gateway_class: str) -> bool:
    """Only the AKS app-routing class has a control plane we know (istiod); for another
    class its namespace and ports are not ours to guess."""
    return gateway_class == GATEWAY_CLASS


def post_create_steps(cfg: StackConfig, rg_name: str, cluster_name: str) -> list[str]:
    """What must run once after the cluster exists, before the Kubernetes objects that
    need it: the managed Gateway API CRDs and app routing's Istio implementation, which the
    ManagedCluster API version of pulumi-azure-native 3.29.0 (REST 2025-09-01, the newest
    SDK on PyPI on 2026-12-07) cannot express (``components/entrance.py``)."""
    if not (cfg.entrance_on and cfg.entrance.host):
        return []
    if cfg.entrance.gateway_class != GATEWAY_CLASS:
        return []
    return [
        f"az aks update -g {rg_name} -n {cluster_name} --enable-gateway-api "
        "--enable-app-routing-istio"
    ]


def public_inbound_ports(cfg: StackConfig) -> list[int]:
    """Listener ports of a public entrance (the node subnet's NSG must allow them)."""
    if not (cfg.entrance_on and cfg.entrance.host) or cfg.entrance.internal:
        return []
    return sorted(LISTENER_PORTS)


def mesh_installs_gateway_api(entrance_on: bool, requested: bool) -> bool:
    """App routing needs the AKS managed Gateway API CRDs: the mesh must not own them."""
    return requested and not entrance_on


def entrance_installs_cert_manager(mesh_has_cert_manager: bool) -> bool:
    """The entrance's certificate needs cert-manager: installed by the entrance unless the
    mesh's component already installs it."""
    return not mesh_has_cert_manager


# ---------------------------------------------------------------- shared pieces


def base_tags(cfg: StackConfig) -> dict[str, str]:
    return {
        "project": "airflow-aks",
        "environment": cfg.environment,
        "managed-by": "pulumi",
        **cfg.tags,
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


def pool_placement_args(pool: NodePoolConfig, config_key: str) -> PodPlacementArgs:
    """A pool's config -> the placement (tolerations + node selection) of its pods."""
    return pool_placement(
        pool.name, pool.taints, pool.labels, spot=pool.spot, config_key=config_key
    ).as_args()


def domain_service_account(domain: str) -> str:
    return f"{domain}-tasks"


# ---------------------------------------------------------------- cluster


def node_pool_args(p: NodePoolConfig) -> NodePoolArgs:
    return NodePoolArgs(
        name=p.name,
        vm_size=p.vm_size,
        enable_auto_scaling=p.enable_auto_scaling,
        min_count=p.min_count,
        max_count=p.max_count,
        node_count=p.node_count,
        max_pods=p.max_pods,
        os_disk_type=p.os_disk_type,
        os_disk_size_gb=p.os_disk_size_gb,
        os_sku=p.os_sku,
        zones=list(p.zones),
        encryption_at_host=p.encryption_at_host,
        spot=p.spot,
        spot_max_price=p.spot_max_price,
        taints=list(p.taints),
        labels=dict(p.labels),
        max_surge=p.max_surge,
    )


def cluster_args(cfg: StackConfig) -> ClusterArgs:
    """Config -> :class:`airflow_aks.components.aks.ClusterArgs`."""
    aks, net, mw = cfg.aks, cfg.network, cfg.aks.maintenance_window
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    rg_name = cfg.resource_group.name or naming.resource_name("rg", prefix, env, loc)
    cluster_name = naming.resource_name("aks", prefix, env, loc)
    return ClusterArgs(
        location=loc,
        tags=base_tags(cfg),
        post_create_steps=post_create_steps(cfg, rg_name, cluster_name),
        resource_group_name=rg_name,
        existing_resource_group=cfg.resource_group.existing,
        cluster_name=cluster_name,
        workspace_name=naming.resource_name("log", prefix, env, loc),
        vnet_name=naming.resource_name("vnet", prefix, env, loc),
        network=ClusterNetworkArgs(
            vnet_cidr=net.vnet_cidr,
            aks_subnet_cidr=net.aks_subnet_cidr,
            database_subnet_cidr=net.database_subnet_cidr,
            private_endpoint_subnet_cidr=net.private_endpoint_subnet_cidr,
            existing_vnet_id=net.existing_vnet_id,
            existing_aks_subnet_id=net.existing_aks_subnet_id,
            existing_database_subnet_id=net.existing_database_subnet_id,
            public_inbound_ports=public_inbound_ports(cfg),
        ),
        maintenance_window=MaintenanceWindowArgs(
            day_of_week=mw.day_of_week,
            start_time=mw.start_time,
            duration_hours=mw.duration_hours,
            utc_offset=mw.utc_offset,
        ),
        system_pool=node_pool_args(aks.system_pool),
        user_pools=[node_pool_args(p) for p in aks.pools()[1:]],
        kubernetes_version=aks.kubernetes_version,
        tier=aks.tier,
        admin_group_object_ids=list(aks.admin_group_object_ids),
        tenant_id=aks.tenant_id,
        oidc_issuer=aks.oidc_issuer,
        workload_identity=aks.workload_identity,
        azure_rbac=aks.azure_rbac,
        grant_deployer_cluster_admin=aks.grant_deployer_cluster_admin,
        deployer_principal_type=aks.deployer_principal_type,
        local_accounts=aks.local_accounts,
        network_plugin=aks.network_plugin,
        network_plugin_mode=aks.network_plugin_mode,
        network_dataplane=aks.network_dataplane,
        network_policy=aks.network_policy,
        pod_cidr=aks.pod_cidr,
        service_cidr=aks.service_cidr,
        dns_service_ip=aks.dns_service_ip,
        outbound_type=aks.outbound_type,
        private_cluster=aks.private_cluster,
        authorized_ip_ranges=list(aks.authorized_ip_ranges),
        disable_run_command=aks.disable_run_command,
        upgrade_channel=aks.upgrade_channel,
        node_os_upgrade_channel=aks.node_os_upgrade_channel,
        secret_rotation_interval=aks.secret_rotation_interval,
        image_cleaner_interval_hours=aks.image_cleaner_interval_hours,
        azure_policy=aks.azure_policy,
        defender=aks.defender,
        monitoring=aks.monitoring,
    )


def gpu_plugin_args(gpu: GpuPoolConfig) -> NvidiaDevicePluginArgs:
    return NvidiaDevicePluginArgs(
        version=gpu.device_plugin_version,
        placement=pool_placement_args(gpu, "aks.gpuPool"),
    )


def mesh_args(cfg: MeshConfig, ha: bool, entrance_on: bool) -> MeshArgs:
    """The mesh's args, HA from the profile; no Gateway API CRDs with the entrance on."""
    return MeshArgs(
        ha=ha,
        linkerd_version=cfg.linkerd_version,
        cert_manager_version=cfg.cert_manager_version,
        trust_manager_version=cfg.trust_manager_version,
        viz=cfg.viz,
        cni=cfg.cni,
        install_gateway_api=mesh_installs_gateway_api(entrance_on, cfg.install_gateway_api),
        kuma_version=cfg.kuma_version,
        otel_endpoint=cfg.otel_endpoint,
    )


# ---------------------------------------------------------------- state


def vault_args(
    cfg: StackConfig,
    resource_group_name: pulumi.Input[str],
    aks_subnet_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    private_endpoint_subnet_id: pulumi.Input[str],
    vnet_id: pulumi.Input[str],
) -> VaultArgs:
    prefix, env, loc, kv = cfg.name_prefix, cfg.environment, cfg.location, cfg.key_vault
    args = VaultArgs(
        resource_group_name=resource_group_name,
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
        allowed_subnet_ids=[aks_subnet_id],
        allowed_ip_ranges=kv.allowed_ip_ranges,
        log_analytics_workspace_id=workspace_id,
        secrets_issued_on=kv.secrets_issued_on.isoformat(),
        secret_rotation_days=kv.secret_rotation_days,
        protect=cfg.production,
        tags=base_tags(cfg),
    )
    if kv.private_endpoint:
        args["private_endpoint_subnet_id"] = private_endpoint_subnet_id
        args["virtual_network_id"] = vnet_id
    return args


def entra_admin(cfg: StackConfig) -> EntraAdmin:
    """The PostgreSQL Entra administrator: a group (``database.entraAdminGroupObjectId``,
    else the first AKS admin group), its display name as the role name."""
    db = cfg.database
    group = db.entra_admin_group_object_id or cfg.aks.admin_group_object_ids[0]
    name: pulumi.Input[str] = db.entra_admin_group_name or (
        azuread.get_group_output(object_id=group).display_name
    )
    return EntraAdmin(object_id=group, principal_name=name, principal_type="group")


def database_args(
    cfg: StackConfig,
    resource_group_name: pulumi.Input[str],
    key_vault_name: pulumi.Input[str],
    database_subnet_id: pulumi.Input[str],
    vnet_id: pulumi.Input[str],
) -> MetadataDatabaseArgs:
    prefix, env, loc, db = cfg.name_prefix, cfg.environment, cfg.location, cfg.database
    args = MetadataDatabaseArgs(
        resource_group_name=resource_group_name,
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
        key_vault_name=key_vault_name,
        secrets_issued_on=cfg.key_vault.secrets_issued_on.isoformat(),
        secret_rotation_days=cfg.key_vault.secret_rotation_days,
        protect=cfg.production,
        tags=base_tags(cfg),
    )
    if db.entra_auth:
        args["entra_admins"] = {"admins": entra_admin(cfg)}
    if db.private_access:
        args["delegated_subnet_id"] = database_subnet_id
        args["virtual_network_id"] = vnet_id
    return args


def log_storage_args(
    cfg: StackConfig,
    resource_group_name: pulumi.Input[str],
    aks_subnet_id: pulumi.Input[str],
    private_endpoint_subnet_id: pulumi.Input[str],
    vnet_id: pulumi.Input[str],
) -> LogStorageArgs:
    st = cfg.storage
    args = LogStorageArgs(
        resource_group_name=resource_group_name,
        location=cfg.location,
        account_name=naming.storage_account_name(cfg.name_prefix, cfg.environment, cfg.location),
        sku_name=st.sku_name,
        container_name=st.container_name,
        log_retention_days=st.log_retention_days,
        allowed_subnet_ids=[aks_subnet_id],
        protect=cfg.production,
        tags=base_tags(cfg),
    )
    if st.private_endpoint:
        args["private_endpoint_subnet_id"] = private_endpoint_subnet_id
        args["virtual_network_id"] = vnet_id
    return args


# ---------------------------------------------------------------- data domains


def quota_args(q: QuotaConfig) -> QuotaArgs:
    return QuotaArgs(
        requests_cpu=q.requests_cpu,
        requests_memory=q.requests_memory,
        limits_cpu=q.limits_cpu,
        limits_memory=q.limits_memory,
        pods=q.pods,
        default_request_cpu=q.default_request_cpu,
        default_request_memory=q.default_request_memory,
        default_limit_cpu=q.default_limit_cpu,
        default_limit_memory=q.default_limit_memory,
    )


def inbound_by_domain(
    domains: Sequence[DomainConfig], service_accounts: Mapping[str, str]
) -> dict[str, list[InboundArgs]]:
    """Every domain's declared inbound calls (grouped per target port and labels);
    ``service_accounts``: domain name -> its task ServiceAccount."""
    return inbound_calls(
        [
            (
                d.name,
                d.effective_namespace,
                service_accounts[d.name],
                [(c.domain, c.labels, c.port) for c in d.mesh_calls],
            )
            for d in domains
        ]
    )


def airflow_peer_args(cfg: StackConfig) -> AirflowPeerArgs:
    """The Airflow installation as a domain sees it (its callers and the ports it calls)."""
    release, sas = cfg.airflow.release_name, ServiceAccountNames()
    return AirflowPeerArgs(
        namespace=cfg.airflow.namespace,
        release=release,
        scheduler_service_account=sas.scheduler,
        api_server_service_account=sas.api_server,
        triggerer_service_account=sas.triggerer,
        api_server_labels={"component": "api-server", "release": release},
        api_server_port=mesh_paths.API_SERVER_PORT,
        worker_labels={"component": "worker", "release": release},
        worker_logs_port=mesh_paths.WORKER_LOGS_PORT,
        statsd_labels={"component": "statsd", "release": release},
        statsd_port=STATSD_INGEST_PORT,
    )


def data_domain_args(
    cfg: StackConfig,
    d: DomainConfig,
    inbound: Mapping[str, list[InboundArgs]],
    resource_group_name: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    key_vault_id: pulumi.Input[str],
    storage_account_id: pulumi.Input[str],
    storage_account_name: pulumi.Input[str],
) -> DataDomainArgs:
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    by_name = {x.name: x for x in cfg.domains}
    return DataDomainArgs(
        domain=d.name,
        namespace=d.effective_namespace,
        service_account=domain_service_account(d.name),
        secrets=[SecretGrantArgs(name=s.name, access=s.access) for s in d.secrets],
        containers=[
            ContainerGrantArgs(name=c.name, access=c.access, create=c.create) for c in d.containers
        ],
        inbound=list(inbound.get(d.name, [])),
        outbound=[
            OutboundArgs(
                namespace=by_name[c.domain].effective_namespace, labels=dict(c.labels), port=c.port
            )
            for c in d.mesh_calls
        ],
        hosts=[HostArgs(host=h, port=p) for h, p in map(parse_host_port, d.hosts)],
        quota=quota_args(d.quota),
        resource_group_name=resource_group_name,
        location=loc,
        identity_name=naming.resource_name("id", prefix, env, loc, d.name),
        oidc_issuer_url=oidc_issuer_url,
        key_vault_id=key_vault_id,
        storage_account_id=storage_account_id,
        storage_account_name=storage_account_name,
        logs_container=cfg.storage.container_name,
        airflow=airflow_peer_args(cfg),
        cluster_cidrs=cluster_cidrs(cfg),
        cilium=cfg.aks.network_policy == "cilium",
        tags=base_tags(cfg),
    )


def domain_tasks_args(cfg: StackConfig, index: int, d: DomainConfig, mesh: Mesh) -> DomainTasksArgs:
    """What Airflow needs to launch a domain's task pods."""
    pools = {p.name: p for p in cfg.aks.pools()}
    placement = pool_placement_args(pools[d.pool], f"domains[{index}].pool")
    return DomainTasksArgs(
        name=d.name,
        namespace=d.effective_namespace,
        service_account=domain_service_account(d.name),
        labels={
            **mesh.pod_labels("job"),
            DOMAIN_LABEL: d.name,
            WORKLOAD_IDENTITY_LABEL: "true",
        },
        annotations=mesh.pod_annotations("job"),
        node_selector=dict(placement["node_selector"]),
        tolerations=[dict(t) for t in placement["tolerations"]],
    )


# ---------------------------------------------------------------- airflow, entrance, gitops


def sign_in_app_args(cfg: StackConfig, oidc_issuer_url: pulumi.Input[str]) -> EntraSignInArgs:
    """The Entra app registration people sign in with; trusts the API server's
    ServiceAccount (no client secret)."""
    e = cfg.entrance
    return EntraSignInArgs(
        display_name=f"{cfg.name_prefix}-{cfg.environment}-airflow-ui",
        host=e.host or "",
        oidc_issuer_url=oidc_issuer_url,
        namespace=cfg.airflow.namespace,
        service_account=ServiceAccountNames().api_server,
        group_assignments={k: list(v) for k, v in e.sign_in.groups.items()},
        owners=list(e.sign_in.owners),
    )


def gateway_client_args(cfg: StackConfig) -> GatewayClientArgs | None:
    """The entrance's gateway as the Airflow API server's mesh client (None: no entrance)."""
    if not cfg.entrance_on or not cfg.entrance.host:
        return None
    gw = gateway_client(cfg.airflow.namespace, GATEWAY_NAME, cfg.entrance.gateway_class)
    out = GatewayClientArgs(
        service_account=gw.service_account,
        labels=dict(gw.labels),
        listener_ports=list(LISTENER_PORTS),
    )
    if gateway_control_plane_known(cfg.entrance.gateway_class):
        out["control_plane_namespace"] = ISTIOD_NAMESPACE
        out["control_plane_ports"] = list(ISTIOD_PORTS)
        out["health_ports"] = [STATUS_PORT]
    return out


def git_sync_args(cfg: AirflowConfig) -> GitSyncArgs | None:
    gs = cfg.git_sync
    if not gs:
        return None
    return GitSyncArgs(
        repo=gs.repo,
        branch=gs.branch,
        sub_path=gs.sub_path,
        period=gs.period,
        username=gs.username,
    )


def network_policy_args(cfg: StackConfig) -> NetworkPolicyArgs:
    """The Airflow namespace's NetworkPolicy inputs: Postgres by subnet with private
    access in our VNet, else (public, or a bring-your-own subnet) outside the cluster."""
    private_db = cfg.database.private_access and not cfg.network.byo
    return NetworkPolicyArgs(
        cluster_cidrs=cluster_cidrs(cfg),
        database_cidr=cfg.network.database_subnet_cidr if private_db else None,
        cilium=cfg.aks.network_policy == "cilium",
    )


def airflow_args(
    cfg: StackConfig,
    mesh: Mesh,
    resource_group_name: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    key_vault_name: pulumi.Input[str],
    key_vault_id: pulumi.Input[str],
    key_vault_secret_ids: Mapping[str, pulumi.Input[str]],
    logs_container: str,
    logs_container_scope: pulumi.Input[str],
    sign_in_client_id: pulumi.Input[str] | None,
    domains: Sequence[DomainTasksArgs],
) -> AirflowArgs:
    """Airflow's args: identities, Key Vault, logs, mesh settings read through the mesh
    interface, task placements, the entrance's gateway and sign-in, domains, policies."""
    a, gpu = cfg.airflow, cfg.aks.gpu_pool
    prefix, env, loc = cfg.name_prefix, cfg.environment, cfg.location
    args = AirflowArgs(
        namespace=a.namespace,
        release_name=a.release_name,
        chart_version=a.chart_version,
        image_repository=a.image_repository,
        image_tag=a.image_tag,
        airflow_version=a.airflow_version,
        admin_password_object=a.admin_password_secret,
        git_token_object=a.git_token_secret,
        task_secret_names=list(a.task_secret_names),
        backend_secret_names=list(a.backend_secret_names),
        key_vault_secrets_backend=a.key_vault_secrets_backend,
        replicas=dict(a.replicas),
        helm_values=dict(a.helm_values),
        git_sync=git_sync_args(a),
        environment=airflow_environment(cfg.production),
        resource_group_name=resource_group_name,
        location=loc,
        oidc_issuer_url=oidc_issuer_url,
        tenant_id=tenant_id,
        control_plane_identity_name=naming.resource_name("id", prefix, env, loc, "airflow"),
        tasks_identity_name=naming.resource_name("id", prefix, env, loc, "tasks"),
        key_vault_name=key_vault_name,
        key_vault_id=key_vault_id,
        key_vault_secret_ids=key_vault_secret_ids,
        storage_account_name=naming.storage_account_name(prefix, env, loc),
        logs_container=logs_container,
        logs_container_scope=logs_container_scope,
        mesh_namespace_labels=mesh.namespace_labels(),
        mesh_namespace_annotations=mesh.namespace_annotations(),
        mesh_service_labels=mesh.pod_labels("service"),
        mesh_service_annotations=mesh.pod_annotations("service"),
        mesh_job_labels=mesh.pod_labels("job"),
        mesh_job_annotations=mesh.pod_annotations("job"),
        task_placement=pool_placement_args(cfg.aks.task_pool, "aks.taskPool"),
        gpu_placement=(
            pool_placement_args(gpu, "aks.gpuPool") if gpu_plugin_wanted(gpu) and gpu else None
        ),
        domains=list(domains),
        network_policies=network_policy_args(cfg),
    )
    if gateway := gateway_client_args(cfg):
        args["gateway"] = gateway
        if sign_in_client_id is not None:
            args["sign_in"] = SignInArgs(client_id=sign_in_client_id, host=cfg.entrance.host or "")
    return args


def entrance_args(cfg: StackConfig, mesh: Mesh, mesh_has_cert_manager: bool) -> EntranceArgs:
    """Gateway + routes + certificate in the Airflow namespace (call when
    :func:`entrance_wanted`)."""
    e: EntranceConfig = cfg.entrance
    assert e.host is not None and e.issuer is not None, "entrance_wanted(cfg) first"
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
    if entrance_installs_cert_manager(mesh_has_cert_manager):
        args["cert_manager"] = {"version": cfg.mesh.cert_manager_version, "ha": cfg.production}
    return args


def gitops_args(
    cfg: StackConfig,
    resource_group_name: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    cluster_id: pulumi.Input[str],
    namespaces: Sequence[str],
) -> GitOpsArgs:
    """Flux on the cluster, plus the keyless CI identity and the operators group."""
    g = cfg.gitops
    return GitOpsArgs(
        resource_group_name=resource_group_name,
        cluster_name=cluster_name,
        cluster_id=cluster_id,
        name_prefix=f"{cfg.name_prefix}-{cfg.environment}",
        repository_url=g.repository_url or "",
        branch=g.branch,
        sync_interval_seconds=g.sync_interval_seconds,
        local_auth_secret=g.local_auth_secret,
        kustomizations={n: k.model_dump() for n, k in g.kustomizations.items()},
        release_train=g.release_train,
        version=g.extension_version,
        deploy_namespaces=list(namespaces),
        operators_group=g.operators_group,
    )


def hibernation_args(
    cfg: StackConfig,
    resource_group_name: pulumi.Input[str],
    cluster_id: pulumi.Input[str],
    server_id: pulumi.Input[str],
) -> HibernationArgs | None:
    """The awake window of ``cfg.hibernation`` for the cluster and the Postgres server;
    None when the stack never sleeps (prod by default)."""
    h = cfg.hibernation
    if not h.enabled:
        return None
    return HibernationArgs(
        resource_group_name=resource_group_name,
        location=cfg.location,
        cluster_id=cluster_id,
        server_id=server_id,
        days=list(h.days),
        wake=h.wake,
        sleep=h.sleep,
        windows_time_zone=WINDOWS_ZONES[h.time_zone],
        # Custom role names are unique per tenant: the stack's name triple keeps them apart.
        role_name=f"{cfg.name_prefix}-{cfg.environment}-{cfg.location} hibernation start/stop",
        tags=base_tags(cfg),
    )
