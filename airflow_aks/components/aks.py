"""The AKS cluster: resource group, Log Analytics, network, ManagedCluster and node pools.

Decisions live in pure functions (:func:`cluster_settings`, :func:`pool_settings`,
:func:`maintenance_window`, :func:`exec_kubeconfig`) so they are tested without an engine;
:class:`Cluster` only wires resources. Only the system pool is inline: extra pools inside
``agentPoolProfiles`` cannot be added or edited in place (azure-native #579/#2719/#4264).
"""

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_azure_native import (
    authorization,
    containerservice,
    managedidentity,
    monitor,
    operationalinsights,
    resources,
)

from airflow_aks.components.tokens import type_token

from .identity import role_assignment
from .network import Network
from .scheduling import SPOT_TAINT as SPOT_TAINT  # re-exported: taints live in scheduling
from .scheduling import SYSTEM_TAINT as SYSTEM_TAINT
from .scheduling import effective_taints

# Auto-upgrade channels under which AKS itself moves the minor version (AKS auto-upgrade
# doc, 2026-07; Azure/terraform-azurerm-aks refuses a pinned version with these, and keeps
# kubernetes_version/orchestrator_version in ignore_changes). `patch` moves patches only,
# inside the MAJOR.MINOR we pin; `none` moves nothing; the legacy `node-image` channel
# moves node images only (aks-docs auto-upgrade-cluster.md, read 2026-12-07).
AKS_OWNS_MINOR = frozenset({"stable", "rapid"})
DEFAULT_MAX_SURGE = "33%"

CLUSTER_ADMIN_ROLE = "Azure Kubernetes Service RBAC Cluster Admin"

# Container Insights with managed-identity auth, as Microsoft's onboarding samples create it
# (microsoft/Docker-Provider scripts/onboarding/aks/onboarding-msi-{bicep,terraform}; Azure
# Monitor "configure data collection" doc; read 2026-12-02): without the DCR and its
# association the ama-logs agent runs but collects nothing.
CONTAINER_INSIGHTS_STREAMS = (
    "Microsoft-ContainerLog",
    "Microsoft-ContainerLogV2",
    "Microsoft-KubeEvents",
    "Microsoft-KubePodInventory",
    "Microsoft-KubeNodeInventory",
    "Microsoft-KubePVInventory",
    "Microsoft-KubeServices",
    "Microsoft-KubeMonAgentEvents",
    "Microsoft-InsightsMetrics",
    "Microsoft-ContainerInventory",
    "Microsoft-ContainerNodeInventory",
    "Microsoft-Perf",
)
CONTAINER_INSIGHTS_ASSOCIATION = "ContainerInsightsExtension"
# Control-plane log categories (aks-docs monitor-aks.md, 2026-08). kube-audit-admin leaves
# out get/list (kube-audit is the high-volume superset); guard is the Entra/RBAC webhook.
CONTROL_PLANE_LOG_CATEGORIES = (
    "kube-audit-admin",
    "guard",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "cloud-controller-manager",
)


class NodePoolArgs(TypedDict, total=False):
    """One node pool (keys match the ``aks.*Pool`` config keys in snake_case)."""

    name: Required[str]
    """Pool name, ``^[a-z][a-z0-9]{0,11}$``."""
    vm_size: Required[str]
    """VM size, e.g. ``Standard_D4ds_v5``."""
    enable_auto_scaling: bool
    """Let the cluster autoscaler manage the node count."""
    min_count: int
    """Autoscaler minimum (0 allowed for user pools)."""
    max_count: int
    """Autoscaler maximum."""
    node_count: int | None
    """Initial node count; defaults to ``min_count``."""
    max_pods: int
    """Pods per node (>= 50 leaves room for mesh sidecars and daemonsets)."""
    os_disk_type: str
    """``Ephemeral`` (faster, no disk cost) or ``Managed``."""
    os_disk_size_gb: int
    """OS disk size."""
    os_sku: str
    """``AzureLinux`` or ``Ubuntu``."""
    zones: Sequence[str]
    """Availability zones."""
    encryption_at_host: bool
    """Encrypt temp and cache disks on the host."""
    spot: bool
    """Spot VMs (evictable, much cheaper): for run-to-completion task pods only."""
    spot_max_price: float
    """Highest spot price; -1 pays up to the on-demand price."""
    taints: Sequence[str]
    """Node taints ``key=value:Effect``."""
    labels: dict[str, str]
    """Node labels."""
    max_surge: str | None
    """Extra nodes during upgrades (``33%`` or a number); never sent for spot pools."""


POST_CREATE_TAG = "airflow-aks-post-create"


def cluster_tags(tags: dict[str, str], steps: list[str]) -> dict[str, str]:
    """The cluster's tags plus its post-create steps (Azure tag values hold 256 chars)."""
    if not steps:
        return dict(tags)
    value = " && ".join(steps)
    if len(value) > 256:
        raise ValueError(f"post-create steps exceed an Azure tag value (256 chars): {value}")
    return {**tags, POST_CREATE_TAG: value}


def initial_count(pool: NodePoolArgs) -> int:
    """Nodes at creation: ``node_count``, else ``min_count`` (>= 1 without autoscaling)."""
    if pool.get("node_count") is not None:
        return int(pool["node_count"])  # type: ignore[arg-type]
    minimum = pool.get("min_count", 1)
    return minimum if pool.get("enable_auto_scaling", True) else max(minimum, 1)


def pool_settings(pool: NodePoolArgs, subnet_id: pulumi.Input[str], *, mode: str) -> dict[str, Any]:
    """Agent-pool properties shared by the inline system pool and separate user pools."""
    autoscale = pool.get("enable_auto_scaling", True)
    # The system taint keeps application pods off the system pool (CKV_AZURE_232); AKS adds
    # the spot taint itself, stating it keeps the plan equal to the cluster's state.
    taints = effective_taints(
        pool.get("taints", ()), spot=bool(pool.get("spot")), system=mode == "System"
    )
    settings: dict[str, Any] = {
        "mode": mode,
        "type": "VirtualMachineScaleSets",  # the autoscaler needs scale sets
        "vm_size": pool["vm_size"],
        "os_type": "Linux",
        "os_sku": pool.get("os_sku", "AzureLinux"),
        "os_disk_type": pool.get("os_disk_type", "Ephemeral"),
        "os_disk_size_gb": pool.get("os_disk_size_gb", 64),
        "max_pods": pool.get("max_pods", 50),
        "count": initial_count(pool),
        "enable_auto_scaling": autoscale,
        "enable_encryption_at_host": pool.get("encryption_at_host", True),
        "enable_node_public_ip": False,
        "vnet_subnet_id": subnet_id,
        "node_taints": taints,
        "node_labels": dict(pool.get("labels", {})),
    }
    if not pool.get("spot"):
        # Spot pools get no upgradeSettings: AKS refuses max surge there ("Spot pools can't
        # set max surge"; aks-docs spot-node-pool.md, terraform-provider-azurerm#19355).
        settings["upgrade_settings"] = {"max_surge": pool.get("max_surge") or DEFAULT_MAX_SURGE}
    if autoscale:
        settings["min_count"] = pool.get("min_count", 1)
        settings["max_count"] = pool.get("max_count", 3)
    zones = list(pool.get("zones", ()))
    if zones:
        settings["availability_zones"] = zones
    if pool.get("spot"):
        if mode == "System":
            raise ValueError(f"pool {pool['name']!r}: a system pool cannot use spot VMs")
        settings.update(
            scale_set_priority="Spot",
            scale_set_eviction_policy="Delete",
            spot_max_price=pool.get("spot_max_price", -1),
        )
    return settings


class MaintenanceWindowArgs(TypedDict):
    """Weekly window in which AKS may upgrade Kubernetes and node images (both channels)."""

    day_of_week: str
    """``Monday`` ... ``Sunday``."""
    start_time: str
    """Start of the window, ``HH:MM`` (24 h)."""
    duration_hours: int
    """Length of the window in hours (AKS requires >= 4)."""
    utc_offset: str
    """Offset of ``start_time`` from UTC, ``+HH:MM`` or ``-HH:MM`` (``+00:00`` for UTC)."""


class ClusterNetworkArgs(TypedDict, total=False):
    """The VNet: CIDRs of the network the component creates, or existing ids (all three)."""

    vnet_cidr: str
    """Address space of the VNet the component creates."""
    aks_subnet_cidr: str
    """Node subnet."""
    database_subnet_cidr: str
    """Subnet delegated to PostgreSQL flexible servers."""
    private_endpoint_subnet_cidr: str
    """Subnet of private endpoints (Key Vault)."""
    existing_vnet_id: str | None
    """ARM id of an existing VNet (bring your own network; no VNet is created)."""
    existing_aks_subnet_id: str | None
    """ARM id of the existing node subnet (with ``existing_vnet_id``)."""
    existing_database_subnet_id: str | None
    """ARM id of the existing Postgres-delegated subnet (with ``existing_vnet_id``)."""
    public_inbound_ports: list[int]
    """TCP ports a public load balancer serves (the entrance's listeners): the node
    subnet's NSG allows them from the internet (a created VNet only)."""


_NEW_NETWORK_KEYS = (
    "vnet_cidr",
    "aks_subnet_cidr",
    "database_subnet_cidr",
    "private_endpoint_subnet_cidr",
)
_EXISTING_NETWORK_KEYS = (
    "existing_vnet_id",
    "existing_aks_subnet_id",
    "existing_database_subnet_id",
)


def required_arg(args: Mapping[str, Any], key: str, where: str) -> Any:
    """``args[key]``, or a ``ValueError`` naming ``<where>.<key>`` and the keys given."""
    value = args.get(key)
    if value is None:
        given = ", ".join(sorted(k for k, v in args.items() if v is not None)) or "none"
        raise ValueError(f"{where}.{key} is required (given: {given})")
    return value


def network_layout(net: ClusterNetworkArgs) -> Literal["existing", "new"]:
    """``existing`` when all three existing ids are given, ``new`` when all four CIDRs
    are; anything in between is an error naming the missing keys."""
    given = [k for k in _EXISTING_NETWORK_KEYS if net.get(k)]
    if given:
        missing = [k for k in _EXISTING_NETWORK_KEYS if k not in given]
        if missing:
            raise ValueError(
                f"network.{missing[0]} is required with {', '.join('network.' + g for g in given)}"
                f" (bring your own network needs all of {', '.join(_EXISTING_NETWORK_KEYS)})"
            )
        return "existing"
    for key in _NEW_NETWORK_KEYS:
        required_arg(net, key, "network")
    return "new"


def maintenance_window(window: MaintenanceWindowArgs) -> dict[str, Any]:
    """A weekly ``maintenanceWindow`` for the aksManaged* maintenance configurations."""
    need = {
        k: required_arg(window, k, "maintenance_window")
        for k in MaintenanceWindowArgs.__annotations__
    }
    return {
        "schedule": {"weekly": {"day_of_week": need["day_of_week"], "interval_weeks": 1}},
        "duration_hours": need["duration_hours"],
        "start_time": need["start_time"],
        "utc_offset": need["utc_offset"],
    }


def version_ignore_changes(upgrade_channel: str) -> tuple[list[str], list[str]]:
    """``(cluster, node pool)`` properties the program must not fight under ``upgrade_channel``.

    One rule: under ``stable``/``rapid``/``node-image`` AKS owns the minor version, so the
    configured ``kubernetesVersion`` is the *creation* version and later differences are
    ignored (otherwise the next ``up`` asks for a downgrade, which AKS refuses). Under
    ``patch``/``none`` the program owns ``MAJOR.MINOR`` and upgrades are config edits.
    The autoscaler owns node counts either way.
    """
    cluster, pool = ["agentPoolProfiles[0].count"], ["count"]
    if upgrade_channel in AKS_OWNS_MINOR:
        cluster += ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]
        pool.append("orchestratorVersion")
    return cluster, pool


# Subscription features the cluster needs (AKS host-encryption doc, 2026-04): registered once
# per subscription; azure-native does not register features or providers (#3479, #1075).
ENCRYPTION_AT_HOST = ("Microsoft.Compute", "EncryptionAtHost")
_NOT_REGISTERED = {
    "NotSpecified",
    "NotRegistered",
    "Pending",
    "Registering",
    "Unregistering",
    "Unregistered",
}


def feature_commands(namespace: str, feature: str) -> str:
    """The one-time commands that register a preview feature and refresh its provider."""
    return (
        f"az feature register --namespace {namespace} --name {feature} && "
        f"az feature show --namespace {namespace} --name {feature} --query properties.state "
        f"(wait for Registered) && az provider register --namespace {namespace}"
    )


def feature_problem(namespace: str, feature: str, state: str | None) -> str | None:
    """Why a subscription feature blocks the deployment, from its registration state.

    ``None`` when it is ``Registered`` or the state cannot be told (a preview that cannot
    read it): only a state ARM reports as not registered stops the program.
    """
    if state not in _NOT_REGISTERED:
        return None
    return (
        f"subscription feature {namespace}/{feature} is {state}: every node pool uses it "
        f"(aks.*Pool.encryptionAtHost). Register it once per subscription: "
        f"{feature_commands(namespace, feature)}; or set encryptionAtHost: false on the pools"
    )


def cluster_admin_grants(
    admin_group_object_ids: Sequence[str], *, deployer: bool, deployer_type: str = "User"
) -> list[tuple[str, str | None, str]]:
    """``(name suffix, group object id or None for the deployer, principal type)``.

    With Entra ID + Azure RBAC, Kubernetes access comes from Azure role assignments on the
    cluster ("Azure Kubernetes Service RBAC Cluster Admin", AKS Entra authorization doc):
    each admin group gets one, and so does the identity running ``pulumi up`` (else its own
    Kubernetes resources get 403). The deployer's type must be stated (the SDK defaults a
    missing ``principalType`` to ``User``, and ARM rejects a mismatch): ``User`` for a
    person, ``ServicePrincipal`` for CI.
    """
    if len(set(admin_group_object_ids)) != len(admin_group_object_ids):
        raise ValueError(f"duplicate admin group object ids: {list(admin_group_object_ids)}")
    if deployer_type not in ("User", "ServicePrincipal"):
        raise ValueError(f"deployer principal type {deployer_type!r}: User or ServicePrincipal")
    grants: list[tuple[str, str | None, str]] = [
        (f"admins-{i}", group, "Group") for i, group in enumerate(admin_group_object_ids)
    ]
    if deployer:
        grants.append(("deployer", None, deployer_type))
    return grants


def container_insights_rule(
    workspace_id: pulumi.Input[str], *, interval: str = "1m"
) -> dict[str, Any]:
    """``data_sources``/``destinations``/``data_flows`` of the Container Insights DCR."""
    streams = list(CONTAINER_INSIGHTS_STREAMS)
    return {
        "kind": "Linux",
        "data_sources": {
            "extensions": [
                {
                    "name": CONTAINER_INSIGHTS_ASSOCIATION,
                    "extension_name": "ContainerInsights",
                    "streams": streams,
                    "extension_settings": {
                        "dataCollectionSettings": {
                            "interval": interval,
                            "namespaceFilteringMode": "Off",
                            "enableContainerLogV2": True,
                        }
                    },
                }
            ]
        },
        "destinations": {
            "log_analytics": [{"name": "ciworkspace", "workspace_resource_id": workspace_id}]
        },
        "data_flows": [{"streams": streams, "destinations": ["ciworkspace"]}],
    }


def data_collection_rule_name(location: str, cluster_name: str) -> str:
    """``MSCI-<region>-<cluster>`` truncated to 64 characters (Microsoft's Bicep sample)."""
    return f"MSCI-{location}-{cluster_name}"[:64]


class ClusterArgs(TypedDict, total=False):
    """Arguments of :class:`Cluster` (snake_case mirrors of the ``aks``/``network`` keys)."""

    location: Required[str]
    """Azure region."""
    tags: dict[str, str]
    """Azure tags on every resource."""
    post_create_steps: list[str]
    """Commands to run once after the cluster exists, for settings the SDK's API version
    cannot express: recorded as the ManagedCluster tag ``airflow-aks-post-create`` (the
    plan prints it; the CRD rule takes it as the source of what it enables)."""
    resource_group_name: Required[str]
    """Resource group to create (or use, with ``existing_resource_group``)."""
    existing_resource_group: bool
    """Use an existing resource group instead of creating one."""
    cluster_name: Required[str]
    """ManagedCluster name (also its DNS prefix)."""
    workspace_name: Required[str]
    """Log Analytics workspace name."""
    log_retention_days: int
    """Workspace retention (30 is included in the price)."""
    vnet_name: Required[str]
    """VNet name when the component creates the network."""
    network: Required[ClusterNetworkArgs]
    """The VNet to create (CIDRs) or to use (existing ids)."""
    kubernetes_version: Required[str]
    """``MAJOR.MINOR``."""
    tier: str
    """``Free`` | ``Standard`` | ``Premium``."""
    admin_group_object_ids: Sequence[str]
    """Entra ID groups that become cluster admins (Azure RBAC)."""
    tenant_id: str | None
    """Entra tenant; defaults to the deploying tenant."""
    oidc_issuer: bool
    """Enable the OIDC issuer (needed for workload identity)."""
    workload_identity: bool
    """Enable the workload-identity webhook."""
    azure_rbac: bool
    """Kubernetes authorisation through Azure RBAC."""
    local_accounts: bool
    """Keep static admin credentials (off: every access is an Entra identity)."""
    network_plugin: str
    """``azure`` (default), ``kubenet`` or ``none``."""
    network_plugin_mode: str | None
    """``overlay`` (default: pod IPs outside the VNet) or None."""
    network_dataplane: str
    """``cilium`` (default) or ``azure``."""
    network_policy: str
    """``cilium`` (default), ``azure``, ``calico`` or ``none``."""
    pod_cidr: str
    """Pod address space in overlay mode (default ``192.168.0.0/16``)."""
    service_cidr: str
    """Kubernetes service address space (default ``172.16.0.0/16``)."""
    dns_service_ip: str
    """Cluster DNS service IP inside ``service_cidr`` (default ``172.16.0.10``)."""
    outbound_type: str
    """``loadBalancer`` (default), ``userDefinedRouting`` or ``managedNATGateway``."""
    private_cluster: bool
    """Private API server (no public endpoint)."""
    authorized_ip_ranges: Sequence[str]
    """CIDRs allowed to reach a public API server."""
    disable_run_command: bool
    """Disable ``az aks command invoke`` (bypasses network controls)."""
    upgrade_channel: str
    """Kubernetes auto-upgrade channel."""
    node_os_upgrade_channel: str
    """Node OS image channel."""
    maintenance_window: Required[MaintenanceWindowArgs]
    """Weekly window for both upgrade channels."""
    secret_rotation_interval: str
    """Key Vault CSI add-on rotation poll interval (``2m``)."""
    image_cleaner_interval_hours: int
    """How often the image cleaner removes unused images."""
    azure_policy: bool
    """Azure Policy add-on (Gatekeeper)."""
    defender: bool
    """Microsoft Defender for Containers."""
    monitoring: bool
    """Container Insights with AAD auth to the workspace."""
    system_pool: Required[NodePoolArgs]
    """The inline system pool."""
    user_pools: Sequence[NodePoolArgs]
    """Workload, task and optional GPU pools (separate AgentPool resources)."""
    kubelogin_method: str
    """``kubelogin --login`` mode in the kubeconfig the Kubernetes provider uses."""
    grant_deployer_cluster_admin: bool
    """Grant "Azure Kubernetes Service RBAC Cluster Admin" to the identity running
    ``pulumi up`` (default True with Azure RBAC); it creates Kubernetes objects."""
    deployer_principal_type: str
    """``User`` (a person, default) or ``ServicePrincipal`` (CI) for that grant."""


def cluster_settings(
    args: ClusterArgs,
    *,
    subnet_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    identity_id: pulumi.Input[str],
) -> dict[str, Any]:
    """Every ManagedCluster property this project sets, as snake_case kwargs."""
    addons: dict[str, Any] = {
        "azureKeyvaultSecretsProvider": {
            "enabled": True,
            "config": {
                "enableSecretRotation": "true",
                "rotationPollInterval": args.get("secret_rotation_interval", "2m"),
            },
        },
        "azurepolicy": {"enabled": bool(args.get("azure_policy", True))},
        # No entry for retired add-ons (kubeDashboard, httpApplicationRouting): AKS refuses
        # or ignores them (dated table: policies/rules/azure_facts.py RETIRED_ADDONS).
    }
    if args.get("monitoring", True):
        addons["omsagent"] = {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"},
        }
    security: dict[str, Any] = {
        "workload_identity": {"enabled": bool(args.get("workload_identity", True))},
        "image_cleaner": {
            "enabled": True,
            "interval_hours": args.get("image_cleaner_interval_hours", 168),
        },
    }
    if args.get("defender"):
        security["defender"] = {
            "log_analytics_workspace_resource_id": workspace_id,
            "security_monitoring": {"enabled": True},
        }
    private = bool(args.get("private_cluster"))
    api_access: dict[str, Any] = {
        "enable_private_cluster": private,
        "disable_run_command": bool(args.get("disable_run_command", True)),
    }
    if not private:
        api_access["authorized_ip_ranges"] = list(args.get("authorized_ip_ranges", ()))
    aad: dict[str, Any] = {
        "managed": True,
        "enable_azure_rbac": bool(args.get("azure_rbac", True)),
        "admin_group_object_ids": list(args.get("admin_group_object_ids", ())),
    }
    if tenant := args.get("tenant_id"):
        aad["tenant_id"] = tenant
    net: dict[str, Any] = {
        "network_plugin": args.get("network_plugin", "azure"),
        "network_dataplane": args.get("network_dataplane", "cilium"),
        "network_policy": args.get("network_policy", "cilium"),
        "pod_cidr": args.get("pod_cidr", "192.168.0.0/16"),
        "service_cidr": args.get("service_cidr", "172.16.0.0/16"),
        "dns_service_ip": args.get("dns_service_ip", "172.16.0.10"),
        "outbound_type": args.get("outbound_type", "loadBalancer"),
        "load_balancer_sku": "standard",
    }
    if mode := args.get("network_plugin_mode", "overlay"):
        net["network_plugin_mode"] = mode
    system = pool_settings(args["system_pool"], subnet_id, mode="System")
    system["name"] = args["system_pool"]["name"]
    return {
        "dns_prefix": args["cluster_name"],
        "kubernetes_version": args["kubernetes_version"],
        "sku": {"name": "Base", "tier": args.get("tier", "Free")},
        "identity": {"type": "UserAssigned", "user_assigned_identities": [identity_id]},
        "enable_rbac": True,
        "disable_local_accounts": not args.get("local_accounts", False),
        "aad_profile": aad,
        "oidc_issuer_profile": {"enabled": bool(args.get("oidc_issuer", True))},
        "security_profile": security,
        "api_server_access_profile": api_access,
        "network_profile": net,
        "addon_profiles": addons,
        "auto_upgrade_profile": {
            "upgrade_channel": args.get("upgrade_channel", "stable"),
            "node_os_upgrade_channel": args.get("node_os_upgrade_channel", "NodeImage"),
        },
        "agent_pool_profiles": [system],
        "public_network_access": "Enabled" if not private else "Disabled",
    }


def exec_kubeconfig(kubeconfig_b64: str, login: str) -> str:
    """Decode the ``format=exec`` user kubeconfig and pin its kubelogin login mode.

    The exec kubeconfig defaults to ``--login devicecode``, which blocks a non-interactive
    ``pulumi up``; ``azurecli`` reuses ``az login``, ``workloadidentity`` suits CI with OIDC.
    """
    allowed = {"azurecli", "workloadidentity", "devicecode", "spn", "msi", "interactive"}
    if login not in allowed:
        raise ValueError(f"kubelogin method {login!r} not one of {sorted(allowed)}")
    doc = yaml.safe_load(base64.b64decode(kubeconfig_b64).decode())
    for user in doc.get("users", []):
        exec_cfg = (user.get("user") or {}).get("exec")
        if not exec_cfg:
            continue
        argv = list(exec_cfg.get("args", []))
        if "--login" in argv:
            argv[argv.index("--login") + 1] = login
        else:
            argv += ["--login", login]
        exec_cfg["args"] = argv
    return yaml.safe_dump(doc, sort_keys=False)


def first_kubeconfig(kubeconfigs: Sequence[Any] | None, login: str) -> str:
    """The first kubeconfig ``listManagedClusterUserCredentials`` returned, pinned to
    ``login``; a clear error when the invoke returned none (a unit-test mock that does not
    answer ``azure-native:containerservice:listManagedClusterUserCredentials`` — mock it, or
    use :mod:`airflow_aks.offline.testing`, which does)."""
    if not kubeconfigs or not getattr(kubeconfigs[0], "value", None):
        raise ValueError(
            "listManagedClusterUserCredentials returned no kubeconfig: a mock must answer "
            "azure-native:containerservice:listManagedClusterUserCredentials with "
            "{'kubeconfigs': [{'name': 'clusterUser', 'value': <base64 kubeconfig>}]} "
            "(airflow_aks.offline.testing does)"
        )
    return exec_kubeconfig(kubeconfigs[0].value, login)


class Cluster(pulumi.ComponentResource):
    """Resource group, Log Analytics, VNet, AKS with system/workload/task(/GPU) pools."""

    resource_group_name: pulumi.Output[str]
    """Resource group of everything the stack creates."""
    location: str
    """Azure region."""
    cluster_name: pulumi.Output[str]
    """Name of the ManagedCluster."""
    cluster_id: pulumi.Output[str]
    """ARM id of the ManagedCluster."""
    oidc_issuer_url: pulumi.Output[str]
    """Issuer for federated credentials (known only after creation)."""
    workspace_id: pulumi.Output[str]
    """Log Analytics workspace ARM id (diagnostics of other components go here)."""
    vnet_id: pulumi.Output[str]
    """ARM id of the VNet (created here or given)."""
    aks_subnet_id: pulumi.Output[str]
    """ARM id of the node subnet."""
    database_subnet_id: pulumi.Output[str]
    """ARM id of the subnet delegated to PostgreSQL flexible servers."""
    private_endpoint_subnet_id: pulumi.Output[str]
    """ARM id of the private-endpoint subnet (the node subnet with an existing network)."""
    control_plane_identity_id: pulumi.Output[str]
    """ARM id of the cluster's user-assigned control-plane identity."""
    kubeconfig: pulumi.Output[str]
    """User kubeconfig in exec (kubelogin) format, as a secret."""
    _k8s_provider: k8s.Provider

    @property
    def provider(self) -> k8s.Provider:
        """Kubernetes provider authenticated with Entra ID (no admin credentials); Python
        only: other languages build their own from ``kubeconfig``."""
        return self._k8s_provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token(Cluster), name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.get("tags", {}))
        self.location = args["location"]

        if args.get("existing_resource_group"):
            rg_name: pulumi.Output[str] = pulumi.Output.from_input(args["resource_group_name"])
        else:
            rg = resources.ResourceGroup(
                name,
                resource_group_name=args["resource_group_name"],
                location=args["location"],
                tags=tags,
                opts=child,
            )
            rg_name = rg.name
        self.resource_group_name = rg_name

        workspace = operationalinsights.Workspace(
            name,
            workspace_name=args["workspace_name"],
            resource_group_name=rg_name,
            location=args["location"],
            sku={"name": "PerGB2018"},
            retention_in_days=args.get("log_retention_days", 30),
            tags=tags,
            opts=child,
        )
        self.workspace_id = workspace.id

        net_cfg = args["network"]
        if network_layout(net_cfg) == "existing":
            self.vnet_id = pulumi.Output.from_input(str(net_cfg.get("existing_vnet_id")))
            self.aks_subnet_id = pulumi.Output.from_input(
                str(net_cfg.get("existing_aks_subnet_id"))
            )
            self.database_subnet_id = pulumi.Output.from_input(
                str(net_cfg.get("existing_database_subnet_id"))
            )
            self.private_endpoint_subnet_id = self.aks_subnet_id
        else:
            vnet = Network(
                name,
                {
                    "resource_group_name": rg_name,
                    "location": args["location"],
                    "vnet_name": args["vnet_name"],
                    "vnet_cidr": net_cfg.get("vnet_cidr", ""),
                    "aks_subnet_cidr": net_cfg.get("aks_subnet_cidr", ""),
                    "database_subnet_cidr": net_cfg.get("database_subnet_cidr", ""),
                    "private_endpoint_subnet_cidr": net_cfg.get("private_endpoint_subnet_cidr", ""),
                    "public_inbound_ports": list(net_cfg.get("public_inbound_ports") or []),
                    "tags": tags,
                },
                opts=child,
            )
            self.vnet_id = vnet.vnet_id
            self.aks_subnet_id = vnet.aks_subnet_id
            self.database_subnet_id = vnet.database_subnet_id
            self.private_endpoint_subnet_id = vnet.private_endpoint_subnet_id

        # A user-assigned control-plane identity survives cluster re-creation and can be
        # granted "Network Contributor" on just the node subnet before the cluster exists.
        cp_identity = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane",
            resource_name_=f"id-{args['cluster_name']}",
            resource_group_name=rg_name,
            location=args["location"],
            tags=tags,
            opts=child,
        )
        self.control_plane_identity_id = cp_identity.id
        subnet_grant = role_assignment(
            f"{name}-subnet-network-contributor",
            principal_id=cp_identity.principal_id,
            role="Network Contributor",
            scope=self.aks_subnet_id,
            opts=child,
        )

        settings = cluster_settings(
            args,
            subnet_id=self.aks_subnet_id,
            workspace_id=workspace.id,
            identity_id=cp_identity.id,
        )
        cluster_ignore, pool_ignore = version_ignore_changes(args.get("upgrade_channel", "stable"))
        cluster = containerservice.ManagedCluster(
            name,
            resource_name_=args["cluster_name"],
            resource_group_name=rg_name,
            location=args["location"],
            tags=cluster_tags(tags, args.get("post_create_steps") or []),
            **settings,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[subnet_grant],
                # The autoscaler moves node counts; AKS moves versions under an
                # auto-upgrade channel: the next `up` must fight neither.
                ignore_changes=cluster_ignore,
            ),
        )
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda p: p.issuer_url if p else None  # type: ignore[return-value]
        )

        window = maintenance_window(args["maintenance_window"])
        for config_name in ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"):
            containerservice.MaintenanceConfiguration(
                f"{name}-{config_name}",
                config_name=config_name,
                resource_group_name=rg_name,
                resource_name_=cluster.name,
                maintenance_window=window,  # type: ignore[arg-type]
                opts=child,
            )

        for pool in args.get("user_pools", ()):
            containerservice.AgentPool(
                f"{name}-{pool['name']}",
                agent_pool_name=pool["name"],
                resource_group_name=rg_name,
                resource_name_=cluster.name,
                orchestrator_version=args["kubernetes_version"],
                **pool_settings(pool, self.aks_subnet_id, mode="User"),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=pool_ignore),
            )

        if args.get("monitoring", True):
            self._container_insights(name, args, rg_name, workspace.id, cluster)

        admin_grants: list[pulumi.Resource] = []
        if args.get("azure_rbac", True):
            deployer = authorization.get_client_config_output().object_id
            for suffix, group, principal_type in cluster_admin_grants(
                list(args.get("admin_group_object_ids", ())),
                deployer=args.get("grant_deployer_cluster_admin", True),
                deployer_type=args.get("deployer_principal_type", "User"),
            ):
                admin_grants.append(
                    role_assignment(
                        f"{name}-cluster-admin-{suffix}",
                        principal_id=group if group is not None else deployer,
                        role=CLUSTER_ADMIN_ROLE,
                        scope=cluster.id,
                        principal_type=principal_type,
                        opts=child,
                    )
                )

        creds = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name,
            resource_name=cluster.name,
            format="exec",
            # Only once the cluster exists: a preview of a new cluster must not call Azure.
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster]),
        )
        login = args.get("kubelogin_method", "azurecli")
        self.kubeconfig = pulumi.Output.secret(
            creds.kubeconfigs.apply(lambda k: first_kubeconfig(k, login))
        )
        self._k8s_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Server-side apply lets Flux and Pulumi co-own objects without fights.
            enable_server_side_apply=True,
            # Every Kubernetes object waits for the deployer's cluster-admin grant (Azure
            # RBAC assignments can take a few minutes to propagate; re-run `up` on a 403).
            opts=pulumi.ResourceOptions(parent=self, depends_on=admin_grants),
        )
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "cluster_name": self.cluster_name,
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "workspace_id": self.workspace_id,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _container_insights(
        self,
        name: str,
        args: ClusterArgs,
        rg_name: pulumi.Input[str],
        workspace_id: pulumi.Input[str],
        cluster: containerservice.ManagedCluster,
    ) -> None:
        """DCR + association (Container Insights) and control-plane logs to the workspace."""
        child = pulumi.ResourceOptions(parent=self)
        rule = monitor.DataCollectionRule(
            f"{name}-container-insights",
            data_collection_rule_name=data_collection_rule_name(
                args["location"], args["cluster_name"]
            ),
            resource_group_name=rg_name,
            location=args["location"],
            description="Container Insights (managed identity) for the AKS cluster",
            tags=dict(args.get("tags", {})),
            **container_insights_rule(workspace_id),
            opts=child,
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-container-insights",
            association_name=CONTAINER_INSIGHTS_ASSOCIATION,
            resource_uri=cluster.id,
            data_collection_rule_id=rule.id,
            description="Deleting this association stops Container Insights collection.",
            opts=child,
        )
        monitor.DiagnosticSetting(
            f"{name}-control-plane-logs",
            name="control-plane-to-log-analytics",
            resource_uri=cluster.id,
            workspace_id=workspace_id,
            # Resource-specific tables (AKSAudit, AKSAuditAdmin, AKSControlPlane).
            log_analytics_destination_type="Dedicated",
            logs=[{"category": c, "enabled": True} for c in CONTROL_PLANE_LOG_CATEGORIES],
            opts=child,
        )
