"""The Vault component and SecretProviderClass creation under mocks, dev-like and prod-like."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest
import yaml
from secrets_mocks import SUB, TENANT, Recorded, env_fixtures, is_secret, run

from airflow_aks.components.identity import WorkloadIdentity
from airflow_aks.components.naming import CLIENT_ID_ANNOTATION
from airflow_aks.components.secrets import (
    Vault,
    VaultArgs,
    create_secret_provider_class,
    secret_expiry_epoch,
    secret_provider_class,
)

RG = "rg-airflow-test"
AKS_SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
    "/virtualNetworks/vnet/subnets/aks"
)
PE_SUBNET = AKS_SUBNET.replace("/aks", "/endpoints")
VNET = AKS_SUBNET.rsplit("/subnets/", 1)[0]
WORKSPACE = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights"
    "/workspaces/log"
)
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-test"
VAULT = "azure-native:keyvault:Vault"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

DEV: VaultArgs = {
    "resource_group_name": RG,
    "location": "westeurope",
    "vault_name": "kv-test",
    "purge_protection": False,
    "soft_delete_retention_days": 7,
    "allowed_subnet_ids": [AKS_SUBNET],
    "secrets_issued_on": "2026-11-23",
    "secret_rotation_days": 90,
}
PROD: VaultArgs = {
    "resource_group_name": RG,
    "location": "westeurope",
    "vault_name": "kv-test",
    "purge_protection": True,
    "allowed_subnet_ids": [AKS_SUBNET],
    "allowed_ip_ranges": ["203.0.113.0/24"],
    "private_endpoint_subnet_id": PE_SUBNET,
    "virtual_network_id": VNET,
    "log_analytics_workspace_id": WORKSPACE,
    "readers": {"airflow": "principal-airflow"},
    "protect": True,
    "secrets_issued_on": "2026-11-23",
    "secret_rotation_days": 180,
}


def _plan(args: VaultArgs) -> Recorded:
    def program() -> None:
        vault = Vault("kv", args)
        vault.grant_reader("tasks", "principal-tasks", secret_name="airflow-fernet-key")
        pulumi.export("uri", vault.vault_uri)
        pulumi.export("name", vault.vault_name)
        pulumi.export("id", vault.vault_id)
        pulumi.export("tenant", vault.tenant_id)

    return run(program)


dev, prod = env_fixtures(_plan, DEV, PROD)


@pytest.mark.parametrize(
    ("env", "purge", "retention", "access", "protect"),
    [("dev", None, 7, "Enabled", False), ("prod", True, 90, "Disabled", True)],
)
def test_vault_settings(
    request: pytest.FixtureRequest,
    env: str,
    purge: bool | None,
    retention: int,
    access: str,
    protect: bool,
) -> None:
    plan: Recorded = request.getfixturevalue(env)
    vault = plan.by_name("kv", VAULT)
    assert vault.protect is protect, vault.urn
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True, vault.urn
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == retention
    assert props.get("enablePurgeProtection") is purge
    assert props["publicNetworkAccess"] == access
    assert props["tenantId"] == TENANT
    acls = props["networkAcls"]
    assert acls["defaultAction"] == "Deny"
    assert acls["bypass"] == "AzureServices"
    assert acls["virtualNetworkRules"] == [
        {"id": AKS_SUBNET, "ignoreMissingVnetServiceEndpoint": False}
    ]
    assert vault.inputs["vaultName"] == "kv-test"


def test_every_child_is_parented_to_the_component(prod: Recorded) -> None:
    component = plan_component(prod)
    for reg in prod.regs:
        if reg is not component:
            assert reg.parent == component.urn, reg.urn


def plan_component(plan: Recorded) -> Any:
    (component,) = plan.of_type("airflow-aks:index:Vault")
    return component


@pytest.mark.parametrize(("env", "days"), [("dev", 90), ("prod", 180)])
def test_generated_secrets(request: pytest.FixtureRequest, env: str, days: int) -> None:
    plan: Recorded = request.getfixturevalue(env)
    secrets = {r.inputs["secretName"]: r for r in plan.of_type("azure-native:keyvault:Secret")}
    assert set(secrets) == {"airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret"}
    expires = secret_expiry_epoch("2026-11-23", days)
    for name, reg in secrets.items():
        props = reg.inputs["properties"]
        assert props["contentType"].startswith("text/plain"), name
        assert props["attributes"] == {"enabled": True, "expires": expires}, name
        assert reg.inputs["vaultName"] == "kv-test"
        # The value travels as a secret even though the mock returned it unmarked.
        assert is_secret(reg.raw["properties"]["value"]), f"{reg.urn}: value not secret"


def test_fernet_key_comes_from_32_random_bytes_url_safe(dev: Recorded) -> None:
    rb = dev.by_name("kv-fernet")
    assert rb.type == "random:index/randomBytes:RandomBytes"
    assert rb.inputs["length"] == 32
    key = dev.by_name("kv-airflow-fernet-key").inputs["properties"]["value"]
    raw = base64.b64decode(dev.random_outputs["kv-fernet"]["base64"])
    assert base64.urlsafe_b64decode(key) == raw
    assert "+" not in key and "/" not in key


def test_passwords_rotate_with_the_anchor(dev: Recorded) -> None:
    for name in ("kv-api-secret-key", "kv-jwt-secret"):
        pw = dev.by_name(name)
        assert pw.type == "random:index/randomPassword:RandomPassword"
        assert pw.inputs["length"] == 64
        assert pw.inputs["keepers"] == {"issuedOn": "2026-11-23"}
    # Rotating the fernet key re-encrypts stored data: it is deliberately not keyed.
    assert "keepers" not in dev.by_name("kv-fernet").inputs


def test_audit_logs_to_workspace(prod: Recorded, dev: Recorded) -> None:
    diag = prod.by_name("kv-audit")
    assert diag.type == "azure-native:monitor:DiagnosticSetting"
    assert diag.inputs["workspaceId"] == WORKSPACE
    assert diag.inputs["resourceUri"] == VAULT_ID
    assert {"category": "AuditEvent", "enabled": True} in diag.inputs["logs"]
    assert not dev.of_type("azure-native:monitor:DiagnosticSetting")


def test_private_endpoint(prod: Recorded, dev: Recorded) -> None:
    pe = prod.by_name("kv-pe")
    assert pe.inputs["subnet"] == {"id": PE_SUBNET}
    (conn,) = pe.inputs["privateLinkServiceConnections"]
    assert conn["privateLinkServiceId"] == VAULT_ID and conn["groupIds"] == ["vault"]
    zone = prod.by_name("kv-dns")
    assert zone.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    link = prod.by_name("kv-dns-link")
    assert link.inputs["virtualNetwork"] == {"id": VNET}
    assert link.inputs["registrationEnabled"] is False
    group = prod.by_name("kv-pe-dns")
    assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"].endswith(
        "/privateDnsZones/privatelink.vaultcore.azure.net"
    )
    assert prod.by_name("kv", VAULT).inputs["properties"]["networkAcls"]["ipRules"] == [
        {"value": "203.0.113.0/24"}
    ]
    assert not dev.of_type("azure-native:network:PrivateEndpoint")


def test_readers_get_secrets_user_on_vault_or_secret(prod: Recorded) -> None:
    vault_reader = prod.by_name("kv-reader-airflow")
    assert vault_reader.inputs["scope"] == VAULT_ID
    assert vault_reader.inputs["principalId"] == "principal-airflow"
    assert vault_reader.inputs["principalType"] == "ServicePrincipal"
    assert vault_reader.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"
    )
    secret_reader = prod.by_name("kv-reader-tasks-airflow-fernet-key")
    assert secret_reader.inputs["scope"] == VAULT_ID + "/secrets/airflow-fernet-key"
    assert secret_reader.inputs["roleDefinitionId"].endswith(SECRETS_USER)


def test_outputs_are_names_and_uris_only(prod: Recorded) -> None:
    # Exported in the clear (a secret would show as "[secret]").
    assert prod.outputs["uri"] == "https://kv-test.vault.azure.net/"
    assert prod.outputs["name"] == "kv-test"
    assert prod.outputs["id"] == VAULT_ID
    assert prod.outputs["tenant"] == TENANT


def test_private_endpoint_needs_vnet() -> None:
    args: VaultArgs = {**DEV, "private_endpoint_subnet_id": PE_SUBNET}
    with pytest.raises(Exception, match="virtual_network_id"):
        run(lambda: Vault("kv", args) and None)


def test_secret_provider_class_matches_consumer_identity() -> None:
    def program() -> None:
        vault = Vault("kv", DEV)
        identity = WorkloadIdentity(
            "airflow",
            {
                "resource_group_name": RG,
                "location": "westeurope",
                "identity_name": "id-airflow",
                "oidc_issuer_url": "https://issuer.example/",
                "namespace": "airflow",
                "service_accounts": ["airflow-scheduler"],
            },
        )
        create_secret_provider_class(
            "airflow-spc",
            secret_provider_class(
                name="airflow-secrets",
                namespace="airflow",
                client_id=identity.client_id,
                keyvault_name=vault.vault_name,
                tenant_id=vault.tenant_id,
                objects=[("airflow-fernet-key", "fernet-key")],
                sync_to_secret={
                    "secret_name": "airflow-fernet-key",
                    "data": {"fernet-key": "fernet-key"},
                },
            ),
        )

    plan = run(program)
    spc = plan.by_name("airflow-spc")
    assert spc.type == "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
    params = spc.inputs["spec"]["parameters"]
    sa = plan.by_name("airflow-airflow-scheduler", "kubernetes:core/v1:ServiceAccount")
    client_id = sa.inputs["metadata"]["annotations"][CLIENT_ID_ANNOTATION]
    assert params["clientID"] == client_id == "client-airflow"
    assert params["keyvaultName"] == "kv-test"
    assert params["tenantId"] == TENANT
    objects = [yaml.safe_load(o) for o in yaml.safe_load(params["objects"])["array"]]
    assert objects == [
        {"objectName": "airflow-fernet-key", "objectType": "secret", "objectAlias": "fernet-key"}
    ]
    assert spc.inputs["spec"]["secretObjects"][0]["secretName"] == "airflow-fernet-key"
    assert spc.inputs["metadata"] == {"name": "airflow-secrets", "namespace": "airflow"}
