"""Data-domain rules: a domain's identity holds exactly its declared scope, and every
domain namespace is default-deny in the mesh and in Kubernetes network policy.

A domain is recognised from the plan alone (this pack imports nothing from components/):
its Namespace carries the label ``airflow-aks.io/domain`` and the annotation
``airflow-aks.io/declared-scope`` (JSON: ``secrets`` and ``containers`` name -> read|write,
``logs`` the task-log container); its user-assigned identity carries the Azure tag
``airflow-aks-domain``. Both rules index the resources once and then look each resource up,
so they stay linear in the size of the stack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._core import (
    CUSTOM_RESOURCE,
    FEDERATED_CREDENTIAL,
    MANDATORY,
    NAMESPACE,
    ROLE_ASSIGNMENT,
    UNKNOWN,
    USER_ASSIGNED_IDENTITY,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    stack_rule,
)
from .mesh import KUMA_INJECT, detect_mesh
from .network import NETWORK_POLICY, is_default_deny

RULES: list[Rule] = []

DOMAIN_LABEL = "airflow-aks.io/domain"
SCOPE_ANNOTATION = "airflow-aks.io/declared-scope"
DOMAIN_TAG = "airflow-aks-domain"
LINKERD_DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"

# Built-in role GUIDs a domain grant may carry, by access (Azure built-in roles page).
SECRET_ROLES = {
    "read": {"4633458b-17de-408a-b874-0445c86b69e6"},  # Key Vault Secrets User
    "write": {
        "4633458b-17de-408a-b874-0445c86b69e6",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",  # Key Vault Secrets Officer
    },
}
CONTAINER_ROLES = {
    "read": {"2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"},  # Storage Blob Data Reader
    "write": {
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",  # Storage Blob Data Contributor
    },
}


def _domain_namespaces(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Domain name -> its Namespace resource."""
    out: dict[str, dict[str, Any]] = {}
    for r in resources:
        if r.get("type") == NAMESPACE:
            domain = as_dict(get(r.get("inputs"), "metadata.labels")).get(DOMAIN_LABEL)
            if isinstance(domain, str):
                out.setdefault(domain, r)
    return out


def _declared(namespace: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = as_dict(get(namespace.get("inputs"), "metadata.annotations")).get(SCOPE_ANNOTATION)
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _k8s_name(r: Mapping[str, Any]) -> str:
    name = get(r.get("inputs"), "metadata.name")
    return name if isinstance(name, str) and name != UNKNOWN else str(r.get("name"))


def allowed(scope: str, role_guid: str, declared: Mapping[str, Any]) -> str | None:
    """None when ``(scope, role)`` is within the declared scope, else why not."""
    kind, _, name = scope.rstrip("/").rpartition("/")
    kind = kind.rsplit("/", 1)[-1]
    if kind == "secrets":
        access = as_dict(declared.get("secrets")).get(name)
        if access is None:
            return f"secret {name!r} is not declared by the domain"
        if role_guid not in SECRET_ROLES.get(str(access), set()):
            return f"role {role_guid} on secret {name!r} exceeds declared {access!r} access"
        return None
    if kind == "containers":
        access = as_dict(declared.get("containers")).get(name)
        if access is None and name == declared.get("logs"):
            access = "write"
        if access is None:
            return f"container {name!r} is not declared by the domain"
        if role_guid not in CONTAINER_ROLES.get(str(access), set()):
            return f"role {role_guid} on container {name!r} exceeds declared {access!r} access"
        return None
    return f"scope {scope!r} is neither a declared secret nor a declared container"


@stack_rule(
    RULES,
    name="domain-identity-declared-scope",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege)",
    description="""A data domain's identity holds nothing outside its declared scope: every
    role assignment to it is on one of the secrets or containers its namespace declares
    (airflow-aks.io/declared-scope), with a role no stronger than the declared access, and
    its federated credentials trust only ServiceAccounts of its own namespace. Otherwise one
    team's tasks read another team's secrets.""",
)
def identity_declared_scope(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    namespaces = _domain_namespaces(resources)
    identities: dict[str, str] = {}  # identity urn -> domain
    out: list[tuple[str, str]] = []
    for r in resources:
        if r.get("type") == USER_ASSIGNED_IDENTITY:
            domain = as_dict(get(r.get("inputs"), "tags")).get(DOMAIN_TAG)
            if isinstance(domain, str):
                identities[str(r.get("urn"))] = domain
                if domain not in namespaces:
                    out.append((str(r.get("urn")), f"domain {domain!r} has no namespace"))
    declared = {d: _declared(ns) for d, ns in namespaces.items()}
    for r in resources:
        t = r.get("type")
        if t not in (ROLE_ASSIGNMENT, FEDERATED_CREDENTIAL):
            continue
        deps = as_dict(r.get("propertyDependencies"))
        key = "principalId" if t == ROLE_ASSIGNMENT else "resourceName"
        owners = {identities[u] for u in as_list(deps.get(key)) if u in identities}
        for domain in sorted(owners):
            urn, inputs = str(r.get("urn")), as_dict(r.get("inputs"))
            scope_decl = declared.get(domain)
            if t == FEDERATED_CREDENTIAL:
                subject = str(inputs.get("subject", ""))
                ns = namespaces.get(domain)
                if ns is not None and subject != UNKNOWN:
                    prefix = f"system:serviceaccount:{_k8s_name(ns)}:"
                    if not subject.startswith(prefix):
                        out.append(
                            (urn, f"domain {domain!r}: subject {subject!r} is outside {prefix}*")
                        )
                continue
            if scope_decl is None:
                out.append((urn, f"domain {domain!r}: namespace declares no scope"))
                continue
            scope = inputs.get("scope")
            if scope == UNKNOWN:
                continue  # computed at deploy time: nothing to compare offline
            role = str(inputs.get("roleDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1].lower()
            why = allowed(str(scope), role, scope_decl)
            if why:
                out.append((urn, f"domain {domain!r}: {why}"))
    return out


def _kuma_mesh_denies(resources: list[dict[str, Any]]) -> bool:
    for r in resources:
        props = as_dict(r.get("inputs"))
        if r.get("type") != CUSTOM_RESOURCE and not str(r.get("type", "")).endswith(
            ":MeshTrafficPermission"
        ):
            continue
        if r.get("type") == CUSTOM_RESOURCE and props.get("kind") != "MeshTrafficPermission":
            continue
        spec = as_dict(props.get("spec"))
        if get(spec, "targetRef.kind") != "Mesh":
            continue
        actions = [get(f, "default.action") for f in as_list(spec.get("from"))]
        froms = [get(f, "targetRef.kind") for f in as_list(spec.get("from"))]
        if actions == ["Deny"] and froms == ["Mesh"]:
            return True
    return False


@stack_rule(
    RULES,
    name="domain-namespace-default-deny",
    level=MANDATORY,
    mirrors="NSA/CISA Kubernetes hardening (default-deny network policy)",
    description="""Every data-domain namespace is default-deny twice: a NetworkPolicy
    selecting all pods with Ingress and Egress and no rule (declared paths are separate
    allow policies), and, when the stack installs a mesh, mesh-level deny (Linkerd: the
    namespace's default-inbound-policy is deny; Kuma: the namespace is injected and a
    mesh-wide Deny MeshTrafficPermission exists). One layer alone fails open when the other
    is misconfigured or a pod runs outside the mesh.""",
)
def namespace_default_deny(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    namespaces = _domain_namespaces(resources)
    if not namespaces:
        return []
    denied: set[str] = set()
    for r in resources:
        if r.get("type") == NETWORK_POLICY and is_default_deny(r):
            denied.add(str(get(r.get("inputs"), "metadata.namespace")))
    mesh = detect_mesh(resources)
    kuma_deny = mesh is not None and mesh.kind == "kuma" and _kuma_mesh_denies(resources)
    out: list[tuple[str, str]] = []
    for domain, ns in sorted(namespaces.items()):
        name, urn = _k8s_name(ns), str(ns.get("urn"))
        if name not in denied:
            out.append(
                (urn, f"domain {domain!r}: namespace {name} has no default-deny NetworkPolicy")
            )
        if mesh is None:
            continue
        meta = as_dict(get(ns.get("inputs"), "metadata"))
        if mesh.kind == "linkerd":
            if as_dict(meta.get("annotations")).get(LINKERD_DEFAULT_POLICY) != "deny":
                out.append(
                    (
                        urn,
                        f"domain {domain!r}: namespace {name} lacks {LINKERD_DEFAULT_POLICY}: deny",
                    )
                )
        elif as_dict(meta.get("labels")).get(KUMA_INJECT) != "enabled" or not kuma_deny:
            out.append(
                (urn, f"domain {domain!r}: namespace {name} is not injected under a mesh-wide Deny")
            )
    return out
