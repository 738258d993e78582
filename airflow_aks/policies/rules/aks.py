"""AKS cluster and node pool rules (Checkov CKV_AZURE_* for AKS, AKS baseline)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from . import azure_facts
from ._core import (
    ADVISORY,
    AGENT_POOL,
    MANAGED_CLUSTER,
    MANDATORY,
    ROLE_ASSIGNMENT,
    UNKNOWN,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    is_true,
    is_unknown,
    resource_rule,
    show,
    stack_rule,
)
from ._plan import _inputs, _of_type, _role_guid, options, refers_to

RULES: list[Rule] = []
CLUSTER = (MANAGED_CLUSTER,)
POOLS = (MANAGED_CLUSTER, AGENT_POOL)

OPEN_RANGES = {"0.0.0.0/0", "0.0.0.0", "*", "::/0", "internet", "any"}


def _pools(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(label, pool)`` for inline ``agentPoolProfiles`` or a standalone ``AgentPool``."""
    profiles = props.get("agentPoolProfiles")
    if profiles is not None:
        return [
            (f"agentPoolProfiles[{i}] ({get(p, 'name', '?')})", as_dict(p))
            for i, p in enumerate(as_list(profiles))
        ]
    if "mode" in props or "agentPoolName" in props or "vmSize" in props:
        return [(f"pool {props.get('agentPoolName', '?')}", props)]
    return []


def _addon(props: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    addons = as_dict(props.get("addonProfiles"))
    # ARM add-on keys are case-insensitive; accept any casing.
    for key, value in addons.items():
        if key.lower() == name.lower():
            return as_dict(value)
    return {}


@resource_rule(
    RULES,
    name="aks-monitoring-enabled",
    level=MANDATORY,
    mirrors="CKV_AZURE_4",
    types=CLUSTER,
    description="""Container Insights (the omsagent add-on) must ship logs to a Log Analytics
    workspace with AAD auth: without it there is no audit trail of what ran on the cluster
    and incidents cannot be investigated.""",
)
def monitoring_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    oms = _addon(props, "omsagent")
    out = []
    if not is_true(oms.get("enabled")):
        out.append("addonProfiles.omsagent.enabled must be true (Container Insights)")
        return out
    ws = get(oms, "config.logAnalyticsWorkspaceResourceID")
    if not ws:
        out.append("addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID is missing")
    if not is_true(get(oms, "config.useAADAuth")):
        out.append("addonProfiles.omsagent.config.useAADAuth must be 'true' (no shared keys)")
    return out


@resource_rule(
    RULES,
    name="aks-rbac-enabled",
    level=MANDATORY,
    mirrors="CKV_AZURE_5",
    types=CLUSTER,
    description="""Kubernetes RBAC must be on: without it every authenticated identity is
    effectively cluster-admin.""",
)
def rbac_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(props.get("enableRBAC")):
        return [f"enableRBAC must be true (is {show(props.get('enableRBAC'))})"]
    return []


@resource_rule(
    RULES,
    name="aks-api-server-restricted",
    level=MANDATORY,
    mirrors="CKV_AZURE_6, CKV_AZURE_115",
    types=CLUSTER,
    description="""The API server must be private or limited to authorized IP ranges (never
    0.0.0.0/0): a public control plane is the first thing scanners find and brute-force.""",
)
def api_server_restricted(props: Mapping[str, Any], ctx: Context) -> list[str]:
    profile = as_dict(props.get("apiServerAccessProfile"))
    if is_true(profile.get("enablePrivateCluster")):
        return []
    ranges = [str(r).strip().lower() for r in as_list(profile.get("authorizedIPRanges"))]
    if not ranges:
        return [
            "apiServerAccessProfile: neither enablePrivateCluster nor authorizedIPRanges is "
            "set; the API server is open to the internet"
        ]
    open_ = [r for r in ranges if r in OPEN_RANGES]
    if open_:
        return [f"apiServerAccessProfile.authorizedIPRanges allows everyone: {open_}"]
    return []


@resource_rule(
    RULES,
    name="aks-network-policy",
    level=MANDATORY,
    mirrors="CKV_AZURE_7",
    types=CLUSTER,
    description="""A network policy engine (cilium, azure or calico) must be configured:
    without one, NetworkPolicy objects are silently ignored and every pod can reach every
    other pod.""",
)
def network_policy(props: Mapping[str, Any], ctx: Context) -> list[str]:
    policy = get(props, "networkProfile.networkPolicy")
    if not isinstance(policy, str) or policy.lower() not in ("cilium", "azure", "calico"):
        return [f"networkProfile.networkPolicy must be cilium, azure or calico (is {show(policy)})"]
    return []


@resource_rule(
    RULES,
    name="aks-dashboard-disabled",
    level=MANDATORY,
    mirrors="CKV_AZURE_8",
    types=CLUSTER,
    description="""The legacy Kubernetes dashboard add-on must stay off: it runs with broad
    privileges and has been a repeated entry point for cluster takeovers.""",
)
def dashboard_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if is_true(_addon(props, "kubeDashboard").get("enabled")):
        return ["addonProfiles.kubeDashboard.enabled must not be true"]
    return []


@resource_rule(
    RULES,
    name="aks-http-application-routing-disabled",
    level=MANDATORY,
    mirrors="Azure Policy: AKS should not use HTTP application routing",
    types=CLUSTER,
    description="""The HTTP application routing add-on creates public DNS and an
    unauthenticated ingress; it is documented as not for production use.""",
)
def http_application_routing_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if is_true(_addon(props, "httpApplicationRouting").get("enabled")):
        return ["addonProfiles.httpApplicationRouting.enabled must not be true"]
    return []


@resource_rule(
    RULES,
    name="aks-azure-policy-addon",
    level=MANDATORY,
    mirrors="CKV_AZURE_116",
    types=CLUSTER,
    description="""The Azure Policy add-on (Gatekeeper) must be on so that admission policies
    keep holding for workloads applied outside this program (Flux, kubectl).""",
)
def azure_policy_addon(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(_addon(props, "azurepolicy").get("enabled")):
        return ["addonProfiles.azurepolicy.enabled must be true"]
    return []


@resource_rule(
    RULES,
    name="aks-disk-encryption-set",
    level=ADVISORY,
    mirrors="CKV_AZURE_117",
    types=CLUSTER,
    description="""Node OS and data disks should be encrypted with a customer-managed key
    (diskEncryptionSetID). Advisory: platform-managed keys already encrypt at rest, and a
    disk encryption set is an organisation-level key-management decision.""",
)
def disk_encryption_set(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not props.get("diskEncryptionSetID"):
        return ["diskEncryptionSetID is not set: disks use platform-managed keys"]
    return []


@resource_rule(
    RULES,
    name="aks-local-accounts-disabled",
    level=MANDATORY,
    mirrors="CKV_AZURE_141",
    types=CLUSTER,
    description="""Local accounts must be disabled so no one can fetch the static admin
    kubeconfig (listClusterAdminCredential): every access goes through Entra ID, is
    attributable and revocable.""",
)
def local_accounts_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(props.get("disableLocalAccounts")):
        return [
            f"disableLocalAccounts must be true (is {show(props.get('disableLocalAccounts'))}): "
            "the admin kubeconfig would be available"
        ]
    return []


@resource_rule(
    RULES,
    name="aks-entra-rbac",
    level=MANDATORY,
    mirrors="Azure Policy: AKS clusters should enable Microsoft Entra ID integration",
    types=CLUSTER,
    description="""Managed Entra ID integration with Azure RBAC for Kubernetes must be on, so
    cluster permissions are granted with Azure role assignments and group membership rather
    than in-cluster bindings nobody reviews.""",
)
def entra_rbac(props: Mapping[str, Any], ctx: Context) -> list[str]:
    aad = as_dict(props.get("aadProfile"))
    out = []
    if not is_true(aad.get("managed")):
        out.append("aadProfile.managed must be true")
    if not is_true(aad.get("enableAzureRBAC")):
        out.append("aadProfile.enableAzureRBAC must be true")
    return out


@resource_rule(
    RULES,
    name="aks-admin-group",
    level=ADVISORY,
    mirrors="AKS baseline (adminGroupObjectIDs)",
    types=CLUSTER,
    description="""With local accounts off, an Entra admin group is the only break-glass path
    into the cluster; without aadProfile.adminGroupObjectIDs an outage of Azure RBAC locks
    everyone out.""",
)
def admin_group(props: Mapping[str, Any], ctx: Context) -> list[str]:
    groups = get(props, "aadProfile.adminGroupObjectIDs")
    if is_unknown(groups) or as_list(groups):
        return []
    return ["aadProfile.adminGroupObjectIDs is empty: no break-glass admin group"]


@resource_rule(
    RULES,
    name="aks-oidc-issuer-enabled",
    level=MANDATORY,
    mirrors="Azure Policy: AKS clusters should enable workload identity (OIDC issuer)",
    types=CLUSTER,
    description="""The OIDC issuer must be on: workload identity federation trusts tokens
    signed by it, which is what lets pods reach Azure without stored secrets.""",
)
def oidc_issuer_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(get(props, "oidcIssuerProfile.enabled")):
        return ["oidcIssuerProfile.enabled must be true"]
    return []


@resource_rule(
    RULES,
    name="aks-workload-identity-enabled",
    level=MANDATORY,
    mirrors="Azure Policy: AKS clusters should enable workload identity",
    types=CLUSTER,
    description="""The workload identity webhook must be on so pods get short-lived federated
    tokens instead of client secrets or the node's kubelet identity.""",
)
def workload_identity_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(get(props, "securityProfile.workloadIdentity.enabled")):
        return ["securityProfile.workloadIdentity.enabled must be true"]
    return []


@resource_rule(
    RULES,
    name="aks-image-cleaner",
    level=ADVISORY,
    mirrors="Azure Policy: AKS clusters should enable Image Cleaner",
    types=CLUSTER,
    description="""Image Cleaner removes unused, possibly vulnerable images from nodes.
    Advisory: it is hygiene, not a control boundary.""",
)
def image_cleaner(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_true(get(props, "securityProfile.imageCleaner.enabled")):
        return ["securityProfile.imageCleaner.enabled should be true"]
    return []


@resource_rule(
    RULES,
    name="aks-paid-tier-in-prod",
    level=MANDATORY,
    mirrors="CKV_AZURE_170",
    types=CLUSTER,
    description="""Production clusters must use the Standard (or Premium) tier for the
    financially backed API-server SLA. Checked only on production stacks (prod*): the Free
    tier is the right cost choice for dev.""",
)
def paid_tier_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not ctx.production:
        return []
    tier = get(props, "sku.tier")
    if not isinstance(tier, str) or tier.lower() not in ("standard", "premium"):
        return [f"sku.tier must be Standard or Premium on a production stack (is {show(tier)})"]
    return []


@resource_rule(
    RULES,
    name="aks-auto-upgrade",
    level=MANDATORY,
    mirrors="CKV_AZURE_171",
    types=CLUSTER,
    description="""An automatic Kubernetes upgrade channel (patch, stable or rapid) must be
    set: unpatched clusters fall out of support and keep known CVEs (the AKS baseline ships
    'none' and fails this). The legacy node-image channel upgrades node images only, never
    Kubernetes (aks-docs auto-upgrade-cluster.md, read 2026-12-07).""",
)
def auto_upgrade(props: Mapping[str, Any], ctx: Context) -> list[str]:
    channel = get(props, "autoUpgradeProfile.upgradeChannel")
    if not isinstance(channel, str) or channel.lower() not in ("patch", "stable", "rapid"):
        return [
            f"autoUpgradeProfile.upgradeChannel must be patch/stable/rapid (is {show(channel)})"
        ]
    return []


@resource_rule(
    RULES,
    name="aks-node-os-upgrade",
    level=MANDATORY,
    mirrors="AKS baseline (nodeOSUpgradeChannel)",
    types=CLUSTER,
    description="""Node OS images must be patched automatically (NodeImage or SecurityPatch):
    kernel and OS CVEs are fixed in node images, not in Kubernetes upgrades.""",
)
def node_os_upgrade(props: Mapping[str, Any], ctx: Context) -> list[str]:
    channel = get(props, "autoUpgradeProfile.nodeOSUpgradeChannel")
    if not isinstance(channel, str) or channel.lower() not in ("nodeimage", "securitypatch"):
        return [
            "autoUpgradeProfile.nodeOSUpgradeChannel must be NodeImage or SecurityPatch "
            f"(is {show(channel)})"
        ]
    return []


@resource_rule(
    RULES,
    name="aks-secret-rotation",
    level=MANDATORY,
    mirrors="CKV_AZURE_172",
    types=CLUSTER,
    description="""The Key Vault CSI add-on must be on with secret rotation, so a secret
    rotated in Key Vault reaches mounted files without redeploying (and a leaked secret can
    actually be revoked).""",
)
def secret_rotation(props: Mapping[str, Any], ctx: Context) -> list[str]:
    csi = _addon(props, "azureKeyvaultSecretsProvider")
    if not is_true(csi.get("enabled")):
        return ["addonProfiles.azureKeyvaultSecretsProvider.enabled must be true"]
    if not is_true(get(csi, "config.enableSecretRotation")):
        return [
            "addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation must be "
            f"'true' (is {show(get(csi, 'config.enableSecretRotation'))})"
        ]
    return []


@resource_rule(
    RULES,
    name="aks-no-node-public-ip",
    level=MANDATORY,
    mirrors="CKV_AZURE_143",
    types=POOLS,
    description="""Nodes must not get public IPs: each one would be directly reachable from
    the internet, bypassing the load balancer and any egress control.""",
)
def no_node_public_ip(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return [
        f"{label}: enableNodePublicIP is true"
        for label, p in _pools(props)
        if is_true(p.get("enableNodePublicIP"))
    ]


@resource_rule(
    RULES,
    name="aks-spot-pool-no-max-surge",
    level=MANDATORY,
    mirrors="AKS API: 'Spot pools can't set max surge' (aks-docs spot-node-pool.md; "
    "terraform-provider-azurerm#19355, #31129; read 2026-12-07)",
    types=POOLS,
    description="""A spot pool must not send upgradeSettings.maxSurge or maxUnavailable:
    AKS upgrades spot pools without surge nodes and rejects the pool with InvalidParameter
    ("Spot pools can't set max surge"), so the `up` that creates it fails.""",
)
def spot_pool_no_max_surge(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, p in _pools(props):
        if str(p.get("scaleSetPriority") or "").lower() != "spot":
            continue
        for key in ("maxSurge", "maxUnavailable"):
            value = get(p, f"upgradeSettings.{key}")
            if value not in (None, ""):
                out.append(
                    f"{label}: spot pool sends upgradeSettings.{key} {show(value)}, which AKS "
                    "refuses; fix: send no upgradeSettings surge on spot pools"
                )
    return out


@resource_rule(
    RULES,
    name="aks-max-pods",
    level=ADVISORY,
    mirrors="CKV_AZURE_168",
    types=POOLS,
    description="""Every pool should set maxPods >= 50: KubernetesExecutor starts one pod per
    task, and a low cap strands capacity and forces needless scale-outs (the AKS baseline
    sets 30 and fails this).""",
)
def max_pods(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, p in _pools(props):
        value = p.get("maxPods")
        if is_unknown(value):
            continue
        if not isinstance(value, int | float) or value < 50:
            out.append(f"{label}: maxPods must be >= 50 (is {show(value)})")
    return out


@resource_rule(
    RULES,
    name="aks-ephemeral-os-disk",
    level=ADVISORY,
    mirrors="CKV_AZURE_226",
    types=POOLS,
    description="""Pools should use ephemeral OS disks: faster reimage and scale-out, no
    managed OS disk to bill or leak. Advisory because it depends on the VM size having a
    large enough cache or temp disk.""",
)
def ephemeral_os_disk(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return [
        f"{label}: osDiskType should be Ephemeral (is {show(p.get('osDiskType'))})"
        for label, p in _pools(props)
        if str(p.get("osDiskType", "")).lower() != "ephemeral"
    ]


# VM size names: Standard_<family><vCPUs><feature letters>[_<accelerator>][_v<N>]; feature
# "d" = a local temp disk is present (Azure VM naming conventions,
# https://learn.microsoft.com/azure/virtual-machines/vm-naming-conventions, seen 2026-12-02).
_SIZE = re.compile(r"^Standard_([A-Z]+)(\d+)(?:-\d+)?([a-z]*)(?:_[A-Za-z0-9]+)*?(?:_v(\d+))?$")
# Temp disk of the sizes this project ships, GiB (/work/research/azure.md, 2026-12-02).
TEMP_DISK_GIB = {"Standard_D2ds_v5": 75, "Standard_D4ds_v5": 150, "Standard_NC4as_T4_v3": 180}


def vm_size_parts(size: str) -> tuple[str, int, str, int | None] | None:
    """``Standard_D4ds_v5`` -> ``("D", 4, "ds", 5)``; None for a name of another shape."""
    m = _SIZE.match(size)
    if not m:
        return None
    return m.group(1), int(m.group(2)), m.group(3), int(m.group(4)) if m.group(4) else None


@resource_rule(
    RULES,
    name="aks-system-pool-size",
    level=MANDATORY,
    mirrors="AKS system node pool limitations",
    types=POOLS,
    description="""System pools need a VM size of at least 4 vCPUs and 4 GB, and B-series
    (burstable) sizes are not supported for them (aks-docs use-system-pools.md @ fb060abe,
    2026-08-21: "System node pools require a VM SKU of at least 4 vCPUs and 4 GB of
    memory"). Mandatory: a documented requirement of the platform, not a preference.""",
)
def system_pool_size(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, p in _pools(props):
        if str(p.get("mode", "")).lower() != "system":
            continue
        size = str(p.get("vmSize", ""))
        parts = vm_size_parts(size)
        if parts is None:
            continue
        family, vcpus, _, _ = parts
        if family == "B":
            out.append(f"{label}: {size} is B-series; AKS does not support it for system pools")
        elif vcpus < 4:
            out.append(f"{label}: {size} has {vcpus} vCPUs; system pools need at least 4")
    return out


@resource_rule(
    RULES,
    name="aks-ephemeral-os-disk-fits",
    level=MANDATORY,
    mirrors="AKS ephemeral OS disk placement (validation error at deploy)",
    types=POOLS,
    description="""An ephemeral OS disk lives on the VM's temp disk: v5 and later sizes have
    no separate cache, so a size without a temp disk (no "d" in its name) or an OS disk
    larger than the temp disk is refused by AKS with a validation error (aks-docs
    concepts-storage.md @ fb060abe, 2026-08-21).""",
)
def ephemeral_os_disk_fits(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, p in _pools(props):
        if str(p.get("osDiskType", "")).lower() != "ephemeral":
            continue
        size = str(p.get("vmSize", ""))
        parts = vm_size_parts(size)
        if parts is None:
            continue
        _, _, features, version = parts
        if version is not None and version >= 5 and "d" not in features:
            out.append(f"{label}: {size} has no temp disk; use osDiskType Managed or a *d* size")
            continue
        temp, disk = TEMP_DISK_GIB.get(size), p.get("osDiskSizeGB")
        if temp is not None and isinstance(disk, int | float) and disk > temp:
            out.append(f"{label}: osDiskSizeGB {disk} exceeds the {temp} GiB temp disk of {size}")
    return out


@resource_rule(
    RULES,
    name="aks-encryption-at-host",
    level=MANDATORY,
    mirrors="CKV_AZURE_227",
    types=POOLS,
    description="""Every pool must enable encryption at host so temp disks, caches and data
    flowing to storage are encrypted too, not only the managed disks (the AKS baseline
    fails this).""",
)
def encryption_at_host(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return [
        f"{label}: enableEncryptionAtHost must be true (is {show(p.get('enableEncryptionAtHost'))})"
        for label, p in _pools(props)
        if not is_true(p.get("enableEncryptionAtHost"))
    ]


@resource_rule(
    RULES,
    name="aks-system-pool-critical-only",
    level=MANDATORY,
    mirrors="CKV_AZURE_232",
    types=POOLS,
    description="""System pools must carry the CriticalAddonsOnly=true:NoSchedule taint so
    application pods (and their noisy neighbours) cannot starve CoreDNS, konnectivity and
    the mesh control plane.""",
)
def system_pool_critical_only(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, p in _pools(props):
        if str(p.get("mode", "")).lower() != "system":
            continue
        taints = [str(t) for t in as_list(p.get("nodeTaints"))]
        if not any(
            t.startswith("CriticalAddonsOnly") and t.endswith(":NoSchedule") for t in taints
        ):
            out.append(f"{label}: system pool lacks nodeTaints CriticalAddonsOnly=true:NoSchedule")
    return out


@resource_rule(
    RULES,
    name="aks-run-command-disabled",
    level=MANDATORY,
    mirrors="Azure Policy: AKS clusters should disable command invoke",
    types=CLUSTER,
    description="""Run command must be disabled: it lets anyone with the right Azure role
    execute kubectl through ARM, bypassing the API server's authorised IP ranges or private
    endpoint. A break-glass need is a reviewed, expiring entry in
    policies/exceptions/<stack>.yaml, not a silent default.""",
)
def run_command_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = get(props, "apiServerAccessProfile.disableRunCommand")
    if not is_true(value):
        return [
            f"apiServerAccessProfile.disableRunCommand must be true (is {show(value)}); fix: "
            "set it true (break-glass: a dated policy exception)"
        ]
    return []


# ------------------------------------------------------------------ production guarantees


@resource_rule(
    RULES,
    name="aks-defender-in-prod",
    level=MANDATORY,
    mirrors="Azure Policy: AKS clusters should have Defender profile enabled",
    types=CLUSTER,
    description="""Production clusters must run Microsoft Defender for Containers
    (securityProfile.defender.securityMonitoring.enabled with a Log Analytics workspace):
    runtime threat detection is the only signal of a compromised pod once it is past
    admission. Checked only on production stacks (cost).""",
)
def defender_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # azure-native 3.29 ManagedClusterSecurityProfileDefender: securityMonitoring.enabled and
    # logAnalyticsWorkspaceResourceId ("required ... when Defender is enabled"), seen 2026-12.
    if not ctx.production:
        return []
    defender = as_dict(get(props, "securityProfile.defender"))
    out = []
    if not is_true(get(defender, "securityMonitoring.enabled")):
        out.append(
            "securityProfile.defender.securityMonitoring.enabled must be true on a production "
            f"stack (is {show(get(defender, 'securityMonitoring.enabled'))}); fix: enable "
            "Defender for Containers"
        )
    elif not defender.get("logAnalyticsWorkspaceResourceId"):
        out.append(
            "securityProfile.defender.logAnalyticsWorkspaceResourceId is missing; fix: point "
            "it at the stack's Log Analytics workspace"
        )
    return out


MIN_PROD_ZONES = 2


@resource_rule(
    RULES,
    name="aks-pool-zones-in-prod",
    level=MANDATORY,
    mirrors="AKS reliability guidance (availability zones); Azure Policy: zone-redundant AKS",
    types=POOLS,
    description=f"""On production stacks every node pool must span at least {MIN_PROD_ZONES}
    availability zones (availabilityZones), so one zone outage does not take the
    scheduler, the API server or every task slot down with it. Zones can only be set when
    a pool is created, which is why this is checked before the first deploy.""",
)
def pool_zones_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # azure-native 3.29 availabilityZones: "The list of Availability zones to use for nodes"
    # (VirtualMachineScaleSets pools only), seen 2026-12.
    if not ctx.production:
        return []
    out = []
    for label, p in _pools(props):
        zones = p.get("availabilityZones")
        if is_unknown(zones):
            continue
        n = len({str(z) for z in as_list(zones)})
        if n < MIN_PROD_ZONES:
            out.append(
                f"{label}: availabilityZones spans {n} zone(s) on a production stack; fix: "
                f"set at least {MIN_PROD_ZONES} zones, e.g. ['1', '2', '3']"
            )
    return out


# ---------------------------------------------------------------------------- deployability
# What mocks accept but a real first (or second) ``pulumi up`` does not; dated
# facts from :mod:`.azure_facts`, resource options from the plan's ``options``.

DATA_COLLECTION_RULE = "azure-native:monitor:DataCollectionRule"
DATA_COLLECTION_RULE_ASSOCIATION = "azure-native:monitor:DataCollectionRuleAssociation"
DIAGNOSTIC_SETTINGS = (
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:insights:DiagnosticSetting",
)
# Channels under which AKS moves the minor version itself (AKS auto-upgrade doc 2026-07;
# Azure/terraform-azurerm-aks allows no pinned version with them).
# The legacy `node-image` channel moves node images only (aks-docs auto-upgrade-cluster.md,
# read 2026-12-07).
AKS_OWNS_MINOR = {"stable", "rapid"}
REQUIRED_CONTROL_PLANE_LOGS = ({"kube-audit-admin", "kube-audit"}, {"guard"})
_MINOR = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")


def _cluster_suffix(cluster: Mapping[str, Any]) -> str:
    return f"/managedClusters/{_inputs(cluster).get('resourceName') or cluster.get('name')}"


def _minor(version: Any) -> str | None:
    m = _MINOR.match(str(version)) if isinstance(version, str) else None
    return f"{m.group(1)}.{m.group(2)}" if m else None


# ---------------------------------------------------------------------------- dated facts


@resource_rule(
    RULES,
    name="aks-no-retired-addons",
    level=MANDATORY,
    mirrors="AKS API (AddonInvalid); dated table policies/rules/azure_facts.py",
    types=(MANAGED_CLUSTER,),
    description="""No retired add-on key may be sent in addonProfiles, not even as
    enabled: false (kubeDashboard is refused for Kubernetes >= 1.19, httpApplicationRouting
    was retired on 2025-03-03); other tools see drift on every run.""",
)
def no_retired_addons(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for key in as_dict(props.get("addonProfiles")):
        addon = azure_facts.retired_addon(str(key))
        if addon is not None:
            out.append(f"addonProfiles.{key}: {addon.retired}; drop the entry")
    return out


@resource_rule(
    RULES,
    name="aks-version-creatable",
    level=ADVISORY,
    mirrors="AKS supported Kubernetes versions (release calendar, dated table)",
    types=(MANAGED_CLUSTER, AGENT_POOL),
    description="""kubernetesVersion / orchestratorVersion should be a minor AKS still
    creates clusters and pools on today (GA and before its AKS end of life). Advisory here,
    because an existing cluster under an auto-upgrade channel keeps its creation version in
    the program; the stack config refuses it for new stacks.""",
)
def version_creatable(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for key in ("kubernetesVersion", "orchestratorVersion"):
        value = props.get(key)
        if value in (None, "", UNKNOWN):
            continue
        minor = _minor(value)
        if minor is None:
            out.append(f"{key} {value!r} is not MAJOR.MINOR[.PATCH]")
            continue
        if problem := azure_facts.version_problem(minor, ctx.today or date.today()):
            out.append(f"{key}: {problem}")
    return out


# ---------------------------------------------------------------------------- cluster access


@stack_rule(
    RULES,
    name="aks-rbac-admin-grant",
    level=MANDATORY,
    mirrors="AKS Entra ID authorization (Azure RBAC for Kubernetes)",
    description="""A cluster with Entra ID + Azure RBAC for Kubernetes authorises people and
    the deploying identity only through Azure role assignments: it needs at least one
    "Azure Kubernetes Service RBAC Cluster Admin" or "RBAC Admin" assignment scoped to the
    cluster itself, or the first `pulumi up` gets 403 on every Kubernetes object.""",
)
def rbac_admin_grant(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    admin_roles = {azure_facts.AKS_RBAC_CLUSTER_ADMIN, azure_facts.AKS_RBAC_ADMIN}
    grants = [g for g in _of_type(resources, ROLE_ASSIGNMENT) if _role_guid(g) in admin_roles]
    out = []
    for cluster in _of_type(resources, MANAGED_CLUSTER):
        if not is_true(get(_inputs(cluster), "aadProfile.enableAzureRBAC")):
            continue
        suffix = _cluster_suffix(cluster)
        scoped = [
            g
            for g in grants
            if refers_to(g, "scope", cluster, suffix)
            and "/namespaces/" not in str(_inputs(g).get("scope", ""))
        ]
        if not scoped:
            out.append(
                (
                    str(cluster.get("urn")),
                    "Azure RBAC is on but no 'Azure Kubernetes Service RBAC Cluster Admin' "
                    "(or 'RBAC Admin') role assignment is scoped to this cluster: admins "
                    "and the deployer get 403 on Kubernetes objects",
                )
            )
    return out


@stack_rule(
    RULES,
    name="aks-upgrade-channel-no-pin-fight",
    level=MANDATORY,
    mirrors="Azure/terraform-azurerm-aks automatic_channel_upgrade_check",
    description="""Under an auto-upgrade channel that moves the minor version (stable,
    rapid) a pinned kubernetesVersion / orchestratorVersion must be in
    ignoreChanges, or the second `pulumi up` asks AKS for a downgrade (refused); under
    patch the version must be MAJOR.MINOR only, since AKS moves the patch.""",
)
def upgrade_channel_no_pin_fight(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    out = []
    pools = _of_type(resources, AGENT_POOL)
    for cluster in _of_type(resources, MANAGED_CLUSTER):
        channel = str(get(_inputs(cluster), "autoUpgradeProfile.upgradeChannel") or "none")
        suffix = _cluster_suffix(cluster)
        name = _inputs(cluster).get("resourceName") or cluster.get("name")
        members = [
            p
            for p in pools
            if refers_to(p, "resourceName", cluster, suffix)
            or _inputs(p).get("resourceName") == name
        ]
        for r, key in [
            (cluster, "kubernetesVersion"),
            *[(p, "orchestratorVersion") for p in members],
        ]:
            version = _inputs(r).get(key)
            if version in (None, "", UNKNOWN):
                continue
            ignored = key in as_list(options(r).get("ignoreChanges"))
            urn = str(r.get("urn"))
            if channel in AKS_OWNS_MINOR and not ignored:
                out.append(
                    (
                        urn,
                        f"{key} {version!r} is pinned while upgradeChannel {channel!r} moves "
                        f"the minor: add {key!r} to ignoreChanges (or use the patch channel)",
                    )
                )
            elif channel == "patch" and str(version).count(".") > 1 and not ignored:
                out.append(
                    (
                        urn,
                        f"{key} {version!r} pins a patch while upgradeChannel 'patch' moves "
                        "it: give MAJOR.MINOR only",
                    )
                )
    return out


# ---------------------------------------------------------------------------- monitoring


@stack_rule(
    RULES,
    name="aks-container-insights-dcr",
    level=MANDATORY,
    mirrors="Azure Monitor: enable Container Insights with managed identity (IaC)",
    description="""A cluster with the omsagent add-on (Container Insights) must have a data
    collection rule association (ContainerInsightsExtension) to a data collection rule with
    the ContainerInsights extension data source: from ARM/Pulumi nothing creates them, and
    without them the agent collects nothing.""",
)
def container_insights_dcr(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    rules = {
        str(r.get("urn")): r
        for r in _of_type(resources, DATA_COLLECTION_RULE)
        if any(
            get(e, "extensionName") == "ContainerInsights"
            for e in as_list(get(_inputs(r), "dataSources.extensions"))
        )
    }
    out = []
    for cluster in _of_type(resources, MANAGED_CLUSTER):
        addons = as_dict(_inputs(cluster).get("addonProfiles"))
        oms = next((as_dict(v) for k, v in addons.items() if k.lower() == "omsagent"), {})
        if not is_true(oms.get("enabled")):
            continue
        suffix = _cluster_suffix(cluster)
        ok = any(
            refers_to(a, "resourceUri", cluster, suffix)
            and any(
                refers_to(
                    a,
                    "dataCollectionRuleId",
                    dcr,
                    f"/dataCollectionRules/{get(_inputs(dcr), 'dataCollectionRuleName')}",
                )
                for dcr in rules.values()
            )
            for a in _of_type(resources, DATA_COLLECTION_RULE_ASSOCIATION)
        )
        if not ok:
            out.append(
                (
                    str(cluster.get("urn")),
                    "Container Insights is enabled but no DataCollectionRuleAssociation links "
                    "this cluster to a DataCollectionRule with the ContainerInsights extension",
                )
            )
    return out


@stack_rule(
    RULES,
    name="aks-control-plane-logs",
    level=MANDATORY,
    mirrors="AKS monitoring baseline (resource logs: kube-audit-admin, guard)",
    description="""Every cluster sends its control-plane audit (kube-audit-admin or
    kube-audit) and guard (Entra/RBAC decisions) logs to a Log Analytics workspace with a
    DiagnosticSetting: Container Insights does not collect them.""",
)
def control_plane_logs(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    out = []
    settings = _of_type(resources, *DIAGNOSTIC_SETTINGS)
    for cluster in _of_type(resources, MANAGED_CLUSTER):
        suffix = _cluster_suffix(cluster)
        enabled: set[str] = set()
        for s in settings:
            if not refers_to(s, "resourceUri", cluster, suffix) or not _inputs(s).get(
                "workspaceId"
            ):
                continue
            enabled |= {
                str(get(log, "category"))
                for log in as_list(_inputs(s).get("logs"))
                if is_true(get(log, "enabled"))
            }
        missing = [sorted(group)[0] for group in REQUIRED_CONTROL_PLANE_LOGS if not group & enabled]
        if missing:
            out.append(
                (
                    str(cluster.get("urn")),
                    f"no DiagnosticSetting sends {missing} control-plane logs of this cluster "
                    "to a Log Analytics workspace",
                )
            )
    return out
