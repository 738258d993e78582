"""Deployability rules (filed by area in policies/rules/: aks, identity, gitops, storage,
postgres), both ways: a small good stack edited per case, and the real dev/prod plans
edited to reintroduce each deployability defect."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_aks.policies.rules import (
    RULES_BY_NAME,
    Context,
    aks,
    evaluate,
    gitops,
    postgres,
    storage,
)
from airflow_aks.policies.rules import _core as c
from airflow_aks.policies.rules import azure_facts as facts

# The deployability rules (what mocks accept and a real `pulumi up` refuses), filed by area
# since: the same ten.
DEPLOY_RULES = [
    RULES_BY_NAME[name]
    for name in (
        "aks-no-retired-addons",
        "aks-version-creatable",
        "aks-rbac-admin-grant",
        "aks-upgrade-channel-no-pin-fight",
        "aks-container-insights-dcr",
        "aks-control-plane-logs",
        "identity-no-vault-wide-read",
        "flux-workload-identity-complete",
        "storage-private-in-production",
        "postgres-entra-auth-has-admin",
    )
]

TODAY = dt.date(2026, 12, 2)
STACK = "urn:pulumi:dev::airflow-aks::"
SUB = "/subscriptions/[unknown]/resourceGroups/rg"
CLUSTER_ID = f"{SUB}/providers/Microsoft.ContainerService/managedClusters/aks-x"
VAULT_ID = f"{SUB}/providers/Microsoft.KeyVault/vaults/kv-x"
ROLE = "/subscriptions/[unknown]/providers/Microsoft.Authorization/roleDefinitions/"
NO_OPTIONS: dict[str, Any] = {
    "ignoreChanges": [],
    "replaceOnChanges": [],
    "deleteBeforeReplace": None,
    "retainOnDelete": None,
    "customTimeouts": None,
    "dependsOn": [],
}


def urn(typ: str, name: str) -> str:
    return f"{STACK}{typ}::{name}"


def res(
    typ: str,
    name: str,
    inputs: dict[str, Any],
    prop_deps: dict[str, list[str]] | None = None,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    deps = sorted({u for us in (prop_deps or {}).values() for u in us})
    return {
        "urn": urn(typ, name),
        "type": typ,
        "name": name,
        "inputs": inputs,
        "dependencies": deps,
        "propertyDependencies": dict(prop_deps or {}),
        "options": {**NO_OPTIONS, "ignoreChanges": list(ignore)},
    }


MC_URN = urn(c.MANAGED_CLUSTER, "aks")
DCR_URN = urn(aks.DATA_COLLECTION_RULE, "ci")
UAI_URN = urn(c.USER_ASSIGNED_IDENTITY, "cp")
VAULT_URN = urn(c.VAULT, "kv")
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"


def good_stack() -> list[dict[str, Any]]:
    """A cluster and vault wired to deploy for real: every deploy rule passes."""
    return [
        res(
            c.MANAGED_CLUSTER,
            "aks",
            {
                "resourceName": "aks-x",
                "kubernetesVersion": "1.36",
                "aadProfile": {"managed": True, "enableAzureRBAC": True},
                "autoUpgradeProfile": {"upgradeChannel": "stable"},
                "addonProfiles": {
                    "omsagent": {"enabled": True, "config": {"useAADAuth": "true"}},
                },
            },
            ignore=("agentPoolProfiles[0].count", "kubernetesVersion"),
        ),
        res(
            c.AGENT_POOL,
            "tasks",
            {"agentPoolName": "tasks", "resourceName": "aks-x", "orchestratorVersion": "1.36"},
            {"resourceName": [MC_URN]},
            ignore=("count", "orchestratorVersion"),
        ),
        res(
            c.ROLE_ASSIGNMENT,
            "cluster-admin",
            {
                "roleDefinitionId": ROLE + facts.AKS_RBAC_CLUSTER_ADMIN,
                "scope": CLUSTER_ID,
                "principalId": "g1",
                "principalType": "Group",
            },
            {"scope": [MC_URN]},
        ),
        res(
            aks.DATA_COLLECTION_RULE,
            "ci",
            {
                "dataCollectionRuleName": "MSCI-westeurope-aks-x",
                "dataSources": {"extensions": [{"extensionName": "ContainerInsights"}]},
            },
        ),
        res(
            aks.DATA_COLLECTION_RULE_ASSOCIATION,
            "ci",
            {
                "associationName": "ContainerInsightsExtension",
                "resourceUri": CLUSTER_ID,
                "dataCollectionRuleId": f"{SUB}/providers/Microsoft.Insights/dataCollectionRules/"
                "MSCI-westeurope-aks-x",
            },
            {"resourceUri": [MC_URN], "dataCollectionRuleId": [DCR_URN]},
        ),
        res(
            "azure-native:monitor:DiagnosticSetting",
            "control-plane",
            {
                "resourceUri": CLUSTER_ID,
                "workspaceId": f"{SUB}/providers/Microsoft.OperationalInsights/workspaces/log",
                "logs": [
                    {"category": "kube-audit-admin", "enabled": True},
                    {"category": "guard", "enabled": True},
                ],
            },
            {"resourceUri": [MC_URN]},
        ),
        res(c.VAULT, "kv", {"vaultName": "kv-x"}),
        res(c.USER_ASSIGNED_IDENTITY, "cp", {"resourceName": "id-cp"}),
        res(
            SPC,
            "cp-kv",
            {"metadata": {"name": "cp-kv"}, "spec": {"parameters": {"clientID": "[unknown]"}}},
            {"spec": [UAI_URN]},
        ),
        res(
            c.ROLE_ASSIGNMENT,
            "cp-kv-fernet",
            {
                "roleDefinitionId": ROLE + facts.KEY_VAULT_SECRETS_USER,
                "scope": f"{VAULT_ID}/secrets/airflow-fernet-key",
                "principalId": "[unknown]",
                "principalType": "ServicePrincipal",
            },
            {"principalId": [UAI_URN], "scope": [VAULT_URN]},
        ),
        res(
            gitops.K8S_EXTENSION,
            "flux",
            {
                "extensionType": "microsoft.flux",
                "configurationSettings": {"workloadIdentity.enable": "false"},
            },
        ),
        res(
            storage.STORAGE_ACCOUNT,
            "logs",
            {"accountName": "stx", "publicNetworkAccess": "Disabled"},
        ),
        res(
            storage.PRIVATE_ENDPOINT,
            "logs-pe",
            {
                "privateLinkServiceConnections": [
                    {"groupIds": ["blob"], "privateLinkServiceId": "[unknown]"}
                ]
            },
            {"privateLinkServiceConnections": [urn(storage.STORAGE_ACCOUNT, "logs")]},
        ),
        res(
            postgres.PG_SERVER,
            "psql",
            {"serverName": "psql-x", "authConfig": {"activeDirectoryAuth": "Enabled"}},
        ),
        res(
            postgres.PG_ENTRA_ADMINS[0],
            "psql-admins",
            {"serverName": "psql-x", "objectId": "g1", "principalType": "group"},
            {"serverName": [urn(postgres.PG_SERVER, "psql")]},
        ),
    ]


Edit = Callable[[list[dict[str, Any]]], None]


def find(rs: list[dict[str, Any]], name: str, typ: str | None = None) -> dict[str, Any]:
    return next(r for r in rs if r["name"] == name and (typ is None or r["type"] == typ))


def drop(name: str, typ: str | None = None) -> Edit:
    def edit(rs: list[dict[str, Any]]) -> None:
        rs.remove(find(rs, name, typ))

    return edit


def set_input(name: str, key: str, value: Any, typ: str | None = None) -> Edit:
    def edit(rs: list[dict[str, Any]]) -> None:
        find(rs, name, typ)["inputs"][key] = value

    return edit


def set_ignore(name: str, keys: list[str], typ: str | None = None) -> Edit:
    def edit(rs: list[dict[str, Any]]) -> None:
        find(rs, name, typ)["options"]["ignoreChanges"] = keys

    return edit


def set_deps(name: str, key: str, urns: list[str], typ: str | None = None) -> Edit:
    def edit(rs: list[dict[str, Any]]) -> None:
        find(rs, name, typ)["propertyDependencies"][key] = urns

    return edit


@dataclass(frozen=True)
class DeployCase:
    rule: str
    id: str
    edits: tuple[Edit, ...] = ()
    violates: bool = True
    props: dict[str, Any] | None = None
    """For a resource rule: the props to check (edits unused)."""
    type: str = c.MANAGED_CLUSTER
    production: bool = False


def ok(rule: str, id: str, *edits: Edit, production: bool = False) -> DeployCase:
    return DeployCase(rule, id, edits, False, production=production)


def bad(rule: str, id: str, *edits: Edit, production: bool = False) -> DeployCase:
    return DeployCase(rule, id, edits, True, production=production)


def flux_settings(settings: dict[str, str]) -> Edit:
    return set_input("flux", "configurationSettings", settings)


def add_flux_credential(sa: str) -> Edit:
    def edit(rs: list[dict[str, Any]]) -> None:
        rs.append(
            res(
                "azure-native:managedidentity:FederatedIdentityCredential",
                f"flux-{sa}",
                {"subject": f"system:serviceaccount:flux-system:{sa}"},
            )
        )

    return edit


WI_ON = {"workloadIdentity.enable": "true", "workloadIdentity.azureClientId": "[unknown]"}


MC = c.MANAGED_CLUSTER
DS = "azure-native:monitor:DiagnosticSetting"
DEPLOY_CASES: list[DeployCase] = [
    # dated facts (resource rules)
    DeployCase("aks-no-retired-addons", "none", violates=False, props={"addonProfiles": {}}),
    DeployCase(
        "aks-no-retired-addons",
        "dashboard-false",
        props={"addonProfiles": {"kubeDashboard": {"enabled": False}}},
    ),
    DeployCase(
        "aks-no-retired-addons",
        "routing-any-case",
        props={"addonProfiles": {"httpapplicationrouting": {"enabled": False}}},
    ),
    DeployCase(
        "aks-version-creatable", "1.36", violates=False, props={"kubernetesVersion": "1.36"}
    ),
    DeployCase(
        "aks-version-creatable",
        "patch-form",
        violates=False,
        props={"orchestratorVersion": "1.35.4"},
        type=c.AGENT_POOL,
    ),
    DeployCase("aks-version-creatable", "1.33-eol", props={"kubernetesVersion": "1.33"}),
    DeployCase("aks-version-creatable", "1.34-eol", props={"kubernetesVersion": "1.34.2"}),
    DeployCase("aks-version-creatable", "unknown-minor", props={"kubernetesVersion": "1.99"}),
    # cluster access
    ok("aks-rbac-admin-grant", "good"),
    ok(
        "aks-rbac-admin-grant",
        "rbac-admin-by-id",
        set_input("cluster-admin", "roleDefinitionId", ROLE + facts.AKS_RBAC_ADMIN),
        set_deps("cluster-admin", "scope", []),
    ),
    ok(
        "aks-rbac-admin-grant",
        "no-azure-rbac",
        drop("cluster-admin"),
        set_input("aks", "aadProfile", {"managed": True, "enableAzureRBAC": False}, MC),
    ),
    bad("aks-rbac-admin-grant", "no-grant", drop("cluster-admin")),
    bad(
        "aks-rbac-admin-grant",
        "namespace-scope-only",
        set_input("cluster-admin", "scope", f"{CLUSTER_ID}/namespaces/airflow"),
    ),
    bad(
        "aks-rbac-admin-grant",
        "writer-role",
        set_input(
            "cluster-admin", "roleDefinitionId", ROLE + "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
        ),
    ),
    # auto-upgrade vs pinned version
    ok("aks-upgrade-channel-no-pin-fight", "stable-ignored"),
    ok(
        "aks-upgrade-channel-no-pin-fight",
        "patch-minor-pin",
        set_input("aks", "autoUpgradeProfile", {"upgradeChannel": "patch"}, MC),
        set_ignore("aks", ["agentPoolProfiles[0].count"], MC),
        set_ignore("tasks", ["count"]),
    ),
    bad(
        "aks-upgrade-channel-no-pin-fight",
        "stable-cluster-pinned",
        set_ignore("aks", ["agentPoolProfiles[0].count"], MC),
    ),
    bad("aks-upgrade-channel-no-pin-fight", "stable-pool-pinned", set_ignore("tasks", ["count"])),
    bad(
        "aks-upgrade-channel-no-pin-fight",
        "patch-with-patch-version",
        set_input("aks", "autoUpgradeProfile", {"upgradeChannel": "patch"}, MC),
        set_input("aks", "kubernetesVersion", "1.36.2", MC),
        set_ignore("aks", [], MC),
    ),
    # monitoring
    ok("aks-container-insights-dcr", "good"),
    ok(
        "aks-container-insights-dcr",
        "no-omsagent",
        set_input("aks", "addonProfiles", {}, MC),
        drop("ci", aks.DATA_COLLECTION_RULE_ASSOCIATION),
    ),
    bad(
        "aks-container-insights-dcr",
        "no-association",
        drop("ci", aks.DATA_COLLECTION_RULE_ASSOCIATION),
    ),
    bad("aks-container-insights-dcr", "no-rule", drop("ci", aks.DATA_COLLECTION_RULE)),
    bad(
        "aks-container-insights-dcr",
        "rule-without-extension",
        set_input("ci", "dataSources", {"performanceCounters": []}, aks.DATA_COLLECTION_RULE),
    ),
    ok("aks-control-plane-logs", "good"),
    ok(
        "aks-control-plane-logs",
        "kube-audit-instead",
        set_input(
            "control-plane",
            "logs",
            [{"category": "kube-audit", "enabled": True}, {"category": "guard", "enabled": True}],
        ),
    ),
    bad("aks-control-plane-logs", "no-setting", drop("control-plane")),
    bad(
        "aks-control-plane-logs",
        "no-guard",
        set_input("control-plane", "logs", [{"category": "kube-audit-admin", "enabled": True}]),
    ),
    bad("aks-control-plane-logs", "no-workspace", set_input("control-plane", "workspaceId", None)),
    # least privilege
    ok("identity-no-vault-wide-read", "per-secret"),
    ok(
        "identity-no-vault-wide-read",
        "vault-wide-but-mounts-nothing",
        set_input("cp-kv-fernet", "scope", VAULT_ID),
        drop("cp-kv"),
    ),
    ok(
        "identity-no-vault-wide-read",
        "other-role",
        set_input("cp-kv-fernet", "scope", VAULT_ID),
        set_input(
            "cp-kv-fernet", "roleDefinitionId", ROLE + "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
        ),
    ),
    bad("identity-no-vault-wide-read", "vault-wide", set_input("cp-kv-fernet", "scope", VAULT_ID)),
    # GitOps
    ok("flux-workload-identity-complete", "off"),
    ok(
        "flux-workload-identity-complete",
        "complete",
        flux_settings(WI_ON),
        add_flux_credential("source-controller"),
        add_flux_credential("kustomize-controller"),
    ),
    bad(
        "flux-workload-identity-complete",
        "no-client-id",
        flux_settings({"workloadIdentity.enable": "true"}),
        add_flux_credential("source-controller"),
        add_flux_credential("kustomize-controller"),
    ),
    bad("flux-workload-identity-complete", "no-credentials", flux_settings(WI_ON)),
    bad(
        "flux-workload-identity-complete",
        "kustomize-missing",
        flux_settings(WI_ON),
        add_flux_credential("source-controller"),
    ),
    # PostgreSQL
    ok("postgres-entra-auth-has-admin", "admin"),
    ok(
        "postgres-entra-auth-has-admin",
        "entra-off",
        set_input("psql", "authConfig", {"activeDirectoryAuth": "Disabled"}),
        drop("psql-admins"),
    ),
    ok(
        "postgres-entra-auth-has-admin",
        "admin-by-name",
        set_deps("psql-admins", "serverName", []),
    ),
    bad("postgres-entra-auth-has-admin", "no-admin", drop("psql-admins")),
    bad(
        "postgres-entra-auth-has-admin",
        "admin-of-other-server",
        set_deps("psql-admins", "serverName", []),
        set_input("psql-admins", "serverName", "psql-other"),
    ),
    # storage
    ok("storage-private-in-production", "private", production=True),
    ok(
        "storage-private-in-production",
        "dev-public",
        set_input("logs", "publicNetworkAccess", "Enabled"),
        drop("logs-pe"),
    ),
    bad(
        "storage-private-in-production",
        "public",
        set_input("logs", "publicNetworkAccess", "Enabled"),
        production=True,
    ),
    bad("storage-private-in-production", "no-endpoint", drop("logs-pe"), production=True),
    bad(
        "storage-private-in-production",
        "endpoint-not-blob",
        set_input(
            "logs-pe",
            "privateLinkServiceConnections",
            [{"groupIds": ["file"], "privateLinkServiceId": "[unknown]"}],
        ),
        production=True,
    ),
    bad(
        "identity-no-vault-wide-read",
        "officer-vault-wide",
        set_input("cp-kv-fernet", "scope", VAULT_ID + "/"),
        set_input("cp-kv-fernet", "roleDefinitionId", ROLE + facts.KEY_VAULT_SECRETS_OFFICER),
    ),
]


@pytest.mark.parametrize("case", DEPLOY_CASES, ids=lambda k: f"{k.rule}-{k.id}")
def test_deploy_case(case: DeployCase) -> None:
    rule = RULES_BY_NAME[case.rule]
    ctx = Context(
        stack="prod" if case.production else "dev", production=case.production, today=TODAY
    )
    if rule.check is not None:
        assert case.props is not None
        assert rule.applies_to(case.type, case.props)
        found: list[Any] = rule.check(case.props, ctx)
    else:
        assert rule.stack_check is not None
        rs = good_stack()
        for edit in case.edits:
            edit(rs)
        found = rule.stack_check(rs, ctx)
    assert bool(found) == case.violates, f"{case.rule}/{case.id}: {found}"


def test_good_stack_passes_every_deploy_rule() -> None:
    results = evaluate(good_stack(), "dev", [], today=TODAY, rules=DEPLOY_RULES)
    assert results.violations == []


# ------------------------------------------------------------------ the shipped plans


def _plan(stack: str, config_file: str | None = None) -> list[dict[str, Any]]:
    from conftest import plan_export

    return copy.deepcopy(plan_export(stack, config_file)["resources"])


def _violations(resources: list[dict[str, Any]], stack: str, rule: str) -> list[str]:
    results = evaluate(resources, stack, [], today=TODAY, rules=[RULES_BY_NAME[rule]])
    return [v.message for v in results.violations]


def _of(rs: list[dict[str, Any]], typ: str) -> list[dict[str, Any]]:
    return [r for r in rs if r["type"] == typ]


@pytest.mark.parametrize(
    ("stack", "config"),
    [("dev", None), ("prod", None), ("dev", "examples/Pulumi.dev-kuma.yaml")],
)
def test_shipped_plans_pass_the_deploy_rules(stack: str, config: str | None) -> None:
    from conftest import ROOT

    rs = _plan(stack, str(ROOT / config) if config else None)
    results = evaluate(rs, stack, [], today=TODAY, rules=DEPLOY_RULES)
    assert [(v.rule, v.message) for v in results.open if v.level == "mandatory"] == []


def _reintroduce_dashboard(rs: list[dict[str, Any]]) -> None:
    _of(rs, c.MANAGED_CLUSTER)[0]["inputs"]["addonProfiles"]["kubeDashboard"] = {"enabled": False}


def _drop_cluster_admins(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, c.ROLE_ASSIGNMENT):
        if facts.AKS_RBAC_CLUSTER_ADMIN in r["inputs"]["roleDefinitionId"]:
            rs.remove(r)


def _unignore_versions(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, c.MANAGED_CLUSTER) + _of(rs, c.AGENT_POOL):
        ignored = r["options"]["ignoreChanges"]
        r["options"]["ignoreChanges"] = [k for k in ignored if "ersion" not in k]


def _drop_association(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, aks.DATA_COLLECTION_RULE_ASSOCIATION):
        rs.remove(r)


def _drop_control_plane_logs(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, "azure-native:monitor:DiagnosticSetting"):
        if "/managedClusters/" in str(r["inputs"].get("resourceUri")):
            rs.remove(r)


def _vault_wide_control_plane(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, c.ROLE_ASSIGNMENT):
        scope = str(r["inputs"]["scope"])
        if "airflow-control-plane-kv" in r["name"] and "/secrets/" in scope:
            r["inputs"]["scope"] = scope.split("/secrets/")[0]


def _flux_identity_half_on(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, gitops.K8S_EXTENSION):
        r["inputs"]["configurationSettings"]["workloadIdentity.enable"] = "true"


def _public_log_storage(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, storage.STORAGE_ACCOUNT):
        r["inputs"]["publicNetworkAccess"] = "Enabled"


def _drop_postgres_entra_admin(rs: list[dict[str, Any]]) -> None:
    for r in _of(rs, postgres.PG_ENTRA_ADMINS[0]):
        rs.remove(r)


DEFECTS: list[tuple[str, str, Callable[[list[dict[str, Any]]], None]]] = [
    ("prod", "postgres-entra-auth-has-admin", _drop_postgres_entra_admin),
    ("dev", "flux-workload-identity-complete", _flux_identity_half_on),
    ("prod", "storage-private-in-production", _public_log_storage),
    ("dev", "aks-no-retired-addons", _reintroduce_dashboard),
    ("dev", "aks-rbac-admin-grant", _drop_cluster_admins),
    ("prod", "aks-upgrade-channel-no-pin-fight", _unignore_versions),
    ("dev", "aks-container-insights-dcr", _drop_association),
    ("prod", "aks-control-plane-logs", _drop_control_plane_logs),
    ("dev", "identity-no-vault-wide-read", _vault_wide_control_plane),
]


@pytest.mark.parametrize(("stack", "rule", "edit"), DEFECTS, ids=[d[1] for d in DEFECTS])
def test_plan_edited_to_reintroduce_the_defect_fails(
    stack: str, rule: str, edit: Callable[[list[dict[str, Any]]], None]
) -> None:
    rs = _plan(stack)
    assert _violations(rs, stack, rule) == []
    edit(rs)
    assert _violations(rs, stack, rule), f"{rule} did not catch the reintroduced defect"


def test_plan_version_is_the_dated_default() -> None:
    for stack in ("dev", "prod"):
        cluster = _of(_plan(stack), c.MANAGED_CLUSTER)[0]
        assert cluster["inputs"]["kubernetesVersion"] == facts.default_minor()
        assert facts.version_problem(facts.default_minor(), TODAY) is None


# ------------------------------------------------------------------ options in the export


def test_plan_export_carries_resource_options() -> None:
    import pulumi

    from airflow_aks.offline import plan

    def program() -> None:
        first = pulumi.CustomResource("test:index:Thing", "first", {"a": 1})
        pulumi.CustomResource(
            "test:index:Thing",
            "second",
            {"b": first.urn},
            pulumi.ResourceOptions(
                depends_on=[first],
                ignore_changes=["tags"],
                replace_on_changes=["name"],
                delete_before_replace=True,
                retain_on_delete=True,
                custom_timeouts=pulumi.CustomTimeouts(create="30m", delete="1h"),
            ),
        )
        pulumi.CustomResource("test:index:Thing", "third", {"c": 2})

    regs = {r.name: r.export() for r in plan.run(program, stack="t", config={}).resources}
    second = regs["second"]["options"]
    assert second == {
        "ignoreChanges": ["tags"],
        "replaceOnChanges": ["name"],
        "deleteBeforeReplace": True,
        "retainOnDelete": True,
        "customTimeouts": {"create": "30m", "update": None, "delete": "1h"},
        # first is also an input reference: that dependency shows under propertyDependencies
        "dependsOn": [],
    }
    assert regs["second"]["propertyDependencies"]["b"] == [regs["first"]["urn"]]
    assert regs["third"]["options"] == NO_OPTIONS


def test_plan_export_explicit_depends_on() -> None:
    import pulumi

    from airflow_aks.offline import plan

    def program() -> None:
        first = pulumi.CustomResource("test:index:Thing", "first", {})
        pulumi.CustomResource(
            "test:index:Thing", "second", {}, pulumi.ResourceOptions(depends_on=[first])
        )

    regs = {r.name: r.export() for r in plan.run(program, stack="t", config={}).resources}
    assert regs["second"]["options"]["dependsOn"] == [regs["first"]["urn"]]


def test_crossguard_options_match_the_plan_shape() -> None:
    from pulumi_policy import PolicyResource, PolicyResourceOptions
    from pulumi_policy.policy import PolicyCustomTimeouts
    from pulumi_policy.proxy import unknown_checking_proxy

    from airflow_aks.policies.rules import pack

    dep = PolicyResource(
        "t:i:D", unknown_checking_proxy({}), "urn:dep", "dep", None, None, None, [], {}
    )  # type: ignore[arg-type]
    ref = PolicyResource(
        "t:i:R", unknown_checking_proxy({}), "urn:ref", "ref", None, None, None, [], {}
    )  # type: ignore[arg-type]
    opts = PolicyResourceOptions(
        False, ["kubernetesVersion"], True, [], PolicyCustomTimeouts(1800, 0, 0), [], None
    )
    r = PolicyResource(
        c.MANAGED_CLUSTER,
        unknown_checking_proxy({"resourceName": "aks-x"}),
        "urn:mc",
        "aks",
        opts,
        None,
        None,
        [dep, ref],
        {"x": [ref]},
    )  # type: ignore[arg-type]
    options = pack.to_plan_resource(r)["options"]
    assert options["ignoreChanges"] == ["kubernetesVersion"]
    assert options["deleteBeforeReplace"] is True
    assert options["customTimeouts"] == {"create": "1800s", "update": None, "delete": None}
    assert options["dependsOn"] == ["urn:dep"]
    none = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    r2 = PolicyResource("t:i:X", unknown_checking_proxy({}), "urn:x", "x", none, None, None, [], {})  # type: ignore[arg-type]
    assert pack.to_plan_resource(r2)["options"]["customTimeouts"] is None


# ------------------------------------------------------------------ pure decisions


@pytest.mark.parametrize(
    ("on", "allowed"),
    [
        (dt.date(2026, 7, 31), ["1.33", "1.34", "1.35", "1.36"]),
        (dt.date(2026, 8, 1), ["1.34", "1.35", "1.36"]),  # 1.33: AKS EOL July 2026
        (dt.date(2026, 12, 2), ["1.35", "1.36", "1.37"]),  # 1.34: EOL Nov 2026
        (dt.date(2027, 7, 1), ["1.37"]),
    ],
)
def test_creatable_minors(on: dt.date, allowed: list[str]) -> None:
    assert facts.creatable_minors(on) == allowed


def test_version_problem_names_allowed_values() -> None:
    msg = facts.version_problem("1.33", TODAY)
    assert msg is not None and "end of life on 2026-07-31" in msg
    assert "['1.35', '1.36', '1.37']" in msg and "supported-kubernetes-versions" in msg
    assert "newer than" in str(facts.version_problem("1.40", TODAY))
    assert "not in the dated table" in str(facts.version_problem("1.20", TODAY))
    assert "not GA" in str(facts.version_problem("1.37", dt.date(2026, 9, 1)))
    assert facts.version_problem("1.35", TODAY) is None


def test_default_minor_is_seen_ga_and_creatable() -> None:
    # 1.37's GA (Oct 2026) was a plan when the page was published (2026-08-05).
    assert facts.default_minor() == "1.36"


def test_retired_addon_lookup() -> None:
    assert facts.retired_addon("KUBEDASHBOARD") is not None
    assert facts.retired_addon("omsagent") is None


@pytest.mark.parametrize(
    ("channel", "cluster", "pool"),
    [
        (
            "stable",
            [
                "agentPoolProfiles[0].count",
                "kubernetesVersion",
                "agentPoolProfiles[0].orchestratorVersion",
            ],
            ["count", "orchestratorVersion"],
        ),
        (
            "rapid",
            [
                "agentPoolProfiles[0].count",
                "kubernetesVersion",
                "agentPoolProfiles[0].orchestratorVersion",
            ],
            ["count", "orchestratorVersion"],
        ),
        ("patch", ["agentPoolProfiles[0].count"], ["count"]),
        ("none", ["agentPoolProfiles[0].count"], ["count"]),
    ],
)
def test_version_ignore_changes(channel: str, cluster: list[str], pool: list[str]) -> None:
    from airflow_aks.components.aks import version_ignore_changes

    assert version_ignore_changes(channel) == (cluster, pool)


def test_cluster_admin_grants() -> None:
    from airflow_aks.components.aks import cluster_admin_grants

    assert cluster_admin_grants(["g1", "g2"], deployer=True, deployer_type="ServicePrincipal") == [
        ("admins-0", "g1", "Group"),
        ("admins-1", "g2", "Group"),
        ("deployer", None, "ServicePrincipal"),
    ]
    assert cluster_admin_grants(["g1"], deployer=False) == [("admins-0", "g1", "Group")]
    with pytest.raises(ValueError, match="duplicate"):
        cluster_admin_grants(["g1", "g1"], deployer=True)
    with pytest.raises(ValueError, match="User or ServicePrincipal"):
        cluster_admin_grants([], deployer=True, deployer_type="Group")


def test_container_insights_rule_shape() -> None:
    from airflow_aks.components.aks import (
        CONTAINER_INSIGHTS_STREAMS,
        container_insights_rule,
        data_collection_rule_name,
    )

    body = container_insights_rule("ws-id")
    ext = body["data_sources"]["extensions"][0]
    assert ext["extension_name"] == "ContainerInsights"
    assert ext["streams"] == list(CONTAINER_INSIGHTS_STREAMS)
    assert body["destinations"]["log_analytics"] == [
        {"name": "ciworkspace", "workspace_resource_id": "ws-id"}
    ]
    assert body["data_flows"] == [{"streams": ext["streams"], "destinations": ["ciworkspace"]}]
    assert data_collection_rule_name("westeurope", "aks-x") == "MSCI-westeurope-aks-x"
    assert len(data_collection_rule_name("westeurope", "a" * 80)) == 64


# ------------------------------------------------------------------ subscription preflight


@pytest.mark.parametrize(
    ("state", "blocks"),
    [
        ("Registered", False),
        (None, False),
        ("[unknown]", False),  # the offline plan / a preview that cannot tell
        ("NotRegistered", True),
        ("Registering", True),
        ("Unregistered", True),
    ],
)
def test_feature_problem(state: str | None, blocks: bool) -> None:
    from airflow_aks.components.aks import feature_problem

    msg = feature_problem("Microsoft.Compute", "EncryptionAtHost", state)
    assert (msg is not None) == blocks
    if msg:
        assert "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in msg
        assert "az provider register --namespace Microsoft.Compute" in msg


def test_unregistered_encryption_at_host_stops_before_anything_registers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conftest import ROOT

    from airflow_aks.config.stack import read_stack_file
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

    original = plan.PlanMocks.call
    registered: list[str] = []

    def call(self: plan.PlanMocks, args: Any) -> Any:
        result, failures = original(self, args)
        if args.token == "azure-native:features:getSubscriptionFeatureRegistration":
            result = {**result, "properties": {**result["properties"], "state": "NotRegistered"}}
        return result, failures

    def new_resource(self: plan.PlanMocks, args: Any) -> Any:
        registered.append(args.name)
        return ("", {})

    def uncached() -> None:  # the session caches plans of program.main itself
        program.main()

    monkeypatch.setattr(plan.PlanMocks, "call", call)
    monkeypatch.setattr(plan.PlanMocks, "new_resource", new_resource)
    config = read_stack_file(ROOT / "Pulumi.dev.yaml")
    with pytest.raises(
        Exception, match=re.escape("az feature register --namespace Microsoft.Compute")
    ):
        plan.run(uncached, stack="dev", config=config)
    assert registered == []
    # Opting out of the check lets the plan run.
    aks = {**config["airflow-aks:aks"], "checkSubscriptionFeatures": False}
    plan.run(uncached, stack="dev", config={**config, "airflow-aks:aks": aks})
    assert registered


# ------------------------------------------------------------------ recreatable dev vault


def test_dev_vault_name_is_random_and_kept_prod_is_deterministic() -> None:
    from airflow_aks.components import naming

    dev = _of(_plan("dev"), c.VAULT)[0]["inputs"]
    prod = _of(_plan("prod"), c.VAULT)[0]["inputs"]
    assert prod["vaultName"] == naming.key_vault_name("airflow", "prod", "westeurope")
    base = naming.key_vault_base("airflow", "dev", "westeurope")
    assert dev["vaultName"].startswith(base + "-") and len(dev["vaultName"]) == len(base) + 5
    assert dev["vaultName"] != naming.key_vault_name("airflow", "dev", "westeurope")
    assert dev["properties"]["softDeleteRetentionInDays"] == 7
    assert dev["properties"]["enablePurgeProtection"] is True
    suffix = [r for r in _plan("dev") if r["type"] == "random:index/randomString:RandomString"]
    assert [r["inputs"]["length"] for r in suffix] == [4]
    assert suffix[0]["inputs"]["upper"] is False and suffix[0]["inputs"]["special"] is False


def test_random_vault_name_checks_the_rule() -> None:
    from airflow_aks.components.secrets import random_vault_name

    assert random_vault_name("kv-airflow-dev-weu", "a1b2") == "kv-airflow-dev-weu-a1b2"
    with pytest.raises(ValueError, match="not a valid Key Vault name"):
        random_vault_name("kv-" + "x" * 30, "a1b2")


# ------------------------------------------------------------------ Postgres Entra admin


def test_postgres_entra_admin_is_the_admin_group() -> None:
    (admin,) = _of(_plan("dev"), postgres.PG_ENTRA_ADMINS[0])
    assert admin["inputs"]["objectId"] == "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"
    assert admin["inputs"]["principalType"] == "group"
    assert admin["inputs"]["principalName"] == "[unknown]"  # the group's display name


def test_entra_auth_without_any_admin_group_is_refused() -> None:
    from conftest import ROOT

    from airflow_aks.config.base import ConfigError
    from airflow_aks.config.stack import load, read_stack_file

    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    aks = {**raw["airflow-aks:aks"], "adminGroupObjectIds": [], "azureRbac": False}
    with pytest.raises(
        ConfigError, match=re.escape("database.entraAuth: Entra authentication needs")
    ):
        load({**raw, "airflow-aks:aks": aks}, "dev")
    db = {"entraAdminGroupObjectId": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"}
    load({**raw, "airflow-aks:aks": aks, "airflow-aks:database": db}, "dev")
