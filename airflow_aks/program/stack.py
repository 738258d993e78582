"""The program: validated stack config -> components, in dependency order.

Nothing here builds args or decides a setting: :mod:`airflow_aks.program.assemble` turns
config (and upstream outputs) into each component's typed args; ``build`` only
instantiates the components, every one with :func:`_opts`. Validation runs first and
completely, so an invalid stack registers no resource at all.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import features

from airflow_aks.components.airflow.component import Airflow, DomainTasksArgs
from airflow_aks.components.aks import (
    ENCRYPTION_AT_HOST,
    Cluster,
    feature_commands,
    feature_problem,
)
from airflow_aks.components.database import MetadataDatabase
from airflow_aks.components.domains import DataDomain
from airflow_aks.components.entrance import Entrance
from airflow_aks.components.gitops import GitOps
from airflow_aks.components.gpu import NvidiaDevicePlugin
from airflow_aks.components.hibernation import Hibernation
from airflow_aks.components.mesh import Mesh, build_mesh, installs_cert_manager
from airflow_aks.components.secrets import Vault
from airflow_aks.components.signin import EntraSignIn
from airflow_aks.components.storage import LogStorage
from airflow_aks.config.base import ConfigError
from airflow_aks.config.stack import StackConfig, from_engine, load
from airflow_aks.program import assemble as A

_PARENT: ContextVar[pulumi.Resource | None] = ContextVar("airflow_aks_parent", default=None)
"""Set by :class:`airflow_aks.program.platform.Platform` while it builds the stack under itself."""


def _opts(**kw: Any) -> pulumi.ResourceOptions:
    """Options of every top-level component: a child of the Platform component when one is
    building (``parent=None`` otherwise, i.e. the stack, as in ``pulumi up``)."""
    return pulumi.ResourceOptions(parent=_PARENT.get(), **kw)


@dataclass
class State:
    """Secrets and state: the vault, the metadata database, the log storage."""

    vault: Vault
    database: MetadataDatabase
    logs: LogStorage


def build_platform_mesh(cfg: StackConfig, cluster: Cluster) -> Mesh:
    """The mesh chosen by ``mesh.provider``, on the cluster's k8s provider, after the
    cluster and its node pools exist (control planes do not tolerate the
    CriticalAddonsOnly system pool)."""
    return build_mesh(
        cfg.mesh.provider,
        "mesh",
        A.mesh_args(cfg.mesh, ha=cfg.production, entrance_on=cfg.entrance_on),
        _opts(provider=cluster.provider, depends_on=[cluster]),
    )


def build_state(cfg: StackConfig, cluster: Cluster) -> State:
    """Key Vault, Postgres and log storage, protected in prod, reachable from AKS only."""
    rg, vnet = cluster.resource_group_name, cluster.vnet_id
    vault = Vault(
        "keyvault",
        A.vault_args(
            cfg,
            rg,
            cluster.aks_subnet_id,
            cluster.workspace_id,
            cluster.private_endpoint_subnet_id,
            vnet,
        ),
        _opts(),
    )
    database = MetadataDatabase(
        "postgres",
        A.database_args(cfg, rg, vault.vault_name, cluster.database_subnet_id, vnet),
        _opts(),
    )
    logs = LogStorage(
        "logs",
        A.log_storage_args(
            cfg, rg, cluster.aks_subnet_id, cluster.private_endpoint_subnet_id, vnet
        ),
        _opts(),
    )
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


def build_domains(
    cfg: StackConfig, cluster: Cluster, mesh: Mesh, state: State
) -> list[DomainTasksArgs]:
    """Data domains: each a DataDomain component; returns what Airflow needs to launch
    their task pods. Linear in the number of domains and declared calls."""
    sas = {d.name: A.domain_service_account(d.name) for d in cfg.domains}
    inbound = A.inbound_by_domain(cfg.domains, sas)
    out: list[DomainTasksArgs] = []
    for i, d in enumerate(cfg.domains):
        DataDomain(
            f"domain-{d.name}",
            A.data_domain_args(
                cfg,
                d,
                inbound,
                cluster.resource_group_name,
                cluster.oidc_issuer_url,
                state.vault.vault_id,
                state.logs.account_id,
                state.logs.account_name,
            ),
            _opts(provider=cluster.provider),
            mesh=mesh,
        )
        out.append(A.domain_tasks_args(cfg, i, d, mesh))
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


def secret_versions(state: State) -> dict[str, pulumi.Output[str]]:
    """Key Vault secret name -> its current version URI (changes with every new value): the
    Airflow component annotates the control-plane pods with their digest, so a rotation
    restarts them."""
    out: dict[str, pulumi.Output[str]] = {}
    for names, secrets in (
        (state.vault.secret_names, state.vault.secrets),
        (state.database.secret_names, state.database.secrets),
    ):
        for logical, kv_name in names.items():
            out[kv_name] = secrets[logical].properties.apply(
                lambda p: str(getattr(p, "secret_uri_with_version", None) or "")
            )
    return out


def build_airflow(
    cfg: StackConfig,
    cluster: Cluster,
    mesh: Mesh,
    state: State,
    sign_in: EntraSignIn | None = None,
    domains: list[DomainTasksArgs] | None = None,
) -> Airflow:
    """Airflow, installed once the mesh control plane, the secrets and the database exist."""
    args = A.airflow_args(
        cfg,
        mesh,
        resource_group_name=cluster.resource_group_name,
        oidc_issuer_url=cluster.oidc_issuer_url,
        tenant_id=state.vault.tenant_id,
        key_vault_name=state.vault.vault_name,
        key_vault_id=state.vault.vault_id,
        key_vault_secret_ids=secret_ids(state),
        logs_container=state.logs.container_name,
        logs_container_scope=state.logs.container_id,
        sign_in_client_id=sign_in.client_id if sign_in is not None else None,
        domains=domains or [],
    )
    args["secret_versions"] = secret_versions(state)
    deps: list[pulumi.Resource] = [*mesh.ready, *state.vault.secrets.values(), state.database]
    return Airflow("airflow", args, _opts(provider=cluster.provider, depends_on=deps), mesh=mesh)


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create the platform for a validated config; returns the stack outputs."""
    cluster = Cluster("aks", A.cluster_args(cfg), _opts())
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
    if gpu is not None and A.gpu_plugin_wanted(gpu):
        NvidiaDevicePlugin(
            "gpu-device-plugin",
            A.gpu_plugin_args(gpu),
            _opts(provider=cluster.provider, depends_on=[cluster]),
        )
    mesh = build_platform_mesh(cfg, cluster)
    outputs["meshProvider"] = mesh.provider
    state = build_state(cfg, cluster)
    outputs.update(state_outputs(state))
    sleep_args = A.hibernation_args(
        cfg, cluster.resource_group_name, cluster.cluster_id, state.database.server_id
    )
    if sleep_args is not None:  # dev sleeps outside working hours
        sleeper = Hibernation("hibernation", sleep_args, _opts())
        outputs["hibernationWakeWorkflow"] = sleeper.wake_workflow_name
        outputs["hibernationSleepWorkflow"] = sleeper.sleep_workflow_name
    domains = build_domains(cfg, cluster, mesh, state)
    if domains:
        outputs["domainNamespaces"] = {d["name"]: d["namespace"] for d in domains}
    if cfg.airflow.enabled:
        sign_in = (
            EntraSignIn("signin", A.sign_in_app_args(cfg, cluster.oidc_issuer_url), _opts())
            if A.sign_in_wanted(cfg)
            else None
        )
        airflow = build_airflow(cfg, cluster, mesh, state, sign_in, domains)
        outputs["airflowNamespace"] = airflow.namespace
        outputs["airflowChartVersion"] = airflow.chart_version
        outputs["airflowIdentityId"] = airflow.control_plane_identity_id
        outputs["airflowTasksIdentityId"] = airflow.tasks_identity_id
        outputs["airflowTasksClientId"] = airflow.tasks_client_id
        if A.entrance_wanted(cfg):
            # After Airflow: its namespace and the API server's mesh authorisation exist first.
            entrance = Entrance(
                "entrance",
                A.entrance_args(
                    cfg, mesh, mesh_has_cert_manager=installs_cert_manager(mesh.provider)
                ),
                _opts(provider=cluster.provider, depends_on=[airflow, *mesh.ready]),
            )
            outputs["airflowUrl"] = entrance.url
        if sign_in is not None:
            outputs["signInClientId"] = sign_in.client_id
            outputs["signInRedirectUri"] = sign_in.redirect_uri
    if cfg.gitops.enabled:
        gitops = GitOps(
            "gitops",
            A.gitops_args(
                cfg,
                cluster.resource_group_name,
                cluster.cluster_name,
                cluster.cluster_id,
                [cfg.airflow.namespace],
            ),
            # Flux reconciles workloads that need the nodes and the mesh in place.
            _opts(depends_on=[cluster]),
        )
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
