"""Azure identity rules: role assignments and workload-identity federated credentials."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import _airflow_workloads, azure_facts
from ._core import (
    ADVISORY,
    APP_FEDERATED_CREDENTIAL,
    CUSTOM_RESOURCE,
    FEDERATED_CREDENTIAL,
    MANDATORY,
    ROLE_ASSIGNMENT,
    UNKNOWN,
    USER_ASSIGNED_IDENTITY,
    VAULT,
    Context,
    Rule,
    as_list,
    get,
    is_unknown,
    resource_rule,
    show,
    stack_rule,
)
from ._plan import _deps, _inputs, _of_type, _role_guid

RULES: list[Rule] = []

# Built-in role GUIDs, checked 2026-12-02 against Azure's built-in role lists (learn.microsoft.com
# "Azure built-in roles"; Azure/ResourceModules role maps).
PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
# AKS OIDC issuers: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/ (sovereign
# clouds use other hosts under the same pattern).
AKS_ISSUER = re.compile(r"^https://[a-z0-9-]+\.oic\.prod-aks\.azure\.(com|us|cn)/", re.IGNORECASE)
SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
)


@resource_rule(
    RULES,
    name="identity-no-privileged-role",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege); Azure Policy: limit Owner assignments",
    types=(ROLE_ASSIGNMENT,),
    description="""No Owner, Contributor, User Access Administrator or Role Based Access
    Control Administrator assignment: these roles can rewrite access or every resource,
    so a compromised pod identity would own the environment. Grant data-plane roles (Key
    Vault Secrets User, Storage Blob Data Contributor) instead.""",
)
def no_privileged_role(props: Mapping[str, Any], ctx: Context) -> list[str]:
    role = str(props.get("roleDefinitionId", "")).lower().rstrip("/")
    guid = role.rsplit("/", 1)[-1]
    if guid in PRIVILEGED_ROLES:
        return [f"role assignment grants {PRIVILEGED_ROLES[guid]} ({guid})"]
    return []


@resource_rule(
    RULES,
    name="identity-no-subscription-scope",
    level=MANDATORY,
    mirrors="MCSB PA-7; Azure Policy: audit subscription-scope role assignments",
    types=(ROLE_ASSIGNMENT,),
    description="""No role assignment at subscription scope (or above): scope every grant to
    the one resource that needs it, so a leaked identity reaches one vault or one account,
    not the subscription.""",
)
def no_subscription_scope(props: Mapping[str, Any], ctx: Context) -> list[str]:
    scope = props.get("scope")
    if scope is None or scope == "":
        return ["role assignment has no scope"]
    if is_unknown(scope):
        return []  # a computed resource id, never a bare subscription literal
    s = str(scope)
    if s == "/" or SUBSCRIPTION_SCOPE.match(s) or "/managementgroups/" in s.lower():
        return [f"role assignment at subscription or management-group scope: {s}"]
    return []


@resource_rule(
    RULES,
    name="identity-principal-type-set",
    level=ADVISORY,
    mirrors="azure-native guidance (PrincipalNotFound on new identities)",
    types=(ROLE_ASSIGNMENT,),
    description="""Role assignments should set principalType (ServicePrincipal for managed
    identities): without it ARM looks the principal up in Entra ID and fails with
    PrincipalNotFound while a freshly created identity is still replicating.""",
)
def principal_type_set(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not props.get("principalType"):
        return ["principalType is not set"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-audience",
    level=MANDATORY,
    mirrors="Microsoft Entra workload identity federation requirements",
    types=(FEDERATED_CREDENTIAL, APP_FEDERATED_CREDENTIAL),
    description="""Federated credentials must accept exactly the api://AzureADTokenExchange
    audience: any other audience lets tokens minted for another service be exchanged for
    Azure tokens.""",
)
def federated_audience(props: Mapping[str, Any], ctx: Context) -> list[str]:
    audiences = props.get("audiences")
    if as_list(audiences) != [FEDERATED_AUDIENCE]:
        return [f"audiences must be ['{FEDERATED_AUDIENCE}'] (is {show(audiences)})"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-issuer-aks",
    level=MANDATORY,
    mirrors="AKS workload identity (issuer = oidcIssuerProfile.issuerURL)",
    types=(FEDERATED_CREDENTIAL,),
    description=f"""Federated credentials must trust the AKS cluster's OIDC issuer: taken from
    the cluster output (shown as {UNKNOWN} in a plan) or an AKS issuer URL. An empty or
    foreign issuer (e.g. a CI provider) lets other token issuers act as the identity.""",
)
def federated_issuer_aks(props: Mapping[str, Any], ctx: Context) -> list[str]:
    issuer = props.get("issuer")
    if is_unknown(issuer):
        return []
    if not isinstance(issuer, str) or not issuer:
        return ["issuer is missing: it must be the cluster's oidcIssuerProfile.issuerURL"]
    if not AKS_ISSUER.match(issuer):
        return [f"issuer {issuer!r} is not an AKS OIDC issuer"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-subject-serviceaccount",
    level=MANDATORY,
    mirrors="AKS workload identity (subject = system:serviceaccount:<ns>:<sa>)",
    types=(FEDERATED_CREDENTIAL,),
    description="""The subject must name exactly one Kubernetes ServiceAccount
    (system:serviceaccount:<namespace>:<name>, no wildcards), so one identity is trusted by
    one ServiceAccount and nothing else.""",
)
def federated_subject_serviceaccount(props: Mapping[str, Any], ctx: Context) -> list[str]:
    subject = props.get("subject")
    if is_unknown(subject):
        return []
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        return [f"subject {show(subject)} is not system:serviceaccount:<namespace>:<name>"]
    return []


# ------------------------------------------------------------------ scope and role widening


def role_guid(props: Mapping[str, Any]) -> str:
    """The role definition GUID of an assignment (last segment of ``roleDefinitionId``)."""
    return str(props.get("roleDefinitionId", "")).lower().rstrip("/").rsplit("/", 1)[-1]


RESOURCE_GROUP_SCOPE = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/?$", re.IGNORECASE)


@resource_rule(
    RULES,
    name="identity-no-resource-group-scope",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege); components/identity.py check_scope",
    types=(ROLE_ASSIGNMENT,),
    description="""No role assignment on a whole resource group: the group holds the vault,
    the database, the log storage and the cluster, so a group-wide grant reaches all of
    them and everything added later. Scope the grant to the one resource (or child) that
    needs it. The components refuse this too; the pack holds for stacks that bypass them.""",
)
def no_resource_group_scope(props: Mapping[str, Any], ctx: Context) -> list[str]:
    scope = props.get("scope")
    if isinstance(scope, str) and RESOURCE_GROUP_SCOPE.match(scope):
        return [
            f"role assignment on a whole resource group: {scope}; fix: scope it to the "
            "resource that needs it (vault, container, cluster namespace, subnet)"
        ]
    return []


@dataclass(frozen=True)
class ScopeLimit:
    """The narrowest scope a role is meant for; anything wider is a widening."""

    role: str
    scope: re.Pattern[str]
    shape: str


# GUIDs as in components/identity.py BUILTIN_ROLES (checked 2026-12-02 against
# learn.microsoft.com "Azure built-in roles"). Narrowest scopes documented by Microsoft
# (2026-12): blob data roles at container scope (Storage "Assign an Azure role for access to
# blob data"); AKS RBAC Reader/Writer at `<cluster>/namespaces/<ns>` (AKS "Use Azure RBAC for
# Kubernetes authorization"); Network Contributor on the node subnet (AKS "bring your own
# subnet"); Cluster User Role on the cluster; Secrets User on the vault or one secret.
_CONTAINER = re.compile(r"/blobServices/default/containers/[^/]+/?$", re.IGNORECASE)
_NAMESPACE = re.compile(r"/managedClusters/[^/]+/namespaces/[^/]+/?$", re.IGNORECASE)
SCOPE_LIMITS: dict[str, ScopeLimit] = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": ScopeLimit(
        "Storage Blob Data Contributor", _CONTAINER, "one blob container"
    ),
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": ScopeLimit(
        "Storage Blob Data Reader", _CONTAINER, "one blob container"
    ),
    "7f6c6a51-bcf8-42ba-9220-52d62157d7db": ScopeLimit(
        "Azure Kubernetes Service RBAC Reader", _NAMESPACE, "one cluster namespace"
    ),
    "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb": ScopeLimit(
        "Azure Kubernetes Service RBAC Writer", _NAMESPACE, "one cluster namespace"
    ),
    "4d97b98b-1d4f-4787-a291-c67834d212e7": ScopeLimit(
        "Network Contributor",
        re.compile(r"/virtualNetworks/[^/]+/subnets/[^/]+/?$", re.IGNORECASE),
        "one subnet",
    ),
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": ScopeLimit(
        "Azure Kubernetes Service Cluster User Role",
        re.compile(r"/providers/Microsoft\.ContainerService/managedClusters/[^/]+/?$", re.I),
        "the cluster",
    ),
    "4633458b-17de-408a-b874-0445c86b69e6": ScopeLimit(
        "Key Vault Secrets User",
        re.compile(r"/providers/Microsoft\.KeyVault/vaults/[^/]+(/secrets/[^/]+)?/?$", re.I),
        "a vault or one of its secrets",
    ),
}


@resource_rule(
    RULES,
    name="identity-role-scope-narrowest",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege, resource-level scope)",
    types=(ROLE_ASSIGNMENT,),
    description="""Roles this platform grants must sit on the narrowest scope they are made
    for, not on a parent below the resource group: blob data roles on one container (not the
    account), AKS RBAC Reader/Writer on one namespace (not the cluster), Network Contributor
    on the node subnet (not the VNet), Key Vault Secrets User on the vault or a secret.
    Widening any of them silently extends the grant to every sibling.""",
)
def role_scope_narrowest(props: Mapping[str, Any], ctx: Context) -> list[str]:
    limit = SCOPE_LIMITS.get(role_guid(props))
    scope = props.get("scope")
    if limit is None or not isinstance(scope, str) or is_unknown(scope):
        return []
    if RESOURCE_GROUP_SCOPE.match(scope) or SUBSCRIPTION_SCOPE.match(scope):
        return []  # reported by identity-no-resource-group-scope / -no-subscription-scope
    if limit.scope.search(scope):
        return []
    return [f"{limit.role} on {scope} is wider than {limit.shape}; fix: scope it to {limit.shape}"]


# Data-plane roles that write, delete or administer (GUIDs seen 2026-12: Key Vault roles in
# learn.microsoft.com "Azure built-in roles for Security" and Microsoft's Bicep role maps;
# Storage Blob Data Owner in the Azure SDK's own test templates). Nothing in this platform
# needs them: Pulumi writes secrets through the ARM control plane (no data-plane role), pods
# only read secrets, and log writers need Blob Data Contributor on one container.
WRITE_ROLES = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": ("Key Vault Administrator", "Key Vault Secrets User"),
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": ("Key Vault Secrets Officer", "Key Vault Secrets User"),
    "a4417e6f-fecd-4de8-b567-7b0420556985": (
        "Key Vault Certificates Officer",
        "Key Vault Secrets User",
    ),
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": ("Key Vault Crypto Officer", "Key Vault Crypto User"),
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": (
        "Storage Blob Data Owner",
        "Storage Blob Data Contributor on the container",
    ),
}


@resource_rule(
    RULES,
    name="identity-read-role-where-read-suffices",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege); Key Vault RBAC guide (Secrets User for apps)",
    types=(ROLE_ASSIGNMENT,),
    description="""No data-plane administrator or officer role (Key Vault Administrator,
    Secrets/Certificates/Crypto Officer, Storage Blob Data Owner): workloads here read
    secrets (Key Vault Secrets User) and write logs (Blob Data Contributor), and Pulumi
    writes secrets through ARM. An officer role lets a compromised pod overwrite or delete
    the credentials every other component trusts.""",
)
def read_role_where_read_suffices(props: Mapping[str, Any], ctx: Context) -> list[str]:
    hit = WRITE_ROLES.get(role_guid(props))
    if hit is None:
        return []
    role, instead = hit
    return [f"role assignment grants {role} (write/admin); fix: grant {instead} instead"]


SECRET_PROVIDER_CLASS = "SecretProviderClass"


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


# ------------------------------------------------ first contact with the cluster, mesh and chart


@stack_rule(
    RULES,
    name="identity-no-credential-for-absent-pods",
    level=MANDATORY,
    mirrors="Microsoft Entra workload identity federation (subject = ServiceAccount)",
    description="""No federated identity credential may trust the ServiceAccount of an
    Airflow Job the chart does not run (createUserJob or migrateDatabaseJob with enabled
    false): any pod later started under that ServiceAccount would get the control plane's
    Azure identity, and nothing needs it. The subject format
    system:serviceaccount:<namespace>:<name> is Microsoft's ("Workload identity
    federation", Kubernetes issuer).""",
)
def no_credential_for_absent_pods(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    return _airflow_workloads.no_credential_for_absent_pods(resources, ctx)


# ---------------------------------------------------------------------------- hibernation

ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
LOGIC_WORKFLOW = "azure-native:logic:Workflow"
# The ARM operations the hibernation schedule calls (AKS REST Managed Clusters - Start/Stop,
# PostgreSQL REST Servers - Start/Stop, read 2026-12-07); a POST needs no read permission.
START_STOP_ACTIONS = frozenset(
    {
        "microsoft.containerservice/managedclusters/start/action",
        "microsoft.containerservice/managedclusters/stop/action",
        "microsoft.dbforpostgresql/flexibleservers/start/action",
        "microsoft.dbforpostgresql/flexibleservers/stop/action",
    }
)
START_STOP_TARGETS = (
    "azure-native:containerservice:ManagedCluster",
    "azure-native:dbforpostgresql:Server",
)


@stack_rule(
    RULES,
    name="identity-hibernation-start-stop-only",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege); Azure custom roles (actions per operation)",
    description="""The identity a Logic App workflow acts as (the hibernation schedule) may
    hold only a custom role whose actions are the start/stop actions of managed clusters and
    Postgres flexible servers (no wildcard, no data actions, no built-in role), assigned on
    exactly a cluster or server of this stack: a schedule that can stop the cluster must not
    be able to change or delete it, or reach anything else.""",
)
def hibernation_start_stop_only(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    by_urn = {str(r.get("urn")): r for r in resources}
    acting = {u for r in resources if r.get("type") == LOGIC_WORKFLOW for u in _deps(r, "identity")}
    targets = {str(r.get("urn")): r for r in resources if r.get("type") in START_STOP_TARGETS}
    out: list[tuple[str, str]] = []
    for grant in resources:
        if grant.get("type") != ROLE_ASSIGNMENT:
            continue
        if not acting.intersection(_deps(grant, "principalId")):
            continue
        urn, props = str(grant.get("urn")), grant.get("inputs") or {}
        roles = [by_urn[u] for u in _deps(grant, "roleDefinitionId") if u in by_urn]
        roles = [r for r in roles if r.get("type") == ROLE_DEFINITION]
        # The id must name the custom role itself (its GUID), not a built-in or foreign role.
        literal = props.get("roleDefinitionId")
        guids = {str((r.get("inputs") or {}).get("roleDefinitionId", "")).lower() for r in roles}
        named = str(literal).lower().rstrip("/").rsplit("/", 1)[-1]
        if not roles or (
            isinstance(literal, str) and not is_unknown(literal) and named not in guids
        ):
            out.append(
                (
                    urn,
                    "the hibernation identity holds a role that is not its own "
                    "start/stop custom role: grant only that role",
                )
            )
            continue
        for role in roles:
            for perm in as_list((role.get("inputs") or {}).get("permissions")):
                perm = perm if isinstance(perm, Mapping) else {}
                extra = sorted(
                    str(a)
                    for a in as_list(perm.get("actions"))
                    if str(a).lower() not in START_STOP_ACTIONS
                )
                if extra:
                    out.append(
                        (
                            urn,
                            f"hibernation role {role.get('name')} allows "
                            f"{', '.join(extra)}: only start/stop actions",
                        )
                    )
                if as_list(perm.get("dataActions")):
                    out.append((urn, f"hibernation role {role.get('name')} has data actions"))
        scope = props.get("scope")
        on = [t for t in _deps(grant, "scope") if t in targets]
        if not on or is_unknown(scope) or not isinstance(scope, str):
            if not on:
                out.append(
                    (
                        urn,
                        f"hibernation grant on {show(scope)}: scope it to the "
                        "cluster or the Postgres server it starts and stops",
                    )
                )
            continue
        target = targets[on[0]]
        ins = target.get("inputs") or {}
        name = ins.get("resourceName") or ins.get("serverName") or target.get("name")
        if not scope.lower().rstrip("/").endswith(f"/{name}".lower()) or (
            "/providers/" not in scope.lower()
        ):
            out.append(
                (
                    urn,
                    f"hibernation grant on {scope}: scope it to the cluster or "
                    "the Postgres server itself, nothing wider",
                )
            )
    return out
