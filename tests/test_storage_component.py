"""LogStorage: pure builders table-driven, and the component under mocks (dev and prod)."""

from __future__ import annotations

import pulumi
import pytest
from secrets_mocks import SUB, Recorded, env_fixtures, run

from airflow_aks.components.storage import (
    LogStorage,
    LogStorageArgs,
    account_network_rules,
    account_settings,
    blob_endpoint,
    container_scope,
    lifecycle_policy,
)

RG = "rg-airflow-test"
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage"
    "/storageAccounts/stairflowtest1"
)
AKS_SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
    "/virtualNetworks/vnet/subnets/aks"
)
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ACCOUNT = "azure-native:storage:StorageAccount"

# ---------------------------------------------------------------- pure


def test_account_settings_are_hardened() -> None:
    s = account_settings("stairflowtest1", "Standard_ZRS")
    assert s["kind"] == "StorageV2"
    assert s["sku"] == {"name": "Standard_ZRS"}
    assert s["allow_shared_key_access"] is False
    assert s["allow_blob_public_access"] is False
    assert s["enable_https_traffic_only"] is True
    assert s["minimum_tls_version"] == "TLS1_2"
    assert s["default_to_o_auth_authentication"] is True
    assert s["allow_cross_tenant_replication"] is False


@pytest.mark.parametrize("name", ["ab", "has-dash", "UPPER1234", "a" * 25])
def test_account_name_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="storage account name"):
        account_settings(name)


def test_network_rules() -> None:
    assert account_network_rules([AKS_SUBNET], ["203.0.113.7"]) == {
        "default_action": "Deny",
        "bypass": "AzureServices",
        "virtual_network_rules": [{"virtual_network_resource_id": AKS_SUBNET, "action": "Allow"}],
        "ip_rules": [{"ip_address_or_range": "203.0.113.7", "action": "Allow"}],
    }


@pytest.mark.parametrize(
    ("container", "days"), [("airflow-logs", 30), ("logs", 1), ("airflow-logs", 400)]
)
def test_lifecycle_policy(container: str, days: int) -> None:
    (rule,) = lifecycle_policy(container, days)["rules"]
    assert rule["enabled"] is True and rule["type"] == "Lifecycle"
    assert rule["definition"]["filters"]["prefix_match"] == [f"{container}/"]
    assert set(rule["definition"]["filters"]["blob_types"]) == {"blockBlob", "appendBlob"}
    assert rule["definition"]["actions"]["base_blob"]["delete"] == {
        "days_after_modification_greater_than": days
    }


@pytest.mark.parametrize(
    ("container", "days", "match"), [("airflow-logs", 0, "1 day"), ("Bad_", 3, "container")]
)
def test_lifecycle_policy_rejects(container: str, days: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lifecycle_policy(container, days)


def test_container_scope() -> None:
    assert container_scope(ACCOUNT_ID, "airflow-logs") == (
        ACCOUNT_ID + "/blobServices/default/containers/airflow-logs"
    )
    with pytest.raises(ValueError):
        container_scope(f"/subscriptions/{SUB}/resourceGroups/{RG}", "airflow-logs")


def test_endpoints() -> None:
    assert blob_endpoint("st1") == "https://st1.blob.core.windows.net/"


# ---------------------------------------------------------------- component

DEV: LogStorageArgs = {
    "resource_group_name": RG,
    "location": "westeurope",
    "account_name": "stairflowtest1",
    "sku_name": "Standard_LRS",
    "log_retention_days": 14,
    "allowed_subnet_ids": [AKS_SUBNET],
    "writers": {"airflow": "principal-airflow"},
}
PROD: LogStorageArgs = {
    **DEV,
    "sku_name": "Standard_ZRS",
    "log_retention_days": 90,
    "protect": True,
}


def _plan(args: LogStorageArgs) -> Recorded:
    def program() -> None:
        st = LogStorage("logs", args)
        pulumi.export("account", st.account_name)
        pulumi.export("container", st.container_name)
        pulumi.export("endpoint", st.blob_endpoint)
        pulumi.export("container_id", st.container_id)

    return run(program)


dev, prod = env_fixtures(_plan, DEV, PROD)


@pytest.mark.parametrize(
    ("env", "sku", "days", "protect"),
    [("dev", "Standard_LRS", 14, False), ("prod", "Standard_ZRS", 90, True)],
)
def test_component(
    request: pytest.FixtureRequest, env: str, sku: str, days: int, protect: bool
) -> None:
    plan: Recorded = request.getfixturevalue(env)
    account = plan.by_name("logs", ACCOUNT)
    i = account.inputs
    assert account.protect is protect, account.urn
    assert i["kind"] == "StorageV2" and i["sku"] == {"name": sku}
    assert i["allowSharedKeyAccess"] is False
    assert i["allowBlobPublicAccess"] is False
    assert i["minimumTlsVersion"] == "TLS1_2"
    assert i["enableHttpsTrafficOnly"] is True
    rules = i["networkRuleSet"]
    assert rules["defaultAction"] == "Deny" and rules["bypass"] == "AzureServices"
    assert rules["virtualNetworkRules"] == [
        {"virtualNetworkResourceId": AKS_SUBNET, "action": "Allow"}
    ]

    container = plan.by_name("logs-airflow-logs")
    assert container.type == "azure-native:storage:BlobContainer"
    assert container.inputs["containerName"] == "airflow-logs"
    assert container.inputs["publicAccess"] == "None"

    policy = plan.by_name("logs-lifecycle")
    assert policy.inputs["managementPolicyName"] == "default"
    (rule,) = policy.inputs["policy"]["rules"]
    assert rule["definition"]["filters"]["prefixMatch"] == ["airflow-logs/"]
    assert rule["definition"]["actions"]["baseBlob"]["delete"] == {
        "daysAfterModificationGreaterThan": days
    }

    grant = plan.by_name("logs-writer-airflow")
    assert grant.type == "azure-native:authorization:RoleAssignment"
    assert grant.inputs["scope"] == ACCOUNT_ID + "/blobServices/default/containers/airflow-logs"
    assert grant.inputs["principalId"] == "principal-airflow"
    assert grant.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_CONTRIBUTOR}"
    )

    (component,) = plan.of_type("airflow-aks:index:LogStorage")
    for reg in plan.regs:
        if reg is not component:
            assert reg.parent == component.urn, reg.urn


def test_outputs_are_names_and_uris(dev: Recorded) -> None:
    # Exported in the clear (a secret would show as "[secret]").
    assert dev.outputs["account"] == "stairflowtest1"
    assert dev.outputs["container"] == "airflow-logs"
    assert dev.outputs["endpoint"] == "https://stairflowtest1.blob.core.windows.net/"
    assert dev.outputs["container_id"].endswith("/containers/airflow-logs")
