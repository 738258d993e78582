"""Deployability rules: what mocks accept but a real first (or second) ``pulumi up`` does not.

Each rule is a class of mistake seen in review against Microsoft's docs and the AKS API:
versions AKS no longer creates, retired add-ons, a cluster whose admins get
403, an auto-upgrade channel fought by a pinned version, Container Insights that collects
nothing, identities reading a whole vault when they mount named secrets. Dated facts come
from :mod:`.azure_facts`; resource options (``ignoreChanges`` ...) from the plan's
``options`` (offline) or CrossGuard's resource options (``pulumi preview``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from . import azure_facts
from ._core import (
    ADVISORY,
    AGENT_POOL,
    CUSTOM_RESOURCE,
    MANAGED_CLUSTER,
    MANDATORY,
    ROLE_ASSIGNMENT,
    UNKNOWN,
    USER_ASSIGNED_IDENTITY,
    VAULT,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    is_true,
    resource_rule,
    stack_rule,
)

RULES: list[Rule] = []

DATA_COLLECTION_RULE = "azure-native:monitor:DataCollectionRule"
DATA_COLLECTION_RULE_ASSOCIATION = "azure-native:monitor:DataCollectionRuleAssociation"
DIAGNOSTIC_SETTINGS = (
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:insights:DiagnosticSetting",
)
SECRET_PROVIDER_CLASS = "SecretProviderClass"
# Channels under which AKS moves the minor version itself (AKS auto-upgrade doc 2026-07;
# Azure/terraform-azurerm-aks allows no pinned version with them).
AKS_OWNS_MINOR = {"stable", "rapid", "node-image"}
REQUIRED_CONTROL_PLANE_LOGS = ({"kube-audit-admin", "kube-audit"}, {"guard"})
_MINOR = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")


# ---------------------------------------------------------------------------- helpers


def _of_type(resources: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("type") in types]


def _inputs(r: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(r.get("inputs"))


def options(r: Mapping[str, Any]) -> Mapping[str, Any]:
    """The resource options a plan resource carries (empty when the source had none)."""
    return as_dict(r.get("options"))


def _deps(r: Mapping[str, Any], key: str) -> list[str]:
    return [str(u) for u in as_list(as_dict(r.get("propertyDependencies")).get(key))]


def refers_to(r: Mapping[str, Any], key: str, target: Mapping[str, Any], id_suffix: str) -> bool:
    """Whether input ``key`` of ``r`` is (derived from) ``target``: by property dependency
    (always recorded, known or not), or by an ARM id ending in ``id_suffix``."""
    if str(target.get("urn")) in _deps(r, key):
        return True
    value = _inputs(r).get(key)
    return isinstance(value, str) and value.lower().endswith(id_suffix.lower())


def _cluster_suffix(cluster: Mapping[str, Any]) -> str:
    return f"/managedClusters/{_inputs(cluster).get('resourceName') or cluster.get('name')}"


def _role_guid(assignment: Mapping[str, Any]) -> str:
    return (
        str(_inputs(assignment).get("roleDefinitionId", "")).lower().rstrip("/").rsplit("/", 1)[-1]
    )


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
    rapid, node-image) a pinned kubernetesVersion / orchestratorVersion must be in
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


# ---------------------------------------------------------------------------- least privilege


def _secret_provider_classes(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in resources
        if (r.get("type") == CUSTOM_RESOURCE and _inputs(r).get("kind") == SECRET_PROVIDER_CLASS)
        or str(r.get("type", "")).endswith(f":{SECRET_PROVIDER_CLASS}")
    ]


@stack_rule(
    RULES,
    name="identity-no-vault-wide-read",
    level=MANDATORY,
    mirrors="MCSB PA-7 / Key Vault RBAC guidance (scope to the secret)",
    description="""An identity that mounts named secrets (it is the clientID of a
    SecretProviderClass) must not hold a secret-reading role (Key Vault Secrets User,
    Secrets Officer, Administrator) on the whole vault: grant it per secret
    (<vault id>/secrets/<name>), so a compromised pod cannot read every other credential.""",
)
def no_vault_wide_read(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    identities = {str(i.get("urn")): i for i in _of_type(resources, USER_ASSIGNED_IDENTITY)}
    mounting: dict[str, list[str]] = {}
    for spc in _secret_provider_classes(resources):
        for urn in _deps(spc, "spec"):
            if urn in identities:
                mounting.setdefault(urn, []).append(
                    str(get(_inputs(spc), "metadata.name") or spc.get("name"))
                )
    vaults = _of_type(resources, VAULT)
    out = []
    for grant in _of_type(resources, ROLE_ASSIGNMENT):
        role = azure_facts.KEY_VAULT_READ_ROLES.get(_role_guid(grant))
        if role is None:
            continue
        holders = [u for u in _deps(grant, "principalId") if u in mounting]
        scope = str(_inputs(grant).get("scope", ""))
        if not holders or scope == UNKNOWN or "/secrets/" in scope:
            continue
        for vault in vaults:
            name = _inputs(vault).get("vaultName") or vault.get("name")
            if scope.lower().rstrip("/").endswith(f"/vaults/{name}".lower()):
                who = identities[holders[0]]
                out.append(
                    (
                        str(grant.get("urn")),
                        f"{role} on the whole vault {name} for identity {who.get('name')}, which "
                        f"only mounts named secrets ({', '.join(sorted(mounting[holders[0]]))}): "
                        "grant it per secret",
                    )
                )
    return out


# ---------------------------------------------------------------------------- GitOps

K8S_EXTENSION = "azure-native:kubernetesconfiguration:Extension"
FLUX_WI_SUBJECTS = (
    "system:serviceaccount:flux-system:source-controller",
    "system:serviceaccount:flux-system:kustomize-controller",
)


@stack_rule(
    RULES,
    name="flux-workload-identity-complete",
    level=MANDATORY,
    mirrors="Azure Arc/AKS GitOps (Flux v2) tutorial: workload identity",
    description="""A microsoft.flux extension with workloadIdentity.enable true needs
    workloadIdentity.azureClientId and federated credentials for the flux-system
    source-controller and kustomize-controller ServiceAccounts; half set, Flux's Azure
    token exchange fails and the sources it was enabled for never reconcile.""",
)
def flux_workload_identity_complete(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    subjects = {
        str(_inputs(r).get("subject"))
        for r in _of_type(resources, "azure-native:managedidentity:FederatedIdentityCredential")
    }
    out = []
    for ext in _of_type(resources, K8S_EXTENSION):
        props = _inputs(ext)
        if str(props.get("extensionType", "")).lower() != "microsoft.flux":
            continue
        settings = as_dict(props.get("configurationSettings"))
        if not is_true(settings.get("workloadIdentity.enable")):
            continue
        problems = []
        if settings.get("workloadIdentity.azureClientId") in (None, ""):
            problems.append("workloadIdentity.azureClientId is not set")
        missing = [s for s in FLUX_WI_SUBJECTS if s not in subjects]
        if missing:
            problems.append(f"no federated credential for {missing}")
        if problems:
            out.append(
                (str(ext.get("urn")), "Flux workload identity is on but " + "; ".join(problems))
            )
    return out


# ---------------------------------------------------------------------------- storage

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"


@stack_rule(
    RULES,
    name="storage-private-in-production",
    level=MANDATORY,
    mirrors="MCSB NS-2 (private access to PaaS); CKV2_AZURE_33",
    description="""In production a storage account has public network access Disabled and
    a blob private endpoint, like the vault: a network ACL on a public endpoint still
    exposes the account to the internet for any leaked token or misconfigured rule.""",
)
def storage_private_in_production(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    if not ctx.production:
        return []
    endpoints = _of_type(resources, PRIVATE_ENDPOINT)
    out = []
    for account in _of_type(resources, STORAGE_ACCOUNT):
        name = _inputs(account).get("accountName") or account.get("name")
        problems = []
        access = _inputs(account).get("publicNetworkAccess")
        if access != "Disabled":
            problems.append(f"publicNetworkAccess is {access!r}, not 'Disabled'")
        suffix = f"/storageAccounts/{name}"
        linked = [
            e
            for e in endpoints
            for conn in as_list(_inputs(e).get("privateLinkServiceConnections"))
            if "blob" in [str(g) for g in as_list(get(conn, "groupIds"))]
            and (
                str(account.get("urn")) in _deps(e, "privateLinkServiceConnections")
                or str(get(conn, "privateLinkServiceId", "")).lower().endswith(suffix.lower())
            )
        ]
        if not linked:
            problems.append("no private endpoint with groupIds ['blob'] targets it")
        if problems:
            out.append((str(account.get("urn")), f"storage account {name}: " + "; ".join(problems)))
    return out


# ---------------------------------------------------------------------------- PostgreSQL

PG_SERVER = "azure-native:dbforpostgresql:Server"
PG_ENTRA_ADMINS = (
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
    "azure-native:dbforpostgresql:Administrator",
)


@stack_rule(
    RULES,
    name="postgres-entra-auth-has-admin",
    level=MANDATORY,
    mirrors="Azure Database for PostgreSQL: Microsoft Entra authentication (admins)",
    description="""A flexible server with Microsoft Entra authentication on needs at least
    one Entra administrator: only an Entra admin can create the Entra roles anyone signs in
    with, so without one Entra auth is on but unusable and people fall back to the
    password administrator.""",
)
def postgres_entra_auth_has_admin(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    admins = _of_type(resources, *PG_ENTRA_ADMINS)
    out = []
    for server in _of_type(resources, PG_SERVER):
        auth = str(get(_inputs(server), "authConfig.activeDirectoryAuth", "")).lower()
        if auth != "enabled":
            continue
        name = _inputs(server).get("serverName") or server.get("name")
        if not any(
            str(server.get("urn")) in _deps(a, "serverName") or _inputs(a).get("serverName") == name
            for a in admins
        ):
            out.append(
                (
                    str(server.get("urn")),
                    f"server {name}: Entra authentication is on but no Entra administrator "
                    "(AdministratorsMicrosoftEntra) is set",
                )
            )
    return out
