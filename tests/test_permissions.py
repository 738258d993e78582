"""The permission model: what each plan needs, and that the pipeline's grants cover it."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, plan_export

from airflow_aks.cli import pipeline as pipeline_cli
from airflow_aks.components.identity import BUILTIN_ROLES as STACK_ROLES
from airflow_aks.config.delivery import load_pipeline
from airflow_aks.delivery import grants as grants_mod
from airflow_aks.delivery import permissions as perm

PIPELINE = load_pipeline(ROOT / "delivery.yaml")
MC = "Microsoft.ContainerService/managedClusters"
UAI = "Microsoft.ManagedIdentity/userAssignedIdentities"
BEFORE = Path(__file__).parent / "data" / "grants-before-2026-12-07"
"""The grants shipped before the permission model (commit c8ef11b), kept to prove the check
names what they miss."""


@pytest.mark.parametrize(
    ("pattern", "action", "ok"),
    [
        ("*/read", "Microsoft.Network/virtualNetworks/read", True),
        ("*/read", "Microsoft.Network/virtualNetworks/write", False),
        ("Microsoft.KeyVault/*", "microsoft.keyvault/vaults/secrets/write", True),
        ("Microsoft.Insights/DiagnosticSettings/*", "microsoft.insights/diagnosticsettings/", True),
        (f"{MC}/write", f"{MC}/agentPools/write", False),
        (f"{UAI}/*/assign/action", f"{UAI}/assign/action", True),
        (f"{UAI}/*/assign/action", f"{UAI}/x/y/assign/action", True),
        (f"{MC}/*/read", f"{MC}/cert-manager.io/certificates/read", True),
        (f"{MC}/*/read", f"{MC}/pods/write", False),
    ],
)  # fmt: skip
def test_action_matching_like_azure(pattern: str, action: str, ok: bool) -> None:
    assert perm.matches(pattern, action) is ok


def _need(what: str, **kw: object) -> perm.Need:
    base: dict[str, object] = {
        "kind": "action", "scope": "resourceGroup", "who": "urn:x", "why": "", "source": ""
    }  # fmt: skip
    base.update(kw)
    return perm.Need(what, **base)  # type: ignore[arg-type]


def test_not_actions_scope_and_condition_are_honoured() -> None:
    kv = perm.HeldRole(perm.BUILTIN_ROLES["Key Vault Contributor"], "resourceGroup")
    ident = perm.Identity([kv])
    assert perm.covered(ident, _need("Microsoft.KeyVault/vaults/write"))
    assert not perm.covered(ident, _need("Microsoft.KeyVault/managedHsms/write"))  # NotActions
    reader = perm.Identity([perm.HeldRole(perm.BUILTIN_ROLES["Reader"], "resourceGroup")])
    sub_read = _need("Microsoft.Features/featureProviders/x/read", scope="subscription")
    assert not perm.covered(reader, sub_read)  # a resource-group grant never reaches up
    sub_reader = perm.HeldRole(perm.BUILTIN_ROLES["Reader"], "subscription")
    assert perm.covered(perm.Identity([sub_reader]), sub_read)
    rbac = perm.HeldRole(
        perm.BUILTIN_ROLES["Role Based Access Control Administrator"],
        "resourceGroup",
        frozenset({"4633458b-17de-408a-b874-0445c86b69e6"}),
    )
    write = "Microsoft.Authorization/roleAssignments/write"
    allowed = _need(write, role_guid="4633458b-17de-408a-b874-0445c86b69e6")
    owner = _need(write, role_guid="8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    assert perm.covered(perm.Identity([rbac]), allowed)
    assert not perm.covered(perm.Identity([rbac]), owner)
    graph = _need("graph", kind="graph", graph=(frozenset({"A", "B"}), frozenset({"C"})))
    assert perm.covered(perm.Identity([], frozenset({"A", "B"})), graph)
    assert perm.covered(perm.Identity([], frozenset({"C"})), graph)
    assert not perm.covered(perm.Identity([], frozenset({"A"})), graph)


@pytest.mark.parametrize(
    ("token", "arm"),
    [
        ("azure-native:containerservice:AgentPool", f"{MC}/agentPools"),
        ("azure-native:storage:BlobContainer", "Microsoft.Storage/storageAccounts/blobServices/"
         "containers"),
        ("azure-native:authorization:RoleAssignment", "Microsoft.Authorization/roleAssignments"),
        ("azure-native:kubernetesconfiguration:FluxConfiguration",
         "Microsoft.KubernetesConfiguration/fluxConfigurations"),
        ("azure-native:privatedns:VirtualNetworkLink",
         "Microsoft.Network/privateDnsZones/virtualNetworkLinks"),
        ("azure-native:cdn:Profile", None),
    ],
)  # fmt: skip
def test_arm_type_of_a_token(token: str, arm: str | None) -> None:
    assert perm.arm_type(token) == arm


@pytest.mark.parametrize(
    ("token", "action"),
    [
        ("kubernetes:core/v1:Namespace", f"{MC}/namespaces/write"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy",
         f"{MC}/networking.k8s.io/networkpolicies/write"),
        ("kubernetes:gateway.networking.k8s.io/v1:Gateway",
         f"{MC}/gateway.networking.k8s.io/gateways/write"),
        ("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
         f"{MC}/secrets-store.csi.x-k8s.io/secretproviderclasses/write"),
    ],
)  # fmt: skip
def test_kubernetes_data_action(token: str, action: str) -> None:
    assert perm.kubernetes_data_action(token, "write") == action


def test_linked_actions_come_from_the_inputs() -> None:
    needs = perm.plan_needs(plan_export("prod"), "deploy")
    cluster = [n.what for n in needs if n.who.endswith("ManagedCluster::aks")]
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action" in cluster
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in cluster
    pe = {n.what for n in needs if "PrivateDnsZoneGroup" in n.who}
    assert "Microsoft.Network/privateDnsZones/join/action" in pe
    assigned = {n.role_guid for n in needs if n.what.endswith("roleAssignments/write")}
    assert "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b" in assigned  # deployer's cluster admin


def _uncovered(stack: str, grants: dict[str, object]) -> dict[str, set[str]]:
    return {
        op: {n.what if n.kind != "graph" else " + ".join(sorted(n.graph[0])) for n in needs}
        for op, needs in grants_mod.check(plan_export(stack), grants).items()
    }


def test_the_grants_shipped_before_miss_what_issue_22_names() -> None:
    dev = _uncovered("dev", json.loads((BEFORE / "dev.json").read_text()))
    prod = _uncovered("prod", json.loads((BEFORE / "prod.json").read_text()))
    feature = "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations/read"
    for got in (dev, prod):
        assert "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action" in got["deploy"]
        assert "Microsoft.KubernetesConfiguration/fluxConfigurations/write" in got["deploy"]
        assert "Microsoft.ContainerService/managedClusters/agentPools/write" in got["deploy"]
        assert feature in got["deploy"] and feature in got["preview"]
        assert "Group.Read.All" in got["deploy"]  # azuread get_group (Entra admin's name)
        assert "Group.Read.All" in got["preview"]  # no Graph permission at all before
    assert "AppRoleAssignment.ReadWrite.All + Application.Read.All" in prod["deploy"]
    assert (
        "Microsoft.ContainerService/managedClusters/cert-manager.io/certificates/read"
        in (prod["preview"])
    )


def test_the_checked_in_grants_cover_every_stage_for_preview_and_deploy() -> None:
    for stack in PIPELINE.stage_names:
        grants = json.loads((ROOT / "delivery" / "grants" / f"{stack}.json").read_text())
        assert _uncovered(stack, grants) == {"preview": set(), "deploy": set()}


def test_pipeline_check_names_the_uncovered_action_and_resource(tmp_path: Path) -> None:
    (tmp_path / "delivery").mkdir()
    shutil.copytree(BEFORE, tmp_path / "delivery" / "grants")
    lines = pipeline_cli.uncovered_grants(tmp_path, PIPELINE, plan_export)
    line = next(x for x in lines if "fluxConfigurations/write" in x)
    assert line.startswith("dev deploy: not granted:")
    assert "FluxConfiguration::gitops-config" in line or "FluxConfiguration::" in line
    assert pipeline_cli.uncovered_grants(ROOT, PIPELINE, plan_export) == []


def test_a_grant_of_an_unknown_role_cannot_be_checked() -> None:
    grants = json.loads((ROOT / "delivery" / "grants" / "dev.json").read_text())
    grants = copy.deepcopy(grants)
    grants["deploy"].append({"role": "Contributor-ish", "role_guid": None})
    with pytest.raises(ValueError, match="Contributor-ish"):
        grants_mod.identities(grants)


def test_built_in_roles_are_one_source() -> None:
    guids = [r.guid for r in perm.BUILTIN_ROLES.values()]
    assert len(set(guids)) == len(guids)
    for name, guid in STACK_ROLES.items():
        if name in perm.BUILTIN_ROLES:
            assert perm.BUILTIN_ROLES[name].guid == guid, name
    for role, _ in (
        *grants_mod.ROLE_BY_MODULE.values(),
        *grants_mod.ROLE_BY_LINKED_ACTION.values(),
    ):
        assert role in perm.BUILTIN_ROLES
        assert perm.BUILTIN_ROLES[role].source.endswith("2026-12-07")
    for need in (n for needs in perm.INVOKE_NEEDS.values() for n in needs):
        assert "2026-12-07" in need.source or need.source == perm._AZUREAD
