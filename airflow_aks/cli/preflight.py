"""``airflow-aks preflight``: the subscription checked against the plan, before ``pulumi up``.

The offline plan says what the program will create; this module asks Azure, with
Microsoft's own SDKs (extra ``airflow-aks[preflight]``) and ``DefaultAzureCredential`` (so
``az login``, OIDC in CI and managed identity all work), whether it can:

========================  ==============================================================
check                     what fails
========================  ==============================================================
resource-providers        a resource provider the plan's types need is not registered
features                  a preview feature a setting needs (EncryptionAtHost) is not on
kubernetes-version        the pinned MAJOR.MINOR is not offered in the region (or only
                          as preview, or not for the cluster's support plan)
vm-sizes                  a pool's VM size is unknown, restricted, or not in its zones
vcpu-quota                a VM family (or the regional / spot total) lacks vCPUs for the
                          pools at their max counts
api-server-access         the caller's public IP is outside authorizedIpRanges
key-vault-name            the vault name is taken, or held by a soft-deleted vault
storage-account-name      the storage account name is taken
role-assignment-rights    the caller cannot write Microsoft.Authorization/roleAssignments
plan-permissions          the caller's effective permissions on the resource group lack an
                          ARM action the plan needs (permission model of delivery/)
========================  ==============================================================

Every check prints PASS or FAIL with the command that fixes it. What to check is decided by
:func:`requirements` over a plan export (pure); each check is one function over the SDK
clients, so tests run them on recorded responses through the SDK's own HTTP transport.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Where a plan's resource types live in ARM: azure-native module -> resource provider.
# (azure-native 3.29 modules used by the program; Microsoft.Compute for the node VMSSs.)
PROVIDERS: dict[str, str] = {
    "containerservice": "Microsoft.ContainerService",
    "dbforpostgresql": "Microsoft.DBforPostgreSQL",
    "keyvault": "Microsoft.KeyVault",
    "kubernetesconfiguration": "Microsoft.KubernetesConfiguration",
    "managedidentity": "Microsoft.ManagedIdentity",
    "monitor": "Microsoft.Insights",
    "insights": "Microsoft.Insights",
    "network": "Microsoft.Network",
    "operationalinsights": "Microsoft.OperationalInsights",
    "privatedns": "Microsoft.Network",
    "storage": "Microsoft.Storage",
}
# AKS node pools are VM scale sets: Microsoft.Compute is needed whenever a cluster is.
CLUSTER_PROVIDERS = ("Microsoft.Compute",)
ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"
DEFAULT_SUPPORT_PLAN = "KubernetesOfficial"
IP_ECHO_URL = "https://api.ipify.org?format=json"
"""Where the caller's public IP is asked when ``--caller-ip`` is not given."""


# ------------------------------------------------------------------ what the plan needs


@dataclass(frozen=True)
class Pool:
    name: str
    vm_size: str
    max_count: int
    zones: tuple[str, ...] = ()
    spot: bool = False


@dataclass
class Requirements:
    """What the subscription must offer for this plan (decided offline, from the export)."""

    stack: str
    location: str = ""
    resource_group: str = ""
    providers: list[str] = field(default_factory=list)
    features: list[tuple[str, str]] = field(default_factory=list)
    kubernetes_version: str = ""
    support_plan: str = DEFAULT_SUPPORT_PLAN
    pools: list[Pool] = field(default_factory=list)
    private_cluster: bool = False
    authorized_ranges: list[str] = field(default_factory=list)
    vault_names: list[str] = field(default_factory=list)
    storage_accounts: list[str] = field(default_factory=list)
    role_assignments: int = 0
    deploy_actions: list[str] = field(default_factory=list)
    """Resource-group ARM actions ``pulumi up`` of this plan needs (delivery/permissions.py)."""


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _pool(p: Mapping[str, Any], name_key: str) -> Pool:
    count = _int(p.get("count"), 1)
    return Pool(
        name=str(p.get(name_key, "?")),
        vm_size=str(p.get("vmSize", "")),
        max_count=_int(p.get("maxCount"), count) if p.get("enableAutoScaling", True) else count,
        zones=tuple(str(z) for z in (p.get("availabilityZones") or [])),
        spot=str(p.get("scaleSetPriority") or "").lower() == "spot",
    )


def requirements(export: Mapping[str, Any]) -> Requirements:
    """Everything preflight checks, read from a plan export (pure, table-tested)."""
    req = Requirements(stack=str(export.get("stack", "")))
    providers: set[str] = set()
    for r in export.get("resources", []):
        typ, inputs = str(r.get("type", "")), r.get("inputs") or {}
        parts = typ.split(":")
        if parts[0] != "azure-native" or len(parts) < 3:
            continue
        if parts[1] in PROVIDERS:
            providers.add(PROVIDERS[parts[1]])
        kind = parts[2]
        if typ == "azure-native:resources:ResourceGroup":
            req.resource_group = str(inputs.get("resourceGroupName", ""))
            req.location = req.location or str(inputs.get("location", ""))
        elif typ == "azure-native:containerservice:ManagedCluster":
            providers.update(CLUSTER_PROVIDERS)
            req.location = str(inputs.get("location") or req.location)
            req.kubernetes_version = str(inputs.get("kubernetesVersion") or "")
            req.support_plan = str(inputs.get("supportPlan") or DEFAULT_SUPPORT_PLAN)
            access = inputs.get("apiServerAccessProfile") or {}
            req.private_cluster = bool(access.get("enablePrivateCluster"))
            req.authorized_ranges = [str(x) for x in access.get("authorizedIPRanges") or []]
            for p in inputs.get("agentPoolProfiles") or []:
                req.pools.append(_pool(p, "name"))
                if p.get("enableEncryptionAtHost"):
                    _add(req.features, ("Microsoft.Compute", "EncryptionAtHost"))
        elif typ == "azure-native:containerservice:AgentPool":
            req.pools.append(_pool(inputs, "agentPoolName"))
            if inputs.get("enableEncryptionAtHost"):
                _add(req.features, ("Microsoft.Compute", "EncryptionAtHost"))
        elif kind == "Vault" and parts[1] == "keyvault" and inputs.get("vaultName"):
            req.vault_names.append(str(inputs["vaultName"]))
        elif typ == "azure-native:storage:StorageAccount" and inputs.get("accountName"):
            req.storage_accounts.append(str(inputs["accountName"]))
        elif typ == "azure-native:authorization:RoleAssignment":
            req.role_assignments += 1
    if not req.resource_group:
        # The group may be made outside the stack (delivery bootstrap): the one its resources name.
        names = [
            str((r.get("inputs") or {}).get("resourceGroupName"))
            for r in export.get("resources", [])
            if str(r.get("type", "")).startswith("azure-native:")
            and isinstance((r.get("inputs") or {}).get("resourceGroupName"), str)
        ]
        req.resource_group = max(set(names), key=names.count) if names else ""
    req.providers = sorted(providers)
    from airflow_aks.delivery import permissions as perm

    try:
        needs = perm.plan_needs(export, "deploy")
    except (ValueError, KeyError):  # a type the model lacks: pipeline --check names it
        needs = []
    req.deploy_actions = sorted(
        {n.what for n in needs if n.kind == "action" and n.scope == "resourceGroup"}
    )
    return req


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)


# ------------------------------------------------------------------ results


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def format_checks(checks: Sequence[Check], header: str) -> str:
    lines = [header]
    width = max((len(c.name) for c in checks), default=0)
    for c in checks:
        lines.append(f"  {'PASS' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.extend(f"        fix: {line}" for line in c.fix.splitlines())
    failed = [c for c in checks if not c.ok]
    if failed:
        lines.append(
            f"FAILED: {len(failed)} of {len(checks)} checks: " + ", ".join(c.name for c in failed)
        )
    else:
        lines.append(f"All {len(checks)} checks passed.")
    return "\n".join(lines)


# ------------------------------------------------------------------ pure decisions


def ip_allowed(ip: str, ranges: Iterable[str]) -> bool:
    """Whether ``ip`` is inside any CIDR of ``ranges`` (bare addresses count as /32)."""
    addr = ipaddress.ip_address(ip)
    for r in ranges:
        try:
            if addr in ipaddress.ip_network(r, strict=False):
                return True
        except ValueError:
            continue
    return False


def action_allowed(action: str, permissions: Iterable[tuple[list[str], list[str]]]) -> bool:
    """Whether any ``(actions, notActions)`` grants ``action`` (Azure RBAC wildcards,
    case-insensitive). Deny assignments and conditions are not seen here."""
    a = action.lower()
    for actions, not_actions in permissions:
        granted = any(fnmatch.fnmatchcase(a, p.lower()) for p in actions)
        if granted and not any(fnmatch.fnmatchcase(a, p.lower()) for p in not_actions):
            return True
    return False


@dataclass(frozen=True)
class VmSku:
    name: str
    family: str
    vcpus: int
    zones: tuple[str, ...]
    restricted: str = ""
    """Why the subscription may not use it in the region at all (empty: it may)."""
    restricted_zones: tuple[str, ...] = ()


def vcpu_demand(pools: Sequence[Pool], skus: Mapping[str, VmSku]) -> dict[str, int]:
    """vCPUs the pools need at max count, by quota name: each VM family, the regional total
    ``cores``, and ``lowPriorityCores`` for spot pools (spot counts there only)."""
    need: dict[str, int] = {}
    for p in pools:
        sku = skus.get(p.vm_size.lower())
        if sku is None:
            continue
        n = sku.vcpus * p.max_count
        keys = ["lowPriorityCores"] if p.spot else [sku.family, "cores"]
        for k in keys:
            need[k] = need.get(k, 0) + n
    return need


def supported_versions(values: Iterable[Mapping[str, Any]], support_plan: str) -> list[str]:
    """GA ``MAJOR.MINOR`` versions offered for ``support_plan``, newest first."""
    out = []
    for v in values:
        plans = (v.get("capabilities") or {}).get("supportPlan") or []
        if v.get("isPreview") or (plans and support_plan not in plans):
            continue
        out.append(str(v.get("version")))

    def key(s: str) -> tuple[int, ...]:
        return tuple(int(x) for x in s.split(".") if x.isdigit())

    return sorted(out, key=key, reverse=True)


# ------------------------------------------------------------------ the Azure side


@dataclass
class Azure:
    """Microsoft's SDK clients for one subscription. ``client_kwargs`` reach every client
    (tests pass ``transport=`` a recorded-response transport)."""

    credential: Any
    subscription_id: str
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    def _client(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    def _new(self, cls: Any) -> Any:
        return cls(self.credential, self.subscription_id, **self.client_kwargs)

    @property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._client("resources", lambda: self._new(ResourceManagementClient))

    @property
    def features(self) -> Any:
        from azure.mgmt.resource.features import FeatureClient

        return self._client("features", lambda: self._new(FeatureClient))

    @property
    def aks(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return self._client("aks", lambda: self._new(ContainerServiceClient))

    @property
    def compute(self) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return self._client("compute", lambda: self._new(ComputeManagementClient))

    @property
    def keyvault(self) -> Any:
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self._client("keyvault", lambda: self._new(KeyVaultManagementClient))

    @property
    def storage(self) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return self._client("storage", lambda: self._new(StorageManagementClient))

    @property
    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._client("authorization", lambda: self._new(AuthorizationManagementClient))

    def caller_object_id(self) -> str:
        """The caller's Entra object id, from the ``oid`` claim of its ARM token."""
        token = self.credential.get_token("https://management.azure.com/.default").token
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("oid", ""))

    def public_ip(self) -> str:
        """The caller's public IP as the internet sees it (an echo service, same transport)."""
        from azure.core import PipelineClient
        from azure.core.rest import HttpRequest

        transport = self.client_kwargs.get("transport")
        kwargs: dict[str, Any] = {"transport": transport} if transport else {}
        with PipelineClient(IP_ECHO_URL, **kwargs) as client:
            resp = client.send_request(HttpRequest("GET", IP_ECHO_URL))
            resp.raise_for_status()
            return str(resp.json()["ip"])


def _s(value: Any) -> str:
    """An SDK enum or string as its wire value (``Reason.ALREADY_EXISTS`` -> ``AlreadyExists``)."""
    return str(getattr(value, "value", value))


def _not_found(exc: Exception) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError)


# ------------------------------------------------------------------ checks


def check_providers(az: Azure, req: Requirements) -> Check:
    missing = []
    for ns in req.providers:
        state = _s(az.resources.providers.get(ns).registration_state)
        if state != "Registered":
            missing.append(f"{ns} ({state})")
    if not missing:
        return Check("resource-providers", True, f"{len(req.providers)} registered")
    names = [m.split(" ")[0] for m in missing]
    return Check(
        "resource-providers",
        False,
        "not registered: " + ", ".join(missing),
        "\n".join(f"az provider register --namespace {n}" for n in names),
    )


def check_features(az: Azure, req: Requirements) -> Check:
    if not req.features:
        return Check("features", True, "no preview feature needed")
    missing = []
    for ns, name in req.features:
        state = _s(az.features.features.get(ns, name).properties.state)
        if state != "Registered":
            missing.append((ns, name, state))
    if not missing:
        names = ", ".join(f"{ns}/{n}" for ns, n in req.features)
        return Check("features", True, f"{names} registered")
    fixes = [
        f"az feature register --namespace {ns} --name {n} && az provider register --namespace {ns}"
        for ns, n, _ in missing
    ]
    return Check(
        "features",
        False,
        "; ".join(f"{ns}/{n} is {s}" for ns, n, s in missing),
        "\n".join(fixes),
    )


def check_kubernetes_version(az: Azure, req: Requirements) -> Check:
    if not req.kubernetes_version:
        return Check("kubernetes-version", True, "no version pinned (AKS default)")
    result = az.aks.managed_clusters.list_kubernetes_versions(req.location)
    # ``values`` is the mapping method on these models; the field is ``values_property``.
    values = [v.as_dict() for v in result.values_property or []]
    offered = supported_versions(values, req.support_plan)
    want = ".".join(req.kubernetes_version.split(".")[:2])
    if want in offered:
        return Check(
            "kubernetes-version",
            True,
            f"{want} offered in {req.location} ({req.support_plan})",
        )
    return Check(
        "kubernetes-version",
        False,
        f"{want} is not offered in {req.location} for {req.support_plan} "
        f"(offered: {', '.join(offered) or 'none'})",
        f"set airflow-aks:aks.kubernetesVersion to one of {', '.join(offered)} in "
        f"Pulumi.{req.stack}.yaml (see: az aks get-versions --location {req.location} -o table)",
    )


def vm_skus(az: Azure, location: str) -> dict[str, VmSku]:
    """The region's virtualMachines SKUs (lower-cased name -> VmSku)."""
    out: dict[str, VmSku] = {}
    for s in az.compute.resource_skus.list(filter=f"location eq '{location}'"):
        if _s(s.resource_type) != "virtualMachines":
            continue
        info = [i for i in s.location_info or [] if str(i.location).lower() == location.lower()]
        zones = tuple(sorted(str(z) for i in info for z in i.zones or []))
        vcpus = next((int(c.value) for c in s.capabilities or [] if c.name == "vCPUs"), 0)
        restricted, restricted_zones = "", []
        for r in s.restrictions or []:
            if _s(r.type) == "Location":
                restricted = _s(r.reason_code or "restricted")
            elif _s(r.type) == "Zone" and r.restriction_info is not None:
                restricted_zones += [str(z) for z in r.restriction_info.zones or []]
        out[str(s.name).lower()] = VmSku(
            str(s.name), str(s.family), vcpus, zones, restricted, tuple(sorted(restricted_zones))
        )
    return out


def check_vm_sizes(req: Requirements, skus: Mapping[str, VmSku]) -> Check:
    problems = []
    for p in req.pools:
        sku = skus.get(p.vm_size.lower())
        if sku is None:
            problems.append(f"pool {p.name}: {p.vm_size} is not offered in {req.location}")
        elif sku.restricted:
            problems.append(f"pool {p.name}: {p.vm_size} is restricted ({sku.restricted})")
        else:
            bad = [z for z in p.zones if z not in sku.zones or z in sku.restricted_zones]
            if bad:
                problems.append(f"pool {p.name}: {p.vm_size} is not available in zone(s) {bad}")
    if not problems:
        sizes = sorted({p.vm_size for p in req.pools})
        return Check("vm-sizes", True, f"{', '.join(sizes)} available in {req.location}")
    return Check(
        "vm-sizes",
        False,
        "; ".join(problems),
        f"pick sizes/zones offered to the subscription: az vm list-skus --location "
        f"{req.location} --resource-type virtualMachines --output table; then set "
        f"airflow-aks:aks.<pool>.vmSize / zones in Pulumi.{req.stack}.yaml",
    )


def check_quota(az: Azure, req: Requirements, skus: Mapping[str, VmSku]) -> Check:
    need = vcpu_demand(req.pools, skus)
    usage = {
        str(u.name.value): (int(u.current_value), int(u.limit))
        for u in az.compute.usage.list(req.location)
    }
    short, fine, fixes = [], [], []
    scope = (
        f"/subscriptions/{az.subscription_id}/providers/Microsoft.Compute/locations/{req.location}"
    )
    for quota, n in sorted(need.items()):
        current, limit = usage.get(quota, (0, 0))
        if current + n > limit:
            short.append(f"{quota}: needs {n} vCPUs, {limit - current} free ({current}/{limit})")
            # `az quota` (Azure CLI quota extension, learn.microsoft.com/cli/azure/quota, 2026-12)
            fixes.append(
                f"az quota update --resource-name {quota} --scope {scope} "
                f"--limit-object value={current + n}"
            )
        else:
            fine.append(f"{quota}: {n} needed, {limit - current} free")
    if not short:
        return Check("vcpu-quota", True, "; ".join(fine) or "no pool to size")
    return Check(
        "vcpu-quota",
        False,
        "; ".join(short),
        "\n".join([*fixes, "or lower the pools' maxCount in Pulumi." + req.stack + ".yaml"]),
    )


def check_api_server_access(az: Azure, req: Requirements, caller_ip: str | None) -> Check:
    if req.private_cluster:
        return Check("api-server-access", True, "private cluster: deploy from inside the VNet")
    if not req.authorized_ranges:
        return Check("api-server-access", True, "API server open to all (no authorizedIpRanges)")
    try:
        ip = caller_ip or az.public_ip()
    except Exception as exc:
        return Check(
            "api-server-access",
            False,
            f"could not learn the caller's public IP ({type(exc).__name__})",
            "pass it: airflow-aks preflight --caller-ip <your egress IP>",
        )
    if ip_allowed(ip, req.authorized_ranges):
        return Check("api-server-access", True, f"caller {ip} inside authorizedIpRanges")
    return Check(
        "api-server-access",
        False,
        f"caller {ip} is outside authorizedIpRanges {req.authorized_ranges}: the Kubernetes "
        "provider could not reach the API server",
        f"add {ip}/32 to airflow-aks:aks.authorizedIpRanges in Pulumi.{req.stack}.yaml "
        "(or deploy from an allowed network / set aks.privateCluster)",
    )


def check_vault_names(az: Azure, req: Requirements) -> Check:
    from azure.mgmt.keyvault.models import VaultCheckNameAvailabilityParameters

    problems, fixes, ok = [], [], []
    for name in req.vault_names:
        result = az.keyvault.vaults.check_name_availability(
            VaultCheckNameAvailabilityParameters(name=name)
        )
        if result.name_available:
            ok.append(f"{name} free")
            continue
        if _exists(lambda n=name: az.keyvault.vaults.get(req.resource_group, n)):
            ok.append(f"{name} exists in {req.resource_group} (this stack's)")
            continue
        deleted = _exists(lambda n=name: az.keyvault.vaults.get_deleted(n, req.location))
        if deleted:
            problems.append(f"{name} is held by a soft-deleted vault in {req.location}")
            fixes.append(
                f"az keyvault recover --name {name}   # reuse it (then import it)\n"
                f"az keyvault purge --name {name} --location {req.location}   "
                "# or free the name (impossible while purge protection lasts)"
            )
        else:
            problems.append(f"{name} is taken ({_s(result.reason)}): vault names are global")
            fixes.append(f"change airflow-aks:namePrefix in Pulumi.{req.stack}.yaml")
    if not problems:
        return Check("key-vault-name", True, "; ".join(ok) or "no vault")
    return Check("key-vault-name", False, "; ".join(problems), "\n".join(fixes))


def check_storage_names(az: Azure, req: Requirements) -> Check:
    from azure.mgmt.storage.models import StorageAccountCheckNameAvailabilityParameters

    problems, ok = [], []
    for name in req.storage_accounts:
        result = az.storage.storage_accounts.check_name_availability(
            StorageAccountCheckNameAvailabilityParameters(name=name)
        )
        if result.name_available:
            ok.append(f"{name} free")
        elif _exists(
            lambda n=name: az.storage.storage_accounts.get_properties(req.resource_group, n)
        ):
            ok.append(f"{name} exists in {req.resource_group} (this stack's)")
        else:
            problems.append(f"{name} is not available ({_s(result.reason)}: {result.message})")
    if not problems:
        return Check("storage-account-name", True, "; ".join(ok) or "no storage account")
    return Check(
        "storage-account-name",
        False,
        "; ".join(problems),
        f"change airflow-aks:namePrefix in Pulumi.{req.stack}.yaml (storage names are global)",
    )


def _exists(get: Callable[[], Any]) -> bool:
    try:
        get()
    except Exception as exc:
        if _not_found(exc):
            return False
        raise
    return True


def check_role_assignment_rights(az: Azure, req: Requirements) -> Check:
    """The caller's effective permissions on the resource group when it exists (groups
    included); otherwise the roles assigned to the caller directly, at or above it."""
    if not req.role_assignments:
        return Check("role-assignment-rights", True, "the plan creates no role assignment")
    rg = req.resource_group
    scope = f"/subscriptions/{az.subscription_id}/resourceGroups/{rg}"
    auth = az.authorization
    how = ""
    if az.resources.resource_groups.check_existence(rg):
        perms = [
            (list(p.actions or []), list(p.not_actions or []))
            for p in auth.permissions.list_for_resource_group(rg)
        ]
        how = f"effective permissions on {rg}"
    else:
        oid = az.caller_object_id()
        perms = []
        for a in auth.role_assignments.list_for_subscription(filter=f"principalId eq '{oid}'"):
            if not _covers(str(a.scope), scope):
                continue
            role = auth.role_definitions.get_by_id(a.role_definition_id)
            perms += [(list(p.actions or []), list(p.not_actions or [])) for p in role.permissions]
        how = f"roles assigned to the caller at or above {scope} (groups not expanded)"
    if action_allowed(ROLE_ASSIGNMENT_WRITE, perms):
        return Check(
            "role-assignment-rights",
            True,
            f"may write the plan's {req.role_assignments} role assignments ({how})",
        )
    return Check(
        "role-assignment-rights",
        False,
        f"the caller may not {ROLE_ASSIGNMENT_WRITE} ({how}); the plan creates "
        f"{req.role_assignments} role assignments",
        "have an Owner grant the deployer 'Role Based Access Control Administrator' "
        "(or User Access Administrator) on the resource group or subscription:\n"
        "az role assignment create --assignee <deployer object id> --role "
        f"'Role Based Access Control Administrator' --scope /subscriptions/{az.subscription_id}",
    )


def check_plan_permissions(az: Azure, req: Requirements) -> Check:
    """Every resource-group ARM action the plan needs (linked actions included) against the
    caller's effective permissions on the group (Azure's wildcard matching)."""
    from airflow_aks.delivery.permissions import matches

    rg = req.resource_group
    if not req.deploy_actions:
        return Check("plan-permissions", True, "the plan needs no resource-group action")
    if not az.resources.resource_groups.check_existence(rg):
        return Check(
            "plan-permissions",
            True,
            f"{rg} does not exist yet: the bootstrap creates it with the grants "
            "`airflow-aks pipeline --check` proved offline",
        )
    perms = [
        (list(p.actions or []), list(p.not_actions or []))
        for p in az.authorization.permissions.list_for_resource_group(rg)
    ]

    def allowed(action: str) -> bool:
        return any(
            any(matches(a, action) for a in acts) and not any(matches(n, action) for n in nots)
            for acts, nots in perms
        )

    missing = [a for a in req.deploy_actions if not allowed(a)]
    if not missing:
        return Check(
            "plan-permissions",
            True,
            f"effective permissions on {rg} cover the plan's {len(req.deploy_actions)} actions",
        )
    return Check(
        "plan-permissions",
        False,
        f"the caller lacks {len(missing)} action(s) the plan needs on {rg}: "
        + ", ".join(missing[:8])
        + (" …" if len(missing) > 8 else ""),
        "deploy with the stage's deploy identity (delivery/: `pulumi -C delivery up`), or "
        f"grant the roles of delivery/grants/{req.stack}.json",
    )


def _covers(assignment_scope: str, scope: str) -> bool:
    a, s = assignment_scope.lower().rstrip("/"), scope.lower()
    return a in ("", "/") or s == a or s.startswith(a + "/") or "managementgroups" in a


CHECKS = (
    "resource-providers",
    "features",
    "kubernetes-version",
    "vm-sizes",
    "vcpu-quota",
    "api-server-access",
    "key-vault-name",
    "storage-account-name",
    "role-assignment-rights",
    "plan-permissions",
)


def run_checks(az: Azure, req: Requirements, *, caller_ip: str | None = None) -> list[Check]:
    """Every check, in :data:`CHECKS` order; an Azure error fails that check, not the run."""
    skus: dict[str, VmSku] | None = None

    def sku_table() -> dict[str, VmSku]:
        nonlocal skus
        if skus is None:
            skus = vm_skus(az, req.location)
        return skus

    steps: list[tuple[str, Callable[[], Check]]] = [
        ("resource-providers", lambda: check_providers(az, req)),
        ("features", lambda: check_features(az, req)),
        ("kubernetes-version", lambda: check_kubernetes_version(az, req)),
        ("vm-sizes", lambda: check_vm_sizes(req, sku_table())),
        ("vcpu-quota", lambda: check_quota(az, req, sku_table())),
        ("api-server-access", lambda: check_api_server_access(az, req, caller_ip)),
        ("key-vault-name", lambda: check_vault_names(az, req)),
        ("storage-account-name", lambda: check_storage_names(az, req)),
        ("role-assignment-rights", lambda: check_role_assignment_rights(az, req)),
        ("plan-permissions", lambda: check_plan_permissions(az, req)),
    ]
    out = []
    for name, step in steps:
        try:
            out.append(step())
        except Exception as exc:
            out.append(_azure_error(name, exc))
    return out


def _azure_error(name: str, exc: Exception) -> Check:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    if isinstance(exc, ClientAuthenticationError):
        return Check(name, False, f"not signed in: {str(exc).splitlines()[0]}", "az login")
    if isinstance(exc, HttpResponseError) and exc.status_code == 403:
        return Check(
            name,
            False,
            f"the caller may not read this ({exc.reason})",
            "grant the deployer Reader on the subscription",
        )
    return Check(name, False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")


# ------------------------------------------------------------------ CLI


def subscription_id(explicit: str | None, raw_config: Mapping[str, Any]) -> str | None:
    """``--subscription``, else ``AZURE_SUBSCRIPTION_ID``, else the stack file's
    ``azure-native:subscriptionId``."""
    return (
        explicit
        or os.environ.get("AZURE_SUBSCRIPTION_ID")
        or (
            str(raw_config["azure-native:subscriptionId"])
            if raw_config.get("azure-native:subscriptionId")
            else None
        )
    )


def add_parser(sub: Any) -> Any:
    p = sub.add_parser(
        "preflight",
        help="check the subscription against the plan (Azure credentials, read-only)",
    )
    p.add_argument("--stack", required=True)
    p.add_argument("--config", help="stack file (default: Pulumi.<stack>.yaml)")
    p.add_argument("--subscription", help="subscription id (default: $AZURE_SUBSCRIPTION_ID)")
    p.add_argument("--caller-ip", help="the deployer's public IP (default: asked online)")
    return p


def command(args: Any, *, azure: Azure | None = None) -> int:
    """``airflow-aks preflight``: plan offline, then check the subscription (exit 1 on a
    failed check, 2 on bad configuration or a missing SDK)."""
    import sys

    from airflow_aks.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, load_stack
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

    loaded = load_stack(args.stack, args.config)
    if loaded is None:
        return EXIT_CONFIG
    _, raw, _ = loaded
    if azure is None:
        sub = subscription_id(args.subscription, raw)
        if not sub:
            print(
                "error: no subscription: pass --subscription, set AZURE_SUBSCRIPTION_ID, or "
                "`pulumi config set azure-native:subscriptionId <id>`",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            print(
                "error: preflight needs Microsoft's SDKs: pip install 'airflow-aks[preflight]'",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        azure = Azure(DefaultAzureCredential(), sub)
    try:
        export = plan.run(program.main, stack=args.stack, config=raw).export()
    except Exception as exc:
        print(f"error: the program failed under the mock engine: {exc}", file=sys.stderr)
        return EXIT_FAIL
    req = requirements(export)
    checks = run_checks(azure, req, caller_ip=args.caller_ip)
    header = (
        f"Preflight of stack '{args.stack}' against subscription {azure.subscription_id} "
        f"({req.location}):"
    )
    print(format_checks(checks, header))
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL
