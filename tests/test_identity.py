"""Workload identity: least-privilege guards (pure) and the component under the mock engine."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from airflow_aks.components.identity import (
    BUILTIN_ROLES,
    WorkloadIdentity,
    assignment_name,
    check_scope,
    role_assignment,
    role_definition_id,
    role_guid,
)
from airflow_aks.components.naming import CLIENT_ID_ANNOTATION, FEDERATED_AUDIENCE
from airflow_aks.offline import plan

VAULT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"


@pytest.mark.parametrize(
    ("role", "guid"),
    [
        ("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
        ("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
        ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
    ],
)
def test_role_guid(role, guid):
    assert role_guid(role) == guid


@pytest.mark.parametrize(
    "role",
    ["Owner", "Contributor", "User Access Administrator", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"],
)
def test_broad_roles_refused(role):
    with pytest.raises(ValueError, match="too broad"):
        role_guid(role)


def test_unknown_role_lists_known():
    with pytest.raises(ValueError, match="Key Vault Secrets User"):
        role_guid("Secrets Reader")


@pytest.mark.parametrize(
    ("scope", "ok"),
    [
        (VAULT, True),
        (VAULT + "/secrets/x", True),
        ("/subscriptions/s1", False),
        ("/subscriptions/s1/", False),
        ("/subscriptions/s1/resourceGroups/rg", False),
        ("/providers/Microsoft.Management/managementGroups/root", False),
        ("/", False),
    ],
)
def test_check_scope(scope, ok):
    if ok:
        assert check_scope(scope) == scope
    else:
        with pytest.raises(ValueError):
            check_scope(scope)


def test_role_definition_id_uses_scope_subscription():
    assert role_definition_id(VAULT, "Key Vault Secrets User") == (
        "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/"
        + BUILTIN_ROLES["Key Vault Secrets User"]
    )


def test_assignment_name_is_stable_guid():
    a = assignment_name("p", "dev", "x")
    assert a == assignment_name("p", "dev", "x") != assignment_name("p", "prod", "x")
    assert len(a) == 36


def _program():
    provider = k8s.Provider("k8s", kubeconfig="{}")
    wi = WorkloadIdentity(
        "etl",
        {
            "resource_group_name": "rg",
            "location": "westeurope",
            "identity_name": "id-etl",
            "oidc_issuer_url": "https://issuer.example/abc/",
            "namespace": "data",
            "service_accounts": ["etl-runner", "etl-api", "etl-batch"],
            "automount_token_for": ["etl-api"],
        },
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    role_assignment(
        "etl-reader", principal_id=wi.principal_id, role="Key Vault Secrets User", scope=VAULT
    )


@pytest.fixture(scope="module")
def identity_plan():
    return plan.run(_program, stack="test", config={}).export()


def test_one_credential_per_service_account_with_derived_subject(identity_plan):
    creds = [
        r for r in identity_plan["resources"] if r["type"].endswith("FederatedIdentityCredential")
    ]
    sas = [
        r for r in identity_plan["resources"] if r["type"] == "kubernetes:core/v1:ServiceAccount"
    ]
    (uai,) = [r for r in identity_plan["resources"] if r["type"].endswith("UserAssignedIdentity")]
    assert {c["inputs"]["subject"] for c in creds} == {
        f"system:serviceaccount:data:{s['inputs']['metadata']['name']}" for s in sas
    }
    for c in creds:
        assert c["inputs"]["audiences"] == [FEDERATED_AUDIENCE]
        assert c["inputs"]["issuer"] == "https://issuer.example/abc/"
    for sa in sas:
        # The client id is computed by Azure: unknown in the plan, but wired to the identity.
        assert sa["inputs"]["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == "[unknown]"
        assert uai["urn"] in sa["propertyDependencies"]["metadata"]
        assert sa["inputs"]["automountServiceAccountToken"] is (
            sa["inputs"]["metadata"]["name"] == "etl-api"
        )


def test_credentials_are_chained(identity_plan):
    creds = [
        r for r in identity_plan["resources"] if r["type"].endswith("FederatedIdentityCredential")
    ]
    urns = [c["urn"] for c in creds]
    # Each credential after the first depends on the one before (azure-native #4343).
    chained = sum(1 for c in creds if any(u in c["dependencies"] for u in urns if u != c["urn"]))
    assert chained == len(creds) - 1


def test_role_assignment_scoped_to_resource(identity_plan):
    (ra,) = [r for r in identity_plan["resources"] if r["type"].endswith("RoleAssignment")]
    assert ra["inputs"]["scope"] == VAULT
    assert ra["inputs"]["roleDefinitionId"].endswith(BUILTIN_ROLES["Key Vault Secrets User"])
    assert ra["inputs"]["principalType"] == "ServicePrincipal"


def test_invalid_service_account_is_refused():
    def bad():
        WorkloadIdentity(
            "bad",
            {
                "resource_group_name": "rg",
                "location": "westeurope",
                "identity_name": "id",
                "oidc_issuer_url": "x",
                "namespace": "data",
                "service_accounts": ["Not_Valid"],
            },
        )

    with pytest.raises(Exception, match="Not_Valid"):
        plan.run(bad, stack="test", config={})


def test_subscription_scope_fails_the_deployment():
    def bad():
        role_assignment(
            "wide", principal_id="p", role="Key Vault Secrets User", scope="/subscriptions/s1"
        )

    with pytest.raises(Exception, match="subscription-wide"):
        plan.run(bad, stack="test", config={})
