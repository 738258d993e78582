"""Config models for the network and the AKS cluster (stack keys ``network`` and ``aks``).

Cross-field validators encode the AKS preconditions that otherwise fail minutes into a
deployment (see Azure/terraform-azurerm-aks): workload identity needs the OIDC issuer,
overlay and ``networkPolicy: azure`` need the azure plugin, cilium needs overlay, and so on.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from airflow_aks.policies.rules import azure_facts

from .base import StrictModel, UniqueStrs, problems_error, unique_list
from .kinds import guid_problem, label_problems, spot_price_problem, taint_problem

POOL_NAME = r"^[a-z][a-z0-9]{0,11}$"


def _net(value: str, key: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{key} {value!r} is not an IPv4 CIDR block ({exc})") from None


class NodePoolConfig(StrictModel):
    """One AKS node pool."""

    name: str = Field(pattern=POOL_NAME, description="AKS pool name: ^[a-z][a-z0-9]{0,11}$")
    vm_size: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$")
    enable_auto_scaling: bool = True
    min_count: int = Field(default=1, ge=0, le=1000)
    max_count: int = Field(default=3, ge=1, le=1000)
    node_count: int | None = Field(default=None, ge=0, le=1000)
    max_pods: int = Field(default=50, ge=10, le=250)
    os_disk_type: Literal["Ephemeral", "Managed"] = "Ephemeral"
    os_disk_size_gb: int = Field(default=64, ge=30, le=2048)
    os_sku: Literal["AzureLinux", "Ubuntu"] = "AzureLinux"
    zones: Annotated[list[Literal["1", "2", "3"]], AfterValidator(unique_list)] = Field(
        default_factory=list
    )
    encryption_at_host: bool = True
    spot: bool = False
    spot_max_price: float = Field(default=-1, description="-1 = pay up to on-demand price")
    taints: UniqueStrs = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("spot_max_price")
    @classmethod
    def _spot_price(cls, v: float) -> float:
        if problem := spot_price_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("taints")
    @classmethod
    def _taints(cls, v: list[str]) -> list[str]:
        if problems := [p for t in v if (p := taint_problem(t))]:
            raise problems_error(problems)
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        if problems := label_problems(v):
            raise problems_error(problems)
        return v

    max_surge: str | None = Field(
        default=None,
        pattern=r"^(\d{1,3}%|\d+)$",
        description="extra nodes during upgrades; default 33% (not allowed on spot pools)",
    )

    @model_validator(mode="after")
    def _counts(self) -> NodePoolConfig:
        if self.enable_auto_scaling and self.min_count > self.max_count:
            raise ValueError(f"minCount ({self.min_count}) exceeds maxCount ({self.max_count})")
        n = self.node_count
        if n is not None and self.enable_auto_scaling and not self.min_count <= n <= self.max_count:
            raise ValueError(
                f"nodeCount ({n}) must lie within minCount..maxCount "
                f"({self.min_count}..{self.max_count})"
            )
        if self.spot and self.max_surge is not None:
            # AKS answers "Spot pools can't set max surge" (InvalidParameter on
            # agentPoolProfile.upgrade.maxSurge; jenkins-infra/azure#730,
            # terraform-provider-azurerm#19355, read 2026-12-07); aks-docs
            # spot-node-pool.md: "There are no surge nodes available for Spot node pool
            # upgrades".
            raise ValueError(
                f"maxSurge ({self.max_surge}) cannot be set on a spot pool: AKS upgrades spot "
                "pools without surge nodes and refuses the setting; remove maxSurge"
            )
        return self

    @property
    def initial_count(self) -> int:
        """Nodes at creation: nodeCount, else minCount (never 0 for a non-scaling pool)."""
        if self.node_count is not None:
            return self.node_count
        return self.min_count if self.enable_auto_scaling else max(self.min_count, 1)


class GpuPoolConfig(NodePoolConfig):
    """Optional GPU pool for tasks that ask for ``nvidia.com/gpu``: scales from zero and is
    tainted, so only pods that tolerate the GPU taint (and pay for it) land there."""

    enabled: bool = False
    name: str = Field(default="gpu", pattern=POOL_NAME)
    vm_size: str = Field(default="Standard_NC4as_T4_v3", pattern=r"^Standard_[A-Za-z0-9_]+$")
    min_count: int = Field(default=0, ge=0, le=1000)
    max_count: int = Field(default=2, ge=1, le=1000)
    os_disk_size_gb: int = Field(default=128, ge=30, le=2048)  # fits the NC4as_T4_v3 temp disk
    taints: list[str] = Field(default_factory=lambda: ["nvidia.com/gpu=present:NoSchedule"])
    labels: dict[str, str] = Field(default_factory=lambda: {"airflow-aks/pool": "gpu"})
    # NVIDIA/k8s-device-plugin tag v0.20.0 (2026-08-19; chart version "0.20.0" in
    # deployments/helm/nvidia-device-plugin/Chart.yaml), checked 2026-12-02.
    device_plugin_version: str = Field(default="0.20.0", pattern=r"^\d+\.\d+\.\d+$")
    """``nvidia-device-plugin`` chart version (AKS installs drivers, not the plugin)."""


class MaintenanceWindowConfig(StrictModel):
    """Weekly window in which AKS may upgrade Kubernetes and node images."""

    day_of_week: Literal[
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
    ] = "Sunday"
    start_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    duration_hours: int = Field(default=4, ge=4, le=24)
    utc_offset: str = Field(default="+00:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")


class AksConfig(StrictModel):
    """The managed cluster (stack key ``aks``)."""

    kubernetes_version: str = Field(
        default_factory=azure_facts.default_minor,
        description="MAJOR.MINOR; AKS picks the latest patch. Must be creatable on AKS today "
        "(dated table: policies/rules/azure_facts.py).",
    )
    tier: Literal["Free", "Standard", "Premium"] = "Free"
    admin_group_object_ids: UniqueStrs = Field(default_factory=list)
    tenant_id: str | None = None
    oidc_issuer: bool = True
    workload_identity: bool = True
    azure_rbac: bool = True
    grant_deployer_cluster_admin: bool = True
    """With azureRbac: the identity running `pulumi up` gets AKS RBAC Cluster Admin on the
    cluster (it creates Kubernetes objects); admin groups always get it."""
    deployer_principal_type: Literal["User", "ServicePrincipal"] = "User"
    """Who runs `pulumi up` for this stack: a person (User) or CI (ServicePrincipal). The
    grant follows whoever deploys: a different deployer replaces it."""
    check_subscription_features: bool = True
    """Before registering anything, read back the EncryptionAtHost feature registration and
    stop with the `az feature register` commands when it is missing."""
    local_accounts: bool = False
    network_plugin: Literal["azure", "kubenet", "none"] = "azure"
    network_plugin_mode: Literal["overlay"] | None = "overlay"
    network_dataplane: Literal["cilium", "azure"] = "cilium"
    network_policy: Literal["cilium", "azure", "calico", "none"] = "cilium"
    pod_cidr: str = "192.168.0.0/16"
    service_cidr: str = "172.16.0.0/16"
    dns_service_ip: str = "172.16.0.10"
    outbound_type: Literal["loadBalancer", "userDefinedRouting", "managedNATGateway"] = (
        "loadBalancer"
    )
    private_cluster: bool = False
    authorized_ip_ranges: UniqueStrs = Field(default_factory=list)
    disable_run_command: bool = True
    # `node-image` is the legacy cluster channel that moves node images only, never the
    # Kubernetes version (aks-docs auto-upgrade-cluster.md: "legacy and not to be used";
    # read 2026-12-07): node images are `nodeOsUpgradeChannel: NodeImage` here.
    upgrade_channel: Literal["stable", "patch", "rapid", "none"] = "stable"
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged", "None"] = (
        "NodeImage"
    )
    maintenance_window: MaintenanceWindowConfig = Field(default_factory=MaintenanceWindowConfig)
    secret_rotation_interval: str = Field(default="2m", pattern=r"^\d+[smh]$")
    image_cleaner_interval_hours: int = Field(default=168, ge=24, le=2160)
    azure_policy: bool = True
    defender: bool = False
    monitoring: bool = True
    system_pool: NodePoolConfig
    workload_pool: NodePoolConfig
    task_pool: NodePoolConfig
    gpu_pool: GpuPoolConfig | None = None

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, v: str) -> str:
        parts = v.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"kubernetesVersion {v!r} must be MAJOR.MINOR, e.g. '1.36'")
        if (int(parts[0]), int(parts[1])) < (1, 29):
            # Native sidecars (the mesh's run-to-completion fix) need 1.29+.
            raise ValueError(
                f"kubernetesVersion {v!r} is too old: 1.29+ needed for native sidecars"
            )
        # AKS refuses new clusters and pools on versions past end of life (dated table).
        if problem := azure_facts.version_problem(v, date.today()):
            raise ValueError(problem)
        return v

    @field_validator("admin_group_object_ids")
    @classmethod
    def _uuids(cls, v: list[str]) -> list[str]:
        if problems := [p for g in v if (p := guid_problem(g, "group object id"))]:
            raise problems_error(problems)
        return v

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, v: str | None) -> str | None:
        if v is not None and (problem := guid_problem(v, "tenant id")):
            raise ValueError(problem)
        return v

    @field_validator("authorized_ip_ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for r in v:
            _net(r, "authorizedIpRanges entry")
        return v

    @model_validator(mode="after")
    def _preconditions(self) -> AksConfig:
        errs: list[str] = []
        if self.workload_identity and not self.oidc_issuer:
            errs.append("workloadIdentity needs oidcIssuer: true")
        if self.network_plugin_mode == "overlay" and self.network_plugin != "azure":
            errs.append("networkPluginMode 'overlay' needs networkPlugin 'azure'")
        if self.network_policy == "azure" and self.network_plugin != "azure":
            errs.append("networkPolicy 'azure' needs networkPlugin 'azure'")
        if self.network_dataplane == "cilium":
            if self.network_plugin_mode != "overlay":
                errs.append("networkDataplane 'cilium' needs networkPluginMode 'overlay'")
            if self.network_policy != "cilium":
                errs.append("networkDataplane 'cilium' needs networkPolicy 'cilium'")
        if self.network_policy == "cilium" and self.network_dataplane != "cilium":
            errs.append("networkPolicy 'cilium' needs networkDataplane 'cilium'")
        if self.private_cluster and self.authorized_ip_ranges:
            errs.append("authorizedIpRanges do not apply to a privateCluster: set one or the other")
        if self.azure_rbac and not self.admin_group_object_ids:
            errs.append("azureRbac needs at least one adminGroupObjectIds entry (Entra group)")
        service = _net(self.service_cidr, "serviceCidr")
        pods = _net(self.pod_cidr, "podCidr")
        if service.overlaps(pods):
            errs.append(f"serviceCidr {service} overlaps podCidr {pods}")
        if ipaddress.IPv4Address(self.dns_service_ip) not in service:
            errs.append(f"dnsServiceIp {self.dns_service_ip} is outside serviceCidr {service}")
        names = [p.name for p in self.pools()]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            errs.append(f"node pool names must be unique, repeated: {sorted(dupes)}")
        if self.system_pool.spot:
            errs.append("systemPool cannot be spot: AKS requires regular VMs for system pools")
        if self.system_pool.enable_auto_scaling and self.system_pool.min_count < 1:
            errs.append("systemPool.minCount must be >= 1")
        # Task (and GPU) pods select their pool by its labels (components/scheduling.py).
        selectable = [("taskPool", self.task_pool)]
        if self.gpu_pool and self.gpu_pool.enabled:
            selectable.append(("gpuPool", self.gpu_pool))
        for key, pool in selectable:
            if not pool.labels:
                errs.append(
                    f"{key}.labels must not be empty: its pods select the pool by label "
                    f"(e.g. {{'airflow-aks/pool': '{pool.name}'}})"
                )
        if errs:
            raise problems_error(errs)
        return self

    def pools(self) -> list[NodePoolConfig]:
        """All enabled pools, system first."""
        pools = [self.system_pool, self.workload_pool, self.task_pool]
        if self.gpu_pool and self.gpu_pool.enabled:
            pools.append(self.gpu_pool)
        return pools


class NetworkConfig(StrictModel):
    """The VNet (stack key ``network``): ours, or bring your own subnet ids."""

    vnet_cidr: str = "10.42.0.0/16"
    aks_subnet_cidr: str = "10.42.0.0/22"
    database_subnet_cidr: str = "10.42.8.0/24"
    private_endpoint_subnet_cidr: str = "10.42.9.0/24"
    existing_vnet_id: str | None = None
    existing_aks_subnet_id: str | None = None
    existing_database_subnet_id: str | None = None

    @model_validator(mode="after")
    def _layout(self) -> NetworkConfig:
        byo = [self.existing_vnet_id, self.existing_aks_subnet_id, self.existing_database_subnet_id]
        if any(byo) and not all(byo):
            raise ValueError(
                "bring-your-own network needs existingVnetId, existingAksSubnetId and "
                "existingDatabaseSubnetId together"
            )
        if all(byo):
            return self
        vnet = _net(self.vnet_cidr, "vnetCidr")
        subnets = {
            "aksSubnetCidr": _net(self.aks_subnet_cidr, "aksSubnetCidr"),
            "databaseSubnetCidr": _net(self.database_subnet_cidr, "databaseSubnetCidr"),
            "privateEndpointSubnetCidr": _net(
                self.private_endpoint_subnet_cidr, "privateEndpointSubnetCidr"
            ),
        }
        errs = [
            f"{k} {n} is outside vnetCidr {vnet}"
            for k, n in subnets.items()
            if not n.subnet_of(vnet)
        ]
        items = list(subnets.items())
        for i, (ka, a) in enumerate(items):
            for kb, b in items[i + 1 :]:
                if a.overlaps(b):
                    errs.append(f"{ka} {a} overlaps {kb} {b}")
        if errs:
            raise problems_error(errs)
        return self

    @property
    def byo(self) -> bool:
        return bool(self.existing_aks_subnet_id)
