"""What the plan of a stack needs from the identity that previews or deploys it.

Data, read 2026-12-07, each line with its source:

- :data:`BUILTIN_ROLES` — the Actions / NotActions / DataActions / NotDataActions of every
  built-in role the bootstrap may grant, as Microsoft publishes them (MicrosoftDocs/azure-docs
  ``articles/role-based-access-control/built-in-roles/<area>.md``, the JSON block of each role).
- :func:`resource_needs` — the ARM actions one resource of the plan needs: ``<type>/read``,
  ``/write``, ``/delete`` of its ARM type (the ARM id templates of :mod:`airflow_aks.offline.plan`)
  plus the *linked* actions ARM checks on the resources it references (:data:`LINKED`); the
  Kubernetes data actions of a Kubernetes object; the Microsoft Graph application permissions
  of an azuread resource (:data:`GRAPH_RESOURCE_NEEDS`).
- :func:`invoke_needs` — the same for every invoke the program makes (:data:`INVOKE_NEEDS`).

:func:`uncovered` then proves, for preview and deploy separately, that a set of grants covers
every need, matching actions the way Azure does (case-insensitive, ``*`` wildcards, NotActions
subtracted per role, role-assignment writes limited by the grant's ABAC condition, a
subscription-scope need never covered by a resource-group grant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

Operation = Literal["preview", "deploy"]
Scope = Literal["resourceGroup", "subscription"]

_DOCS = "MicrosoftDocs/azure-docs built-in-roles/{}.md, read 2026-12-07"


@dataclass(frozen=True)
class RoleDef:
    """One role definition: what it allows, where Microsoft says so."""

    name: str
    guid: str | None
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    source: str = ""


def _role(name: str, guid: str, area: str, actions: Sequence[str], **kw: Any) -> RoleDef:
    return RoleDef(name, guid, tuple(actions), source=_DOCS.format(area), **kw)


_AKS_READ_DATA = tuple(
    f"Microsoft.ContainerService/managedClusters/{r}/read"
    for r in (
        "apps/controllerrevisions", "apps/daemonsets", "apps/deployments", "apps/replicasets",
        "apps/statefulsets", "autoscaling/horizontalpodautoscalers", "batch/cronjobs",
        "batch/jobs", "configmaps", "discovery.k8s.io/endpointslices", "endpoints",
        "events.k8s.io/events", "events", "extensions/daemonsets", "extensions/deployments",
        "extensions/ingresses", "extensions/networkpolicies", "extensions/replicasets",
        "limitranges", "metrics.k8s.io/pods", "metrics.k8s.io/nodes", "namespaces",
        "networking.k8s.io/ingresses", "networking.k8s.io/networkpolicies",
        "persistentvolumeclaims", "pods", "policy/poddisruptionbudgets",
        "replicationcontrollers", "resourcequotas", "serviceaccounts", "services",
    )
)  # fmt: skip

BUILTIN_ROLES: dict[str, RoleDef] = {
    r.name: r
    for r in (
        _role("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "general", ["*/read"]),
        _role(
            "Azure Kubernetes Service Contributor Role",
            "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
            "containers",
            [
                "Microsoft.ContainerService/managedClusters/read",
                "Microsoft.ContainerService/managedClusters/write",
                "Microsoft.Resources/deployments/*",
            ],
        ),
        _role(
            "Azure Kubernetes Service Cluster User Role",
            "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
            "containers",
            [
                "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
                "Microsoft.ContainerService/managedClusters/read",
            ],
        ),
        _role(
            "Azure Kubernetes Service RBAC Cluster Admin",
            "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
            "containers",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Resources/subscriptions/operationresults/read",
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            ],
            data_actions=("Microsoft.ContainerService/managedClusters/*",),
        ),
        _role(
            "Azure Kubernetes Service RBAC Reader",
            "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
            "containers",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Resources/subscriptions/operationresults/read",
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ],
            data_actions=_AKS_READ_DATA,
        ),
        _role(
            "Kubernetes Extension Contributor",
            "85cb6faf-e071-4c9b-8136-154b5a04f717",
            "containers",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.KubernetesConfiguration/extensions/write",
                "Microsoft.KubernetesConfiguration/extensions/read",
                "Microsoft.KubernetesConfiguration/extensions/delete",
                "Microsoft.KubernetesConfiguration/extensions/operations/read",
            ],
        ),
        _role(
            "Key Vault Contributor",
            "f25e0fa2-a7c8-4377-a976-54943a77a395",
            "security",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.KeyVault/*",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Support/*",
            ],
            not_actions=(
                "Microsoft.KeyVault/locations/deletedVaults/purge/action",
                "Microsoft.KeyVault/hsmPools/*",
                "Microsoft.KeyVault/managedHsms/*",
            ),
        ),
        _role(
            "Network Contributor",
            "4d97b98b-1d4f-4787-a291-c67834d212e7",
            "networking",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Network/*",
                "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Support/*",
            ],
        ),
        _role(
            "Private DNS Zone Contributor",
            "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
            "networking",
            [
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Support/*",
                "Microsoft.Network/privateDnsZones/*",
                "Microsoft.Network/privateDnsOperationResults/*",
                "Microsoft.Network/privateDnsOperationStatuses/*",
                "Microsoft.Network/virtualNetworks/read",
                "Microsoft.Network/virtualNetworks/join/action",
                "Microsoft.Authorization/*/read",
            ],
        ),
        _role(
            "Storage Account Contributor",
            "17d1049b-9a84-46fb-8f53-869881c3d3ab",
            "storage",
            [
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Insights/diagnosticSettings/*",
                "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
                "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Storage/storageAccounts/*",
                "Microsoft.Support/*",
            ],
        ),
        _role(
            "Managed Identity Contributor",
            "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
            "identity",
            [
                "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
                "Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action",
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Support/*",
            ],
        ),
        _role(
            "Managed Identity Operator",
            "f1a07417-d97a-45cb-824c-7a7467783830",
            "identity",
            [
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Support/*",
            ],
        ),
        _role(
            "Log Analytics Contributor",
            "92aaf0da-9dab-42b6-94a3-d43ce8d16293",
            "monitor",
            [
                "*/read",
                "Microsoft.ClassicCompute/virtualMachines/extensions/*",
                "Microsoft.ClassicStorage/storageAccounts/listKeys/action",
                "Microsoft.Compute/virtualMachines/extensions/*",
                "Microsoft.HybridCompute/machines/extensions/write",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Insights/diagnosticSettings/*",
                "Microsoft.OperationalInsights/*",
                "Microsoft.OperationsManagement/*",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourcegroups/deployments/*",
                "Microsoft.Storage/storageAccounts/listKeys/action",
                "Microsoft.Support/*",
            ],
        ),
        _role(
            "Monitoring Contributor",
            "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
            "monitor",
            [
                "*/read",
                "Microsoft.AlertsManagement/alerts/*",
                "Microsoft.AlertsManagement/alertsSummary/*",
                "Microsoft.Insights/actiongroups/*",
                "Microsoft.Insights/activityLogAlerts/*",
                "Microsoft.Insights/AlertRules/*",
                "Microsoft.Insights/components/*",
                "Microsoft.Insights/createNotifications/*",
                "Microsoft.Insights/dataCollectionEndpoints/*",
                "Microsoft.Insights/dataCollectionRules/*",
                "Microsoft.Insights/dataCollectionRuleAssociations/*",
                "Microsoft.Insights/DiagnosticSettings/*",
                "Microsoft.Insights/eventtypes/*",
                "Microsoft.Insights/LogDefinitions/*",
                "Microsoft.Insights/metricalerts/*",
                "Microsoft.Insights/MetricDefinitions/*",
                "Microsoft.Insights/Metrics/*",
                "Microsoft.Insights/notificationStatus/*",
                "Microsoft.Insights/Register/Action",
                "Microsoft.Insights/scheduledqueryrules/*",
                "Microsoft.Insights/webtests/*",
                "Microsoft.Insights/workbooks/*",
                "Microsoft.Insights/workbooktemplates/*",
                "Microsoft.Insights/privateLinkScopes/*",
                "Microsoft.Insights/privateLinkScopeOperationStatuses/*",
                "Microsoft.OperationalInsights/workspaces/write",
                "Microsoft.OperationalInsights/workspaces/intelligencepacks/*",
                "Microsoft.OperationalInsights/workspaces/savedSearches/*",
                "Microsoft.OperationalInsights/workspaces/search/action",
                "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
                "Microsoft.OperationalInsights/workspaces/storageinsightconfigs/*",
                "Microsoft.Support/*",
                "Microsoft.AlertsManagement/smartDetectorAlertRules/*",
                "Microsoft.AlertsManagement/actionRules/*",
                "Microsoft.AlertsManagement/smartGroups/*",
                "Microsoft.AlertsManagement/migrateFromSmartDetection/*",
                "Microsoft.AlertsManagement/investigations/*",
                "Microsoft.Monitor/investigations/*",
            ],
        ),
        _role(
            "Role Based Access Control Administrator",
            "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
            "privileged",
            [
                "Microsoft.Authorization/roleAssignments/write",
                "Microsoft.Authorization/roleAssignments/delete",
                "*/read",
                "Microsoft.Support/*",
            ],
        ),
    )
}


@dataclass(frozen=True)
class Need:
    """One permission one resource or invoke of the plan needs."""

    what: str
    """ARM action, Kubernetes data action, or ``graph`` for Microsoft Graph."""
    kind: Literal["action", "dataAction", "graph"]
    scope: Scope
    who: str
    """The URN of the resource, or ``invoke <token>``."""
    why: str
    source: str
    role_guid: str | None = None
    """For ``roleAssignments/write``/``delete``: the role being assigned (ABAC condition)."""
    graph: tuple[frozenset[str], ...] = ()
    """For ``graph``: alternatives, each a set of application permissions that suffices."""


# ARM checks these on the *referenced* resource when a resource's input names it. Keyed by
# azure-native type; each entry: (input path with [] for every list item, action, source).
_AKS_PERMS = "aks-docs aks-service-permissions.md (identity creating the cluster), 2026-12-07"
_PE_PERMS = "Azure Private Link 'Azure RBAC permissions' (private endpoint table), 2026-12-07"
_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
_SE_JOIN = "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action"
_ASSIGN = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
_DNS_JOIN = "Microsoft.Network/privateDnsZones/join/action"
LINKED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "azure-native:containerservice:ManagedCluster": (
        ("identity.userAssignedIdentities[]", _ASSIGN, _AKS_PERMS + "; LinkedAuthorizationFailed"),
        ("agentPoolProfiles[].vnetSubnetID", _JOIN, _AKS_PERMS),
        ("agentPoolProfiles[].podSubnetID", _JOIN, _AKS_PERMS),
        ("apiServerAccessProfile.subnetId", _JOIN, _AKS_PERMS),
    ),
    "azure-native:containerservice:AgentPool": (
        ("vnetSubnetID", _JOIN, _AKS_PERMS),
        ("podSubnetID", _JOIN, _AKS_PERMS),
    ),
    # Attaching a user-assigned identity to any resource is the identity's assign action
    # (the linked action behind Managed Identity Operator; notes/first-contact.md 2026-12-07).
    "azure-native:logic:Workflow": (
        ("identity.userAssignedIdentities[]", _ASSIGN, "user-assigned identity attach"),
    ),
    "azure-native:network:PrivateEndpoint": (("subnet.id", _JOIN, _PE_PERMS),),
    "azure-native:network:PrivateDnsZoneGroup": (
        ("privateDnsZoneConfigs[].privateDnsZoneId", _DNS_JOIN, "linked action (not re-read)"),
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        (
            "virtualNetwork.id",
            "Microsoft.Network/virtualNetworks/join/action",
            "Private DNS Zone Contributor carries exactly this action for its links "
            "(built-in-roles/networking.md, 2026-12-07)",
        ),
    ),
    "azure-native:dbforpostgresql:Server": (
        ("network.delegatedSubnetResourceId", _JOIN, "linked action (review: subnet join)"),
        ("network.privateDnsZoneArmResourceId", _DNS_JOIN, "linked action (review: DNS zone join)"),
    ),
    "azure-native:storage:StorageAccount": (
        (
            "networkRuleSet.virtualNetworkRules[].virtualNetworkResourceId",
            _SE_JOIN,
            "Storage Account Contributor carries this action (built-in-roles/storage.md)",
        ),
    ),
    "azure-native:keyvault:Vault": (
        ("properties.networkAcls.virtualNetworkRules[].id", _SE_JOIN, "as for storage accounts"),
    ),
}

_AZUREAD = "pulumi-azuread API docs 'API Permissions' of the resource, read 2026-12-07"
_ALL = frozenset
# azuread type -> (deploy alternatives, preview/refresh alternatives). Alternatives as the
# provider docs list them; the *first* is the least and the one the bootstrap grants.
GRAPH_RESOURCE_NEEDS: dict[str, tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]] = {
    "azuread:index/group:Group": (
        # Group.Create suffices when the caller owns the group, which the provider makes it
        # by default; reading it back (refresh) needs Group.Read.All.
        (_ALL({"Group.Create", "Group.Read.All"}), _ALL({"Group.ReadWrite.All"})),
        (_ALL({"Group.Read.All"}), _ALL({"Directory.Read.All"})),
    ),
    "azuread:index/application:Application": (
        (_ALL({"Application.ReadWrite.OwnedBy"}), _ALL({"Application.ReadWrite.All"})),
        (_ALL({"Application.Read.All"}), _ALL({"Directory.Read.All"})),
    ),
    "azuread:index/servicePrincipal:ServicePrincipal": (
        (_ALL({"Application.ReadWrite.OwnedBy"}), _ALL({"Application.ReadWrite.All"})),
        (_ALL({"Application.Read.All"}), _ALL({"Directory.Read.All"})),
    ),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (
        (_ALL({"Application.ReadWrite.OwnedBy"}), _ALL({"Application.ReadWrite.All"})),
        (_ALL({"Application.Read.All"}), _ALL({"Directory.Read.All"})),
    ),
    "azuread:index/appRoleAssignment:AppRoleAssignment": (
        (
            _ALL({"AppRoleAssignment.ReadWrite.All", "Application.Read.All"}),
            _ALL({"AppRoleAssignment.ReadWrite.All", "Directory.Read.All"}),
            _ALL({"Application.ReadWrite.All"}),
        ),
        (_ALL({"Application.Read.All"}), _ALL({"Directory.Read.All"})),
    ),
}

# Invokes: token -> (needs, same for preview and deploy: invokes run in both).
INVOKE_NEEDS: dict[str, tuple[Need, ...]] = {
    "azure-native:authorization:getClientConfig": (),  # claims of the caller's own token
    "azure-native:features:getSubscriptionFeatureRegistration": (
        Need(
            "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations/read",
            "action",
            "subscription",
            "invoke azure-native:features:getSubscriptionFeatureRegistration",
            "the program's preflight reads the EncryptionAtHost registration before anything",
            "resource provider operations, Microsoft.Features (azure-docs permissions/"
            "management-and-governance.md), 2026-12-07",
        ),
    ),
    "azure-native:containerservice:listManagedClusterUserCredentials": (
        Need(
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "action",
            "resourceGroup",
            "invoke azure-native:containerservice:listManagedClusterUserCredentials",
            "the Kubernetes provider's kubeconfig (exec format, kubelogin)",
            "Azure Kubernetes Service Cluster User Role definition (built-in-roles/"
            "containers.md) and AKS 'cluster identity permissions', 2026-12-07",
        ),
    ),
    "azuread:index/getGroup:getGroup": (
        Need(
            "graph",
            "graph",
            "subscription",
            "invoke azuread:index/getGroup:getGroup",
            "the PostgreSQL Entra admin's display name",
            _AZUREAD,
            graph=(_ALL({"Group.Read.All"}), _ALL({"Directory.Read.All"})),
        ),
    ),
    "azuread:index/getServicePrincipal:getServicePrincipal": (
        Need(
            "graph",
            "graph",
            "subscription",
            "invoke azuread:index/getServicePrincipal:getServicePrincipal",
            "look up Microsoft Graph's service principal",
            _AZUREAD,
            graph=(_ALL({"Application.Read.All"}), _ALL({"Directory.Read.All"})),
        ),
    ),
}


@cache
def arm_type(token: str) -> str | None:
    """ARM resource type of an azure-native type token, from the plan's ARM id templates:
    the namespace after the last ``/providers/`` and every type segment under it."""
    from airflow_aks.offline.plan import ARM_IDS

    template = ARM_IDS.get(token)
    if template is None:
        return None
    tail = template.rsplit("/providers/", 1)[1].split("/")
    # namespace, then (type, name) pairs: blobServices/default/containers/{c} -> the types.
    return "/".join([tail[0], *tail[1::2]])


def _kind_plural(kind: str) -> str:
    low = kind.lower()
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    return low + "s"


def kubernetes_data_action(token: str, verb: str) -> str:
    """``kubernetes:<group>/<version>:<Kind>`` -> AKS data action (core group has none):
    ``Microsoft.ContainerService/managedClusters[/<group>]/<plural>/<verb>``, the form of the
    AKS RBAC roles' DataActions (built-in-roles/containers.md)."""
    gv, kind = token.removeprefix("kubernetes:").rsplit(":", 1)
    group = gv.split("/")[0] if "/" in gv else ""
    group = "" if group == "core" else group
    parts = ["Microsoft.ContainerService/managedClusters", group, _kind_plural(kind), verb]
    return "/".join(p for p in parts if p)


def _values(data: Any, path: str) -> Iterator[str]:
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    key = head.removesuffix("[]")
    node = data.get(key) if isinstance(data, Mapping) else None
    items = node if many and isinstance(node, list) else [node] if not many else []
    for item in items:
        if rest:
            yield from _values(item, rest)
        elif isinstance(item, str) and item:
            yield item


_ROLE_DEF = re.compile(r"roleDefinitions/([0-9a-fA-F-]{36})$")
_LOCAL = ("random:", "tls:", "pulumi:")
_ARM_SOURCE = "ARM: <type>/read, /write, /delete of the type written (ARM id templates)"


def resource_needs(r: Mapping[str, Any], op: Operation) -> list[Need]:
    """What one resource of the plan needs for ``op``.

    Preview reads every resource (the generated preview refreshes, to show drift) and
    Kubernetes objects (server-side dry-run falls back to a read-only diff without write:
    pulumi-kubernetes#2419); deploy creates, updates and deletes them.
    Raises ValueError for a type the model does not know.
    """
    typ: str = r["type"]
    urn: str = r["urn"]
    inputs: Mapping[str, Any] = r.get("inputs") or {}
    if not r.get("custom", True) or typ.startswith(_LOCAL):
        return []
    verbs = ("read",) if op == "preview" else ("read", "write", "delete")
    if typ.startswith("azure-native:"):
        arm = arm_type(typ)
        if arm is None:
            raise ValueError(f"{urn}: no ARM type known for {typ} (add it to offline/plan.py)")
        role_guid = None
        if typ == "azure-native:authorization:RoleAssignment":
            m = _ROLE_DEF.search(str(inputs.get("roleDefinitionId", "")))
            role_guid = m.group(1).lower() if m else "[unknown role]"
        out = [
            Need(
                f"{arm}/{v}",
                "action",
                "resourceGroup",
                urn,
                f"{v} {typ.rsplit(':', 1)[1]}",
                _ARM_SOURCE,
                role_guid=role_guid if v != "read" else None,
            )
            for v in verbs
        ]
        if op == "deploy":
            for path, action, source in LINKED.get(typ, ()):
                for target in _values(inputs, path):
                    out.append(
                        Need(action, "action", "resourceGroup", urn, f"linked: {target}", source)
                    )
        return out
    if typ.startswith("kubernetes:"):
        return [
            Need(
                kubernetes_data_action(typ, v),
                "dataAction",
                "resourceGroup",
                urn,
                f"{v} through the API server (Entra ID + Azure RBAC)",
                "AKS RBAC DataActions (built-in-roles/containers.md), 2026-12-07",
            )
            for v in verbs
        ]
    if typ.startswith("azuread:"):
        if typ not in GRAPH_RESOURCE_NEEDS:
            raise ValueError(f"{urn}: no Microsoft Graph permission known for {typ}")
        deploy, read = GRAPH_RESOURCE_NEEDS[typ]
        alternatives = read if op == "preview" else deploy
        return [
            Need("graph", "graph", "subscription", urn, f"{op} {typ}", _AZUREAD, graph=alternatives)
        ]
    raise ValueError(f"{urn}: no permission model for {typ}")


def invoke_needs(invoke: Mapping[str, Any]) -> tuple[Need, ...]:
    token = invoke["token"]
    if token not in INVOKE_NEEDS:
        raise ValueError(f"no permission model for invoke {token} (add it to INVOKE_NEEDS)")
    return INVOKE_NEEDS[token]


def plan_needs(export: Mapping[str, Any], op: Operation) -> list[Need]:
    """Every need of every resource and invoke of one stack's plan, for ``op``."""
    out: list[Need] = []
    for r in export["resources"]:
        out.extend(resource_needs(r, op))
    for i in export.get("invokes", ()):
        out.extend(invoke_needs(i))
    return out


# ----------------------------------------------------------------------------- matching
@cache
def _pattern(p: str) -> re.Pattern[str]:
    # Azure compares case-insensitively; '*' spans any characters, and a '/*/' in the middle
    # also matches no segment: Managed Identity Operator's `userAssignedIdentities/*/assign/
    # action` is Microsoft's documented role for `userAssignedIdentities/assign/action`
    # (aks-service-permissions.md; Managed Identity Operator "Read and Assign").
    parts = [re.escape(x) for x in p.split("/*/")]
    body = "/(?:.*/)?".join(p_.replace(r"\*", ".*") for p_ in parts)
    return re.compile(body, re.IGNORECASE)


def matches(pattern: str, action: str) -> bool:
    return _pattern(pattern).fullmatch(action) is not None


def role_allows(role: RoleDef, need: Need) -> bool:
    if need.kind == "action":
        allow, deny = role.actions, role.not_actions
    else:
        allow, deny = role.data_actions, role.not_data_actions
    return any(matches(a, need.what) for a in allow) and not any(
        matches(d, need.what) for d in deny
    )


@dataclass(frozen=True)
class HeldRole:
    """A role an identity holds: its definition, scope, and ABAC-limited assignable roles."""

    role: RoleDef
    scope: Scope
    assignable: frozenset[str] | None = None
    """With an ABAC condition on role assignments: the role GUIDs it may assign/remove."""


@dataclass
class Identity:
    roles: list[HeldRole] = field(default_factory=list)
    graph: frozenset[str] = frozenset()


def covered(identity: Identity, need: Need) -> bool:
    if need.kind == "graph":
        return any(alt <= identity.graph for alt in need.graph)
    for held in identity.roles:
        if need.scope == "subscription" and held.scope != "subscription":
            continue
        if not role_allows(held.role, need):
            continue
        limited = need.role_guid is not None and held.assignable is not None
        if limited and need.role_guid not in (held.assignable or ()):
            continue
        return True
    return False


def uncovered(identity: Identity, needs: Iterable[Need]) -> list[Need]:
    """The needs no grant of ``identity`` covers, each once."""
    seen: dict[tuple[str, str, str | None, tuple[frozenset[str], ...]], Need] = {}
    for n in needs:
        if not covered(identity, n):
            seen.setdefault((n.what, n.who, n.role_guid, n.graph), n)
    return list(seen.values())


def describe(n: Need) -> str:
    if n.kind == "graph":
        alts = " or ".join(" + ".join(sorted(a)) for a in n.graph)
        return f"Microsoft Graph {alts} for {n.who} ({n.why})"
    extra = f" (assigning role {n.role_guid})" if n.role_guid else ""
    return f"{n.what}{extra} at {n.scope} for {n.who} ({n.why})"
