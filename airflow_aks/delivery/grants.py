"""The roles the pipeline identities hold, derived from what each stack's plan needs.

- :func:`derive_grants` — the least set the bootstrap grants: built-in roles per Azure
  resource provider the stack writes (:data:`ROLE_BY_MODULE`), Managed Identity Operator when
  the plan attaches an identity, AKS RBAC Cluster Admin for the Kubernetes layer, and one
  custom role per scope holding exactly the actions no chosen built-in covers (today: node
  pools and maintenance windows, Flux configurations, PostgreSQL flexible servers, and the
  subscription-scope feature read of the preflight). Preview: Reader, the AKS kubeconfig,
  Kubernetes reads except Secrets, and Graph reads.
- :func:`identities` — a grants file (``delivery/grants/<stack>.json``) as held roles.
- :func:`check` — every need of every resource and invoke of a plan, for preview and deploy,
  against a grants file: the uncovered ones, each naming its action and resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import permissions as perm

# Microsoft Graph application permission (app role) ids. Source: the same ids across many
# public projects' Graph permission tables (e.g. Group.Read.All 5b567255-…); Microsoft's
# Graph permissions reference lists them. Read 2026-12-07.
GRAPH_APP_ROLES: dict[str, str] = {
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
}

DEPLOYER = "airflow-aks deployer"
"""Custom role at the resource group: the deploy actions no chosen built-in role covers."""
PREVIEWER = "airflow-aks preview reader"
"""Custom role at the resource group: Kubernetes reads except Secrets (CRDs included)."""
SUBSCRIPTION_READER = "airflow-aks subscription reader"
"""Custom role at the subscription: the subscription-scope reads of the preflight."""

# azure-native module -> built-in role, why. The custom deployer fills what these miss.
ROLE_BY_MODULE: dict[str, tuple[str, str]] = {
    "containerservice": ("Azure Kubernetes Service Contributor Role", "the managed cluster"),
    "keyvault": ("Key Vault Contributor", "vault and its secrets (ARM control plane)"),
    "network": ("Network Contributor", "VNet, subnets, NSGs, private endpoints, joins"),
    "privatedns": ("Private DNS Zone Contributor", "private-link DNS zones and links"),
    "storage": ("Storage Account Contributor", "log storage account and containers"),
    "managedidentity": ("Managed Identity Contributor", "workload identities, credentials"),
    "operationalinsights": ("Log Analytics Contributor", "Log Analytics workspace"),
    "insights": ("Monitoring Contributor", "diagnostic settings, data collection rules"),
    "monitor": ("Monitoring Contributor", "diagnostic settings, data collection rules"),
    "kubernetesconfiguration": ("Kubernetes Extension Contributor", "the Flux extension"),
    "authorization": (
        "Role Based Access Control Administrator",
        "the stack's role assignments, constrained to the roles it assigns",
    ),
}
# Linked action -> the built-in role made for it (rather than widening a custom role).
ROLE_BY_LINKED_ACTION: dict[str, tuple[str, str]] = {
    perm._ASSIGN: ("Managed Identity Operator", "attach the control-plane identity to AKS"),
}
# No built-in role holds only the Kubernetes control plane: reads except Secrets, CRDs
# included ("the only way to cover CRDs today is managedClusters/*/read", aks-docs
# manage-azure-rbac.md, 2026-12-07), Secrets subtracted.
PREVIEW_DATA_ACTIONS = ("Microsoft.ContainerService/managedClusters/*/read",)
PREVIEW_NOT_DATA_ACTIONS = ("Microsoft.ContainerService/managedClusters/secrets/read",)


@dataclass(frozen=True)
class Grant:
    """One role an identity holds."""

    role: str
    why: str
    role_guid: str | None
    """Built-in role GUID; None for a custom role of :attr:`StackGrants.custom_roles`."""
    condition: str | None = None
    """ABAC condition (version 2.0) limiting the grant, e.g. which roles it may assign."""
    scope: perm.Scope = "resourceGroup"


@dataclass(frozen=True)
class CustomRole:
    actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    scope: perm.Scope = "resourceGroup"


@dataclass(frozen=True)
class StackGrants:
    stack: str
    deploy: tuple[Grant, ...]
    preview: tuple[Grant, ...]
    graph_app_roles: dict[str, tuple[str, ...]]
    """Microsoft Graph application permissions per identity (``deploy``, ``preview``)."""
    assignable_roles: tuple[str, ...]
    """Role GUIDs the stack itself assigns: all the deploy identity may hand out."""
    custom_roles: dict[str, CustomRole] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def constrain_role_assignments(role_guids: Sequence[str]) -> str:
    """ABAC condition: role assignments may be written/deleted only for these roles.

    The shape of Microsoft's "Constrain roles" example (Azure docs: "Delegate Azure role
    assignment management to others with conditions", examples page), one clause per action
    because write and delete read the role from different attribute sources.
    """
    if not role_guids:
        raise ValueError("no role to delegate: the stack assigns no role")
    guids = ", ".join(sorted(set(role_guids)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def _assignable(condition: str | None) -> frozenset[str] | None:
    if not condition:
        return None
    return frozenset(g.lower() for g in re.findall(r"[0-9a-fA-F-]{36}", condition))


def _held(role: str, guid: str | None, custom: Mapping[str, CustomRole], **kw: Any) -> perm.RoleDef:
    if role in perm.BUILTIN_ROLES:
        return perm.BUILTIN_ROLES[role]
    if role in custom:
        c = custom[role]
        return perm.RoleDef(
            role, None, c.actions, (), c.data_actions, c.not_data_actions, "custom role"
        )
    raise ValueError(f"grant of unknown role {role!r} (guid {guid}): no definition to check")


def identities(data: Mapping[str, Any]) -> dict[str, perm.Identity]:
    """A grants file as the roles each identity holds (``deploy``, ``preview``).

    Also reads the first format (before 2026-12-07): Graph permissions as one list for the
    deploy identity, and its one custom role ``airflow-aks PostgreSQL deployer``.
    """
    custom = {
        name: CustomRole(
            tuple(c.get("actions", ())),
            tuple(c.get("data_actions", ())),
            tuple(c.get("not_data_actions", ())),
            c.get("scope", "resourceGroup"),
        )
        for name, c in (data.get("custom_roles") or {}).items()
    }
    custom.setdefault(
        "airflow-aks PostgreSQL deployer",
        CustomRole(("Microsoft.DBforPostgreSQL/flexibleServers/*",)),
    )
    graph = data.get("graph_app_roles") or {}
    if isinstance(graph, list):
        graph = {"deploy": graph, "preview": []}
    out: dict[str, perm.Identity] = {}
    for who in ("deploy", "preview"):
        held = [
            perm.HeldRole(
                _held(g["role"], g.get("role_guid"), custom),
                g.get("scope")
                or (custom[g["role"]].scope if g["role"] in custom else "resourceGroup"),
                _assignable(g.get("condition")),
            )
            for g in data[who]
        ]
        out[who] = perm.Identity(held, frozenset(graph.get(who, ())))
    return out


def check(export: Mapping[str, Any], grants: Mapping[str, Any]) -> dict[str, list[perm.Need]]:
    """Uncovered needs of the plan per operation (``preview``, ``deploy``)."""
    ids = identities(grants)
    return {
        op: perm.uncovered(ids[op], perm.plan_needs(export, op)) for op in ("preview", "deploy")
    }


def _modules(export: Mapping[str, Any]) -> list[str]:
    mods: dict[str, None] = {}
    for r in export["resources"]:
        typ: str = r["type"]
        if not r.get("custom", True) or not typ.startswith("azure-native:"):
            continue
        if typ == "azure-native:resources:ResourceGroup":
            raise ValueError(
                f"stack {export['stack']!r} creates its resource group: a pipeline stack "
                "uses the one the bootstrap made (airflow-aks:resourceGroup.existing: true)"
            )
        mods.setdefault(typ.split(":")[1])
    return list(mods)


def _first_graph(needs: Sequence[perm.Need]) -> tuple[str, ...]:
    return tuple(sorted({p for n in needs if n.kind == "graph" for p in n.graph[0]}))


def _remainder(
    grants: dict[str, Grant], needs: Sequence[perm.Need], custom: dict[str, CustomRole]
) -> list[perm.Need]:
    ident = perm.Identity(
        [
            perm.HeldRole(_held(g.role, g.role_guid, custom), g.scope, _assignable(g.condition))
            for g in grants.values()
        ]
    )
    return [n for n in needs if n.kind != "graph" and not perm.covered(ident, n)]


def derive_grants(export: Mapping[str, Any]) -> StackGrants:
    """The least grants that cover the stack's plan, for its deploy and preview identities.

    Raises ValueError for a type or invoke the permission model does not know, and when the
    stack would create its own resource group (the bootstrap owns it).
    """
    modules = _modules(export)
    deploy_needs = perm.plan_needs(export, "deploy")
    preview_needs = perm.plan_needs(export, "preview")
    assignable = sorted(
        {n.role_guid for n in deploy_needs if n.role_guid and n.role_guid != "[unknown role]"}
    )
    unknown_roles = [n.who for n in deploy_needs if n.role_guid == "[unknown role]"]
    if unknown_roles:
        raise ValueError(f"{unknown_roles[0]}: roleDefinitionId is not a role definition id")
    custom: dict[str, CustomRole] = {}

    deploy: dict[str, Grant] = {}
    for module in sorted(modules):
        if module in ROLE_BY_MODULE:
            role, why = ROLE_BY_MODULE[module]
            cond = constrain_role_assignments(assignable) if module == "authorization" else None
            deploy.setdefault(role, Grant(role, why, perm.BUILTIN_ROLES[role].guid, cond))
    for n in deploy_needs:
        if n.what in ROLE_BY_LINKED_ACTION:
            role, why = ROLE_BY_LINKED_ACTION[n.what]
            deploy.setdefault(role, Grant(role, why, perm.BUILTIN_ROLES[role].guid))
    if any(n.kind == "dataAction" for n in deploy_needs):
        role = "Azure Kubernetes Service RBAC Cluster Admin"
        why = "kubeconfig and the Kubernetes layer: charts create CRDs, webhooks, RBAC"
        deploy[role] = Grant(role, why, perm.BUILTIN_ROLES[role].guid)
    _fill(deploy, deploy_needs, custom, DEPLOYER, "what no built-in role above covers")

    reader = perm.BUILTIN_ROLES["Reader"].guid
    preview = {"Reader": Grant("Reader", "read every resource (refresh)", reader)}
    if any("listClusterUserCredential" in n.what for n in preview_needs):
        role = "Azure Kubernetes Service Cluster User Role"
        preview[role] = Grant(role, "the kubeconfig", perm.BUILTIN_ROLES[role].guid)
    if any(n.kind == "dataAction" for n in preview_needs):
        custom[PREVIEWER] = CustomRole((), PREVIEW_DATA_ACTIONS, PREVIEW_NOT_DATA_ACTIONS)
        preview[PREVIEWER] = Grant(PREVIEWER, "Kubernetes objects except Secrets, CRDs too", None)
    _fill(preview, preview_needs, custom, PREVIEWER, "")

    graph = {"deploy": _first_graph(deploy_needs), "preview": _first_graph(preview_needs)}
    for who, perms in graph.items():
        missing = [p for p in perms if p not in GRAPH_APP_ROLES]
        if missing:
            raise ValueError(f"{who}: no app role id known for Graph permission(s) {missing}")
    return StackGrants(
        export["stack"],
        tuple(deploy.values()),
        tuple(preview.values()),
        graph,
        tuple(assignable),
        dict(sorted(custom.items())),
    )


def _fill(
    grants: dict[str, Grant],
    needs: Sequence[perm.Need],
    custom: dict[str, CustomRole],
    rg_role: str,
    why: str,
) -> None:
    """Add custom roles holding exactly the actions the grants so far leave uncovered."""
    rest = _remainder(grants, needs, custom)
    for scope, name in (("subscription", SUBSCRIPTION_READER), ("resourceGroup", rg_role)):
        actions = sorted({n.what for n in rest if n.kind == "action" and n.scope == scope})
        data = sorted({n.what for n in rest if n.kind == "dataAction" and n.scope == scope})
        if not (actions or data):
            continue
        if name in custom and custom[name].scope != scope:
            raise ValueError(f"custom role {name!r} needed at two scopes")
        old = custom.get(name, CustomRole(scope=scope))  # type: ignore[arg-type]
        custom[name] = CustomRole(
            tuple(sorted({*old.actions, *actions})),
            tuple(sorted({*old.data_actions, *data})),
            old.not_data_actions,
            scope,  # type: ignore[arg-type]
        )
        label = why or (
            "subscription-scope reads of the preflight" if scope == "subscription" else ""
        )
        grants[name] = Grant(name, label or "remaining reads", None, scope=scope)  # type: ignore[arg-type]


def grants_markdown(grants: Sequence[StackGrants]) -> str:
    """One table of every identity's grants (README)."""
    lines = [
        "| stack | identity | grant | scope | why |",
        "|---|---|---|---|---|",
    ]
    for g in grants:
        for who, items in (("deploy", g.deploy), ("preview", g.preview)):
            for x in items:
                role = x.role + (
                    " (condition: only the roles the stack assigns)" if x.condition else ""
                )
                if x.role in g.custom_roles:
                    c = g.custom_roles[x.role]
                    role += (
                        " (custom: "
                        + ", ".join(
                            [*c.actions, *c.data_actions, *(f"not {a}" for a in c.not_data_actions)]
                        )
                        + ")"
                    )
                lines.append(f"| {g.stack} | {who} | {role} | {x.scope} | {x.why} |")
        for who, perms in g.graph_app_roles.items():
            for p in perms:
                lines.append(
                    f"| {g.stack} | {who} | Microsoft Graph `{p}` | tenant | Entra objects |"
                )
    return "\n".join(lines) + "\n"
