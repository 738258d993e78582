"""Rule metadata and the small helpers every rule module shares.

A rule is metadata (name, why, level, what it mirrors, resource types) plus a *pure*
function over plain camelCase dicts: the same function runs in the offline plan and, via
the adapters in :mod:`.pack`, inside ``pulumi preview --policy-pack policies``.

Plan conventions: a value only the cloud can compute is the string ``"[unknown]"``; a
secret is ``"[secret]"``. Rules treat a missing setting as a violation, and an unknown
only where the value is legitimately cloud-computed (issuer URLs, client ids, ARM ids).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["mandatory", "advisory"]
MANDATORY: Level = "mandatory"
ADVISORY: Level = "advisory"

UNKNOWN = "[unknown]"
SECRET = "[secret]"

# Resource type tokens the rules look at.
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
VAULT = "azure-native:keyvault:Vault"
KV_SECRET = "azure-native:keyvault:Secret"
KV_KEY = "azure-native:keyvault:Key"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
PG_SERVER = "azure-native:dbforpostgresql:Server"
PG_CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
PG_FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
# The sign-in app registration's credential (azuread provider): the same `audiences` input.
APP_FEDERATED_CREDENTIAL = (
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
)
USER_ASSIGNED_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
HELM_CHART_V3 = "kubernetes:helm.sh/v3:Chart"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CUSTOM_RESOURCE = "kubernetes:apiextensions.k8s.io:CustomResource"

HELM_TYPES = (HELM_CHART, HELM_CHART_V3, HELM_RELEASE)
WORKLOAD_TYPES = (POD, DEPLOYMENT, STATEFUL_SET, DAEMON_SET, JOB, CRON_JOB)


@dataclass(frozen=True)
class PolicyException:
    """One reviewed exception from ``policies/exceptions/<stack>.yaml``."""

    rule: str
    urn: str
    reason: str
    expires: _dt.date
    approved_by: str


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the resource: the stack and its exceptions."""

    stack: str = "dev"
    production: bool = False
    urn: str = ""
    name: str = ""
    today: _dt.date = field(default_factory=_dt.date.today)
    exceptions: tuple[PolicyException, ...] = ()


def is_production(stack: str) -> bool:
    """Stacks named ``prod``, ``production`` or ``prod-*`` get the production-only rules."""
    s = stack.lower()
    return s in ("prod", "production") or s.startswith(("prod-", "prod_", "production-"))


ResourceCheck = Callable[[Mapping[str, Any], Context], list[str]]
StackCheck = Callable[[list[dict[str, Any]], Context], list[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """A rule's metadata and its pure check.

    ``types`` are Pulumi type tokens; ``kinds`` lets a rule match Kubernetes custom
    resources by ``kind`` both in the offline plan (``CustomResource`` with a ``kind``
    input) and in a real preview (type ``kubernetes:<group>/<version>:<Kind>``).
    """

    name: str
    description: str
    level: Level
    mirrors: str
    types: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    area: str = ""

    @property
    def kind(self) -> Literal["resource", "stack"]:
        return "stack" if self.stack_check is not None else "resource"

    def applies_to(self, resource_type: str, props: Mapping[str, Any]) -> bool:
        if resource_type in self.types:
            return True
        if not self.kinds:
            return False
        if resource_type == CUSTOM_RESOURCE:
            return props.get("kind") in self.kinds
        return resource_type.startswith("kubernetes:") and resource_type.rsplit(":", 1)[-1] in (
            self.kinds
        )

    def type_label(self) -> str:
        if self.kind == "stack":
            return "stack"
        names = [t.rsplit(":", 1)[-1] for t in self.types] + list(self.kinds)
        return ", ".join(dict.fromkeys(names))


def resource_rule(
    registry: list[Rule],
    *,
    name: str,
    level: Level,
    mirrors: str,
    description: str,
    types: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register a resource rule in ``registry``; the function itself is returned unchanged."""

    def deco(fn: ResourceCheck) -> ResourceCheck:
        area = fn.__module__.rsplit(".", 1)[-1]
        registry.append(
            Rule(name, " ".join(description.split()), level, mirrors, types, kinds, fn, None, area)
        )
        return fn

    return deco


def stack_rule(
    registry: list[Rule], *, name: str, level: Level, mirrors: str, description: str
) -> Callable[[StackCheck], StackCheck]:
    """Register a stack rule (a check over every resource of the stack)."""

    def deco(fn: StackCheck) -> StackCheck:
        area = fn.__module__.rsplit(".", 1)[-1]
        registry.append(
            Rule(name, " ".join(description.split()), level, mirrors, (), (), None, fn, area)
        )
        return fn

    return deco


# ---------------------------------------------------------------------------- helpers


def get(obj: Any, path: str, default: Any = None) -> Any:
    """``get(props, "a.b.c")``: nested lookup through dicts; ``default`` when absent.

    Keys that contain dots (Kubernetes annotations) are looked up with :func:`dig`.
    """
    return dig(obj, *path.split("."), default=default)


def dig(obj: Any, *keys: str | int, default: Any = None) -> Any:
    cur = obj
    for k in keys:
        if isinstance(k, int):
            if isinstance(cur, list | tuple) and -len(cur) <= k < len(cur):
                cur = cur[k]
                continue
            return default
        if isinstance(cur, Mapping) and k in cur:
            cur = cur[k]
        else:
            return default
    return cur


def is_unknown(value: Any) -> bool:
    return value == UNKNOWN


def is_true(value: Any) -> bool:
    """True for a boolean ``True`` or the string ``"true"`` (add-on configs are strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return []


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def show(value: Any) -> str:
    """A value as it should appear in a message (``missing`` for an absent setting)."""
    return "missing" if value is None else repr(value)


def walk(obj: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every ``(path, key, value)`` under a nested dict/list (for Helm values); list
    items come with an empty key."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            p = f"{path}.{k}" if path else str(k)
            yield p, str(k), v
            yield from walk(v, p)
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            p = f"{path}[{i}]"
            yield p, "", v
            yield from walk(v, p)


def depends_on(resource: Mapping[str, Any], urn: str) -> bool:
    """Whether a plan resource depends on ``urn`` (explicitly or through a property)."""
    if urn in as_list(resource.get("dependencies")):
        return True
    prop_deps = as_dict(resource.get("propertyDependencies"))
    return any(urn in as_list(v) for v in prop_deps.values())


def dependency_urns(resource: Mapping[str, Any]) -> set[str]:
    """Every URN a plan resource depends on (explicitly or through a property), as a set:
    for rules that test one resource against many candidates (see :func:`depends_on`)."""
    urns = as_list(resource.get("dependencies"))
    for v in as_dict(resource.get("propertyDependencies")).values():
        urns.extend(as_list(v))
    return {u for u in urns if isinstance(u, str)}
