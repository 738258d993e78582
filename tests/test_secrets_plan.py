"""Secrets and state in the offline plans of the shipped stacks (vault, database, storage)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import by_type

RG_SCOPE = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/?$", re.IGNORECASE)
STATE_TYPES = (
    "azure-native:keyvault:Vault",
    "azure-native:dbforpostgresql:Server",
    "azure-native:storage:StorageAccount",
)


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("prod", True)])
def test_state_is_protected_in_prod_only(
    request: pytest.FixtureRequest, stack: str, protected: bool
) -> None:
    export: dict[str, Any] = request.getfixturevalue(f"{stack}_plan")
    for typ in STATE_TYPES:
        (res,) = by_type(export, typ)
        assert res["protect"] is protected, res["urn"]


def test_prod_plan_shows_vault_secrets_database_storage(prod_plan: dict[str, Any]) -> None:
    (vault,) = by_type(prod_plan, "azure-native:keyvault:Vault")
    props = vault["inputs"]["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["publicNetworkAccess"] == "Disabled"  # private endpoint in prod
    groups = sorted(
        pe["inputs"]["privateLinkServiceConnections"][0]["groupIds"][0]
        for pe in by_type(prod_plan, "azure-native:network:PrivateEndpoint")
    )
    assert groups == ["blob", "vault"]  # the vault and the log storage, private in prod
    (diag,) = [
        d
        for d in by_type(prod_plan, "azure-native:monitor:DiagnosticSetting")
        if d["inputs"].get("resourceUri") == vault_id(vault)
    ]
    assert {"category": "AuditEvent", "enabled": True} in diag["inputs"]["logs"]

    secrets = {
        s["inputs"]["secretName"]: s for s in by_type(prod_plan, "azure-native:keyvault:Secret")
    }
    assert set(secrets) >= {
        "airflow-fernet-key",
        "airflow-api-secret-key",
        "airflow-jwt-secret",
        "postgres-admin-password",
        "airflow-metadata-connection",
    }
    for s in secrets.values():
        assert s["inputs"]["properties"]["value"] == "[secret]"
        assert s["inputs"]["properties"]["contentType"]
        assert isinstance(s["inputs"]["properties"]["attributes"]["expires"], int)

    (server,) = by_type(prod_plan, "azure-native:dbforpostgresql:Server")
    i = server["inputs"]
    assert i["version"] == "16"
    assert i["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert i["highAvailability"]["mode"] == "ZoneRedundant"
    assert i["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert i["network"]["publicNetworkAccess"] == "Disabled"
    (database,) = by_type(prod_plan, "azure-native:dbforpostgresql:Database")
    assert database["inputs"]["databaseName"] == "airflow"

    (account,) = by_type(prod_plan, "azure-native:storage:StorageAccount")
    assert account["inputs"]["allowSharedKeyAccess"] is False
    # the log container (data domains add their own, tested in test_domains.py)
    (container,) = [
        c
        for c in by_type(prod_plan, "azure-native:storage:BlobContainer")
        if "DataDomain" not in c["urn"]
    ]
    assert container["inputs"]["containerName"] == "airflow-logs"
    (policy,) = by_type(prod_plan, "azure-native:storage:ManagementPolicy")
    assert policy["inputs"]["policy"]["rules"][0]["definition"]["filters"]["prefixMatch"] == [
        "airflow-logs/"
    ]


def vault_id(vault: dict[str, Any]) -> str:
    i = vault["inputs"]
    return (
        f"/subscriptions/[unknown]/resourceGroups/{i['resourceGroupName']}"
        f"/providers/Microsoft.KeyVault/vaults/{i['vaultName']}"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_role_assignments_scoped_below_resource_group(
    request: pytest.FixtureRequest, stack: str
) -> None:
    export: dict[str, Any] = request.getfixturevalue(f"{stack}_plan")
    grants = by_type(export, "azure-native:authorization:RoleAssignment")
    scopes = {g["inputs"]["roleDefinitionId"][-36:]: [] for g in grants}
    for g in grants:
        scope = g["inputs"]["scope"]
        assert scope.startswith("/subscriptions/") and not RG_SCOPE.match(scope), g["urn"]
        scopes[g["inputs"]["roleDefinitionId"][-36:]].append(scope)
    # Key Vault Secrets User on the vault, Blob Data Contributor on the log container.
    kv_user, blob = "4633458b-17de-408a-b874-0445c86b69e6", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    assert scopes.get(kv_user), "no Key Vault Secrets User grant in the plan"
    assert all("/providers/Microsoft.KeyVault/vaults/" in s for s in scopes[kv_user])
    assert scopes.get(blob), "no Storage Blob Data Contributor grant in the plan"
    # (data-domain grants, on their own containers, are tested in test_domains.py)
    platform = [
        g["inputs"]["scope"]
        for g in grants
        if g["inputs"]["roleDefinitionId"].endswith(blob) and "DataDomain" not in g["urn"]
    ]
    assert platform and all(
        s.endswith("/blobServices/default/containers/airflow-logs") for s in platform
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_outputs_are_names_and_uris(request: pytest.FixtureRequest, stack: str) -> None:
    outputs = request.getfixturevalue(f"{stack}_plan")["outputs"]
    assert outputs["keyVaultUri"].startswith("https://kv-")
    assert outputs["postgresFqdn"].endswith(".postgres.database.azure.com")
    assert outputs["logContainer"] == "airflow-logs"
    assert "airflow-metadata-connection" in outputs["keyVaultSecretNames"]
