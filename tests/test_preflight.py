"""Preflight: each check passing and failing, on recorded ARM responses.

No network: every SDK client gets a real ``azure.core`` ``RequestsTransport`` whose requests
session is mounted on :class:`Recorded`, which answers from the routes below (ARM REST
shapes; values are test data, the version list modelled on AKS's calendar as of 2026-12).
Unknown requests fail the test.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import time
import urllib.parse
from typing import Any

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport

from airflow_aks.cli import main as cli
from airflow_aks.cli import preflight
from airflow_aks.cli.preflight import Azure, Pool, Requirements, VmSku
from tests.conftest import plan_export

SUB = "00000000-0000-0000-0000-000000000001"
OID = "11111111-2222-3333-4444-555555555555"
RG = "rg-airflow-dev-weu"
S = f"/subscriptions/{SUB}"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
# Built-in role permissions as Microsoft documents them (Azure built-in roles page).
ROLE_PERMISSIONS = {
    OWNER: [{"actions": ["*"], "notActions": []}],
    CONTRIBUTOR: [
        {
            "actions": ["*"],
            "notActions": [
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
            ],
        }
    ],
}


class Credential:
    """A TokenCredential whose token carries the caller's object id (like Entra's)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        claims = base64.urlsafe_b64encode(json.dumps({"oid": OID}).encode()).decode().rstrip("=")
        return AccessToken(f"e30.{claims}.sig", int(time.time()) + 3600)


class Recorded(requests.adapters.HTTPAdapter):
    """A requests adapter answering from ``routes``: ``(METHOD, lower-case path) ->
    (status, body)``; ``body`` may be a function of the query string."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        super().__init__()
        self.routes = {(m, p.lower().rstrip("/") or "/"): v for (m, p), v in routes.items()}
        self.seen: list[str] = []
        self.unmatched: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        url = urllib.parse.urlsplit(request.url)
        key = (request.method, urllib.parse.unquote(url.path).lower().rstrip("/") or "/")
        self.seen.append(f"{request.method} {url.path}")
        if key not in self.routes:
            self.unmatched.append(f"{request.method} {request.url}")
            status, body = 599, {"error": {"code": "NotRecorded", "message": request.url}}
        else:
            status, body = self.routes[key]
            if callable(body):
                body = body(urllib.parse.parse_qs(url.query), request)
        content = b"" if body is None else json.dumps(body).encode()
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(content),
            headers={"Content-Type": "application/json", "Content-Length": str(len(content))},
            status=status,
            reason="recorded",
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)  # requests' own conversion


def azure(routes: dict[tuple[str, str], Any]) -> tuple[Azure, Recorded]:
    adapter = Recorded(routes)
    session = requests.Session()
    session.mount("https://", adapter)
    transport = RequestsTransport(session=session, session_owner=False)
    return Azure(Credential(), SUB, {"transport": transport}), adapter


def not_found(code: str = "ResourceNotFound") -> tuple[int, Any]:
    return 404, {"error": {"code": code, "message": "not found"}}


def sku(name: str, family: str, vcpus: int, zones=("1", "2", "3"), restrictions=()) -> dict:
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "family": family,
        "locations": ["westeurope"],
        "locationInfo": [{"location": "westeurope", "zones": list(zones)}],
        "capabilities": [{"name": "vCPUs", "value": str(vcpus)}],
        "restrictions": list(restrictions),
    }


def usage(name: str, current: int, limit: int) -> dict:
    return {"unit": "Count", "currentValue": current, "limit": limit, "name": {"value": name}}


def version(v: str, plans=("KubernetesOfficial", "AKSLongTermSupport"), preview=False) -> dict:
    return {
        "version": v,
        "isPreview": preview,
        "capabilities": {"supportPlan": list(plans)},
        "patchVersions": {f"{v}.2": {"upgrades": []}},
    }


def healthy_routes() -> dict[tuple[str, str], Any]:
    """A subscription where the dev plan (pinned to an offered version) passes everything."""
    routes: dict[tuple[str, str], Any] = {}
    for ns in preflight.requirements(plan_export("dev")).providers:
        routes[("GET", f"{S}/providers/{ns}")] = (
            200,
            {"id": f"{S}/providers/{ns}", "namespace": ns, "registrationState": "Registered"},
        )
    routes[
        (
            "GET",
            f"{S}/providers/Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost",
        )
    ] = (
        200,
        {"name": "Microsoft.Compute/EncryptionAtHost", "properties": {"state": "Registered"}},
    )
    routes[
        ("GET", f"{S}/providers/Microsoft.ContainerService/locations/westeurope/kubernetesVersions")
    ] = (
        200,
        {
            "values": [
                version("1.37"),
                version("1.36"),
                version("1.35"),
                version("1.33", plans=("AKSLongTermSupport",)),
                version("1.38", preview=True),
            ]
        },
    )
    routes[("GET", f"{S}/providers/Microsoft.Compute/skus")] = (
        200,
        {
            "value": [
                sku("Standard_D2ds_v5", "standardDDSv5Family", 2),
                sku("Standard_D4ds_v5", "standardDDSv5Family", 4),
                {"resourceType": "disks", "name": "Premium_LRS"},
            ]
        },
    )
    routes[("GET", f"{S}/providers/Microsoft.Compute/locations/westeurope/usages")] = (
        200,
        {
            "value": [
                usage("cores", 10, 100),
                usage("standardDDSv5Family", 8, 50),
                usage("lowPriorityCores", 0, 100),
            ]
        },
    )
    routes[("POST", f"{S}/providers/Microsoft.KeyVault/checkNameAvailability")] = (
        200,
        {"nameAvailable": True},
    )
    routes[("POST", f"{S}/providers/Microsoft.Storage/checkNameAvailability")] = (
        200,
        {"nameAvailable": True},
    )
    routes[("HEAD", f"{S}/resourcegroups/{RG}")] = (204, None)
    routes[("GET", f"{S}/resourcegroups/{RG}/providers/Microsoft.Authorization/permissions")] = (
        200,
        {"value": ROLE_PERMISSIONS[OWNER]},
    )
    routes[("GET", "/")] = (200, {"ip": "203.0.113.7"})  # the IP echo service
    return routes


def _names() -> tuple[str, str]:
    req = preflight.requirements(plan_export("dev"))
    return req.vault_names[0], req.storage_accounts[0]


VAULT, ACCOUNT = _names()  # whatever names the dev plan derives


def dev_requirements(**changes: Any) -> Requirements:
    req = copy.deepcopy(preflight.requirements(plan_export("dev")))
    req.kubernetes_version = "1.35"  # whatever the shipped stack pins: see the CLI test
    for k, v in changes.items():
        setattr(req, k, v)
    return req


def by_name(checks: list[preflight.Check]) -> dict[str, preflight.Check]:
    return {c.name: c for c in checks}


# ------------------------------------------------------------------ requirements (pure)


def test_requirements_read_from_the_dev_plan():
    req = preflight.requirements(plan_export("dev"))
    assert req.location == "westeurope" and req.resource_group == RG
    assert {"Microsoft.ContainerService", "Microsoft.KubernetesConfiguration"} <= set(req.providers)
    assert {"Microsoft.Compute", "Microsoft.KeyVault", "Microsoft.DBforPostgreSQL"} <= set(
        req.providers
    )
    assert req.features == [("Microsoft.Compute", "EncryptionAtHost")]
    [cluster] = [
        r for r in plan_export("dev")["resources"] if r["type"].endswith(":ManagedCluster")
    ]
    assert req.kubernetes_version == cluster["inputs"]["kubernetesVersion"]
    assert req.support_plan == "KubernetesOfficial"
    assert Pool("tasks", "Standard_D4ds_v5", 5, (), True) in req.pools
    assert Pool("system", "Standard_D4ds_v5", 2) in req.pools
    assert req.authorized_ranges == ["203.0.113.0/24"] and not req.private_cluster
    inputs = {r["type"]: r["inputs"] for r in plan_export("dev")["resources"]}
    assert req.vault_names == [inputs["azure-native:keyvault:Vault"]["vaultName"]]
    assert req.storage_accounts == [inputs["azure-native:storage:StorageAccount"]["accountName"]]
    assert req.role_assignments > 0


@pytest.mark.parametrize(
    ("ip", "ranges", "ok"),
    [
        ("203.0.113.7", ["203.0.113.0/24"], True),
        ("203.0.114.7", ["203.0.113.0/24"], False),
        ("198.51.100.1", ["198.51.100.1"], True),
        ("198.51.100.1", ["not-a-cidr", "198.51.100.0/31"], True),
    ],
)
def test_ip_allowed(ip, ranges, ok):
    assert preflight.ip_allowed(ip, ranges) is ok


@pytest.mark.parametrize(
    ("role", "ok"),
    [
        (OWNER, True),
        (CONTRIBUTOR, False),
        ("uaa", True),
    ],
)
def test_action_allowed(role, ok):
    perms = {
        **ROLE_PERMISSIONS,
        "uaa": [{"actions": ["*/read", "Microsoft.Authorization/*"], "notActions": []}],
    }[role]
    pairs = [(p["actions"], p["notActions"]) for p in perms]
    assert preflight.action_allowed(preflight.ROLE_ASSIGNMENT_WRITE, pairs) is ok


def test_vcpu_demand_counts_max_counts_by_family_and_spot_separately():
    skus = {"standard_d4ds_v5": VmSku("Standard_D4ds_v5", "standardDDSv5Family", 4, ())}
    pools = [Pool("a", "Standard_D4ds_v5", 3), Pool("t", "Standard_D4ds_v5", 5, spot=True)]
    assert preflight.vcpu_demand(pools, skus) == {
        "standardDDSv5Family": 12,
        "cores": 12,
        "lowPriorityCores": 20,
    }


# ------------------------------------------------------------------ every check passing


def test_every_check_passes_on_a_healthy_subscription():
    az, rec = azure(healthy_routes())
    checks = preflight.run_checks(az, dev_requirements())
    assert rec.unmatched == []
    assert [c.name for c in checks] == list(preflight.CHECKS)
    failed = [(c.name, c.detail) for c in checks if not c.ok]
    assert failed == []
    got = by_name(checks)
    assert "1.35 offered in westeurope" in got["kubernetes-version"].detail
    assert "caller 203.0.113.7 inside" in got["api-server-access"].detail
    assert "standardDDSv5Family: 20 needed, 42 free" in got["vcpu-quota"].detail
    assert "effective permissions on rg-airflow-dev-weu" in got["role-assignment-rights"].detail


# ------------------------------------------------------------------ each check failing


def run_one(routes: dict, req: Requirements, name: str, **kw: Any) -> preflight.Check:
    az, rec = azure(routes)
    check = by_name(preflight.run_checks(az, req, **kw))[name]
    assert not [u for u in rec.unmatched if "ipify" not in u], rec.unmatched
    return check


def test_unregistered_provider_fails_with_register_command():
    routes = healthy_routes()
    routes[("GET", f"{S}/providers/Microsoft.KubernetesConfiguration")] = (
        200,
        {"namespace": "Microsoft.KubernetesConfiguration", "registrationState": "NotRegistered"},
    )
    c = run_one(routes, dev_requirements(), "resource-providers")
    assert not c.ok and "Microsoft.KubernetesConfiguration (NotRegistered)" in c.detail
    assert c.fix == "az provider register --namespace Microsoft.KubernetesConfiguration"


def test_unregistered_feature_fails_with_register_command():
    routes = healthy_routes()
    routes[
        (
            "GET",
            f"{S}/providers/Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost",
        )
    ] = (
        200,
        {"name": "Microsoft.Compute/EncryptionAtHost", "properties": {"state": "NotRegistered"}},
    )
    c = run_one(routes, dev_requirements(), "features")
    assert not c.ok and "EncryptionAtHost is NotRegistered" in c.detail
    assert "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in c.fix


@pytest.mark.parametrize(
    ("pinned", "plan", "ok"),
    [
        ("1.35", "KubernetesOfficial", True),
        ("1.33", "KubernetesOfficial", False),  # LTS only
        ("1.33", "AKSLongTermSupport", True),
        ("1.38", "KubernetesOfficial", False),  # preview only
        ("1.30", "KubernetesOfficial", False),  # gone
    ],
)
def test_kubernetes_version_offered(pinned, plan, ok):
    req = dev_requirements(kubernetes_version=pinned, support_plan=plan)
    c = run_one(healthy_routes(), req, "kubernetes-version")
    assert c.ok is ok, c.detail
    if not ok:
        assert "1.37, 1.36, 1.35" in c.detail and "airflow-aks:aks.kubernetesVersion" in c.fix


def test_vm_size_restricted_or_missing_zone_fails():
    routes = healthy_routes()
    routes[("GET", f"{S}/providers/Microsoft.Compute/skus")] = (
        200,
        {
            "value": [
                sku(
                    "Standard_D4ds_v5",
                    "standardDDSv5Family",
                    4,
                    restrictions=[
                        {
                            "type": "Location",
                            "values": ["westeurope"],
                            "reasonCode": "NotAvailableForSubscription",
                        }
                    ],
                ),
                sku("Standard_D2ds_v5", "standardDDSv5Family", 2, zones=("1", "2")),
            ]
        },
    )
    req = dev_requirements()
    req.pools.append(Pool("zonal", "Standard_D2ds_v5", 1, ("1", "3")))
    req.pools.append(Pool("gpu", "Standard_NC4as_T4_v3", 1))
    c = run_one(routes, req, "vm-sizes")
    assert not c.ok
    assert "pool system: Standard_D4ds_v5 is restricted (NotAvailableForSubscription)" in c.detail
    assert "pool zonal: Standard_D2ds_v5 is not available in zone(s) ['3']" in c.detail
    assert "pool gpu: Standard_NC4as_T4_v3 is not offered in westeurope" in c.detail
    assert "az vm list-skus --location westeurope" in c.fix


def test_quota_short_for_max_counts_fails_naming_the_family():
    routes = healthy_routes()
    routes[("GET", f"{S}/providers/Microsoft.Compute/locations/westeurope/usages")] = (
        200,
        {
            "value": [
                usage("cores", 10, 100),
                usage("standardDDSv5Family", 40, 50),  # 10 free, the pools need 20
                usage("lowPriorityCores", 0, 10),  # spot pool needs 20
            ]
        },
    )
    c = run_one(routes, dev_requirements(), "vcpu-quota")
    assert not c.ok
    assert "standardDDSv5Family: needs 20 vCPUs, 10 free (40/50)" in c.detail
    assert "lowPriorityCores: needs 20 vCPUs, 10 free (0/10)" in c.detail
    assert "az quota update --resource-name lowPriorityCores --scope " in c.fix
    assert "--limit-object value=20" in c.fix and "maxCount" in c.fix


def test_caller_outside_authorized_ranges_fails_and_private_cluster_passes():
    routes = healthy_routes()
    routes[("GET", "/")] = (200, {"ip": "198.51.100.23"})
    c = run_one(routes, dev_requirements(), "api-server-access")
    assert not c.ok and "198.51.100.23 is outside authorizedIpRanges" in c.detail
    assert "add 198.51.100.23/32 to airflow-aks:aks.authorizedIpRanges" in c.fix
    given = run_one(healthy_routes(), dev_requirements(), "api-server-access", caller_ip="10.1.1.1")
    assert not given.ok and "10.1.1.1" in given.detail
    private = run_one(routes, dev_requirements(private_cluster=True), "api-server-access")
    assert private.ok and "private cluster" in private.detail


def test_vault_name_soft_deleted_or_taken_fails():
    routes = healthy_routes()
    taken = {"nameAvailable": False, "reason": "AlreadyExists", "message": "taken"}
    routes[("POST", f"{S}/providers/Microsoft.KeyVault/checkNameAvailability")] = (200, taken)
    vault = f"{S}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}"
    deleted = f"{S}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/{VAULT}"
    routes[("GET", vault)] = not_found()
    routes[("GET", deleted)] = (
        200,
        {
            "id": deleted,
            "name": VAULT,
            "properties": {"location": "westeurope", "purgeProtectionEnabled": True},
        },
    )
    c = run_one(routes, dev_requirements(), "key-vault-name")
    assert not c.ok and "held by a soft-deleted vault" in c.detail
    assert f"az keyvault recover --name {VAULT}" in c.fix
    assert f"az keyvault purge --name {VAULT} --location westeurope" in c.fix

    routes[("GET", deleted)] = not_found()
    c = run_one(routes, dev_requirements(), "key-vault-name")
    assert not c.ok and "is taken (AlreadyExists)" in c.detail and "namePrefix" in c.fix

    routes[("GET", vault)] = (200, {"id": vault, "name": VAULT})
    c = run_one(routes, dev_requirements(), "key-vault-name")
    assert c.ok and "(this stack's)" in c.detail


def test_storage_name_taken_fails():
    routes = healthy_routes()
    routes[("POST", f"{S}/providers/Microsoft.Storage/checkNameAvailability")] = (
        200,
        {"nameAvailable": False, "reason": "AlreadyExists", "message": "The name is taken."},
    )
    account = f"{S}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    routes[("GET", account)] = not_found()
    c = run_one(routes, dev_requirements(), "storage-account-name")
    assert not c.ok and f"{ACCOUNT} is not available (AlreadyExists" in c.detail
    assert "namePrefix" in c.fix


def test_role_assignment_rights_missing_fails_with_grant_command():
    routes = healthy_routes()
    routes[("GET", f"{S}/resourcegroups/{RG}/providers/Microsoft.Authorization/permissions")] = (
        200,
        {"value": ROLE_PERMISSIONS[CONTRIBUTOR]},
    )
    c = run_one(routes, dev_requirements(), "role-assignment-rights")
    assert not c.ok and preflight.ROLE_ASSIGNMENT_WRITE in c.detail
    assert "az role assignment create" in c.fix


@pytest.mark.parametrize(("role", "ok"), [(OWNER, True), (CONTRIBUTOR, False)])
def test_role_rights_from_the_callers_assignments_before_the_group_exists(role, ok):
    routes = healthy_routes()
    routes[("HEAD", f"{S}/resourcegroups/{RG}")] = not_found("ResourceGroupNotFound")
    role_id = f"{S}/providers/Microsoft.Authorization/roleDefinitions/{role}"

    def assignments(query, request):
        assert query["$filter"] == [f"principalId eq '{OID}'"]
        return {
            "value": [
                {
                    "id": f"{S}/providers/Microsoft.Authorization/roleAssignments/a1",
                    "name": "a1",
                    "properties": {"roleDefinitionId": role_id, "principalId": OID, "scope": S},
                },
                {  # elsewhere in the subscription: does not cover the new group
                    "id": f"{S}/resourceGroups/other/providers/Microsoft.Authorization/roleAssignments/a2",  # noqa: E501
                    "name": "a2",
                    "properties": {
                        "roleDefinitionId": f"{S}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",  # noqa: E501
                        "principalId": OID,
                        "scope": f"{S}/resourceGroups/other",
                    },
                },
            ]
        }

    routes[("GET", f"{S}/providers/Microsoft.Authorization/roleAssignments")] = (200, assignments)
    routes[("GET", role_id)] = (
        200,
        {"id": role_id, "properties": {"roleName": role, "permissions": ROLE_PERMISSIONS[role]}},
    )
    c = run_one(routes, dev_requirements(), "role-assignment-rights")
    assert c.ok is ok, c.detail
    assert "roles assigned to the caller" in c.detail


def test_not_signed_in_fails_every_check_with_az_login():
    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            from azure.core.exceptions import ClientAuthenticationError

            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    az, _ = azure(healthy_routes())
    az.credential = NoCredential()
    checks = preflight.run_checks(az, dev_requirements(), caller_ip="203.0.113.7")
    failed = [c for c in checks if not c.ok]
    assert failed and all(c.fix == "az login" for c in failed)


# ------------------------------------------------------------------ the command


def test_preflight_command_exits_1_naming_each_failed_check_and_fix(capsys):
    routes = healthy_routes()
    routes[("POST", f"{S}/providers/Microsoft.Storage/checkNameAvailability")] = (
        200,
        {"nameAvailable": False, "reason": "AlreadyExists", "message": "The name is taken."},
    )
    account = f"{S}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    routes[("GET", account)] = not_found()
    # A region that no longer offers the plan's minor (AKS retires minors every few months).
    pinned = preflight.requirements(plan_export("dev")).kubernetes_version
    offered = [v for v in ("1.38", "1.37", "1.36", "1.35") if v != pinned][:3]
    versions = f"{S}/providers/Microsoft.ContainerService/locations/westeurope/kubernetesVersions"
    routes[("GET", versions)] = (200, {"values": [version(v) for v in offered]})
    az, _ = azure(routes)
    args = cli.parser().parse_args(["preflight", "--stack", "dev"])
    assert preflight.command(args, azure=az) == 1
    out = capsys.readouterr().out
    assert f"Preflight of stack 'dev' against subscription {SUB} (westeurope):" in out
    assert "FAIL  kubernetes-version" in out and f"{pinned} is not offered in westeurope" in out
    assert f"offered: {', '.join(offered)}" in out
    assert "FAIL  storage-account-name" in out
    assert "fix: change airflow-aks:namePrefix" in out
    assert "fix: set airflow-aks:aks.kubernetesVersion to one of" in out
    assert "PASS  resource-providers" in out
    assert "FAILED: 2 of 10 checks: kubernetes-version, storage-account-name" in out


def test_preflight_without_subscription_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    assert cli.main(["preflight", "--stack", "dev"]) == 2
    assert "no subscription" in capsys.readouterr().err


@pytest.mark.parametrize(("role", "ok"), [(OWNER, True), (CONTRIBUTOR, False)])
def test_plan_permissions_against_the_callers_effective_permissions(role, ok):
    routes = healthy_routes()
    routes[("GET", f"{S}/resourcegroups/{RG}/providers/Microsoft.Authorization/permissions")] = (
        200,
        {"value": ROLE_PERMISSIONS[role]},
    )
    req = dev_requirements()
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action" in req.deploy_actions
    c = run_one(routes, req, "plan-permissions")
    assert c.ok is ok, c.detail
    if not ok:  # Contributor: everything but role assignments
        assert "Microsoft.Authorization/roleAssignments/write" in c.detail
        assert "delivery/grants/dev.json" in c.fix
