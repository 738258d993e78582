"""MetadataDatabase under mocks: dev-like and prod-like settings asserted by name."""

from __future__ import annotations

import pulumi
import pytest
from secrets_mocks import SUB, TENANT, Recorded, env_fixtures, is_secret, run

from airflow_aks.components.database import MetadataDatabase, MetadataDatabaseArgs
from airflow_aks.components.secrets import secret_expiry_epoch

RG = "rg-airflow-test"
VNET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet"
DB_SUBNET = VNET + "/subnets/postgres"
SERVER = "azure-native:dbforpostgresql:Server"

DEV: MetadataDatabaseArgs = {
    "resource_group_name": RG,
    "location": "westeurope",
    "server_name": "psql-airflow-dev",
    "tier": "Burstable",
    "sku_name": "Standard_B1ms",
    "backup_retention_days": 7,
    "geo_redundant_backup": False,
    "delegated_subnet_id": DB_SUBNET,
    "virtual_network_id": VNET,
    "key_vault_name": "kv-test",
    "secrets_issued_on": "2026-11-23",
    "secret_rotation_days": 90,
}
PROD: MetadataDatabaseArgs = {
    **DEV,
    "server_name": "psql-airflow-prod",
    "tier": "GeneralPurpose",
    "sku_name": "Standard_D2ds_v5",
    "storage_size_gb": 64,
    "backup_retention_days": 35,
    "high_availability": "ZoneRedundant",
    "geo_redundant_backup": None,
    "availability_zone": "1",
    "entra_admins": {
        "ops": {"object_id": "oid-ops", "principal_name": "airflow-ops", "principal_type": "Group"}
    },
    "protect": True,
}


def _plan(args: MetadataDatabaseArgs) -> Recorded:
    def program() -> None:
        db = MetadataDatabase("db", args)
        pulumi.export("fqdn", db.fqdn)
        pulumi.export("server", db.server_name)
        pulumi.export("secrets", db.secret_names)

    return run(program)


dev, prod = env_fixtures(_plan, DEV, PROD)


@pytest.mark.parametrize(
    ("env", "sku", "tier", "ha", "retention", "geo", "protect"),
    [
        ("dev", "Standard_B1ms", "Burstable", "Disabled", 7, "Disabled", False),
        ("prod", "Standard_D2ds_v5", "GeneralPurpose", "ZoneRedundant", 35, "Enabled", True),
    ],
)
def test_server_settings(
    request: pytest.FixtureRequest,
    env: str,
    sku: str,
    tier: str,
    ha: str,
    retention: int,
    geo: str,
    protect: bool,
) -> None:
    plan: Recorded = request.getfixturevalue(env)
    server = plan.by_name("db", SERVER)
    i = server.inputs
    assert server.protect is protect, server.urn
    assert i["version"] == "16"
    assert i["sku"] == {"name": sku, "tier": tier}
    assert i["highAvailability"] == {"mode": ha}
    assert i["backup"] == {"backupRetentionDays": retention, "geoRedundantBackup": geo}
    assert i["storage"]["autoGrow"] == "Enabled"
    assert i["administratorLogin"] == "airflowadmin"
    assert i["authConfig"] == {
        "activeDirectoryAuth": "Enabled",
        "passwordAuth": "Enabled",
        "tenantId": TENANT,
    }
    net = i["network"]
    assert net["publicNetworkAccess"] == "Disabled"
    assert net["delegatedSubnetResourceId"] == DB_SUBNET
    assert net["privateDnsZoneArmResourceId"].endswith(
        f"/privateDnsZones/{i['serverName']}.private.postgres.database.azure.com"
    )
    # The admin password reaches the server only as a secret.
    assert is_secret(server.raw["administratorLoginPassword"]), server.urn


def test_prod_zone_and_entra_admin(prod: Recorded, dev: Recorded) -> None:
    assert prod.by_name("db", SERVER).inputs["availabilityZone"] == "1"
    # The SDK sends "" (no preference) when no zone is given.
    assert dev.by_name("db", SERVER).inputs["availabilityZone"] == ""
    admin = prod.by_name("db-entra-ops")
    assert admin.type == "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra"
    assert admin.inputs["objectId"] == "oid-ops"
    assert admin.inputs["principalType"] == "Group"
    assert admin.inputs["tenantId"] == TENANT
    assert not dev.of_type("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")


def test_private_dns_zone_linked_to_vnet(dev: Recorded) -> None:
    zone = dev.by_name("db-dns")
    assert zone.inputs["privateZoneName"] == "psql-airflow-dev.private.postgres.database.azure.com"
    assert zone.inputs["location"] == "global"
    link = dev.by_name("db-dns-link")
    assert link.inputs["virtualNetwork"] == {"id": VNET}
    # The server waits for the link, or its private DNS registration fails.
    assert link.urn in dev.by_name("db", SERVER).dependencies


def test_tls_required_and_parameters_chained(dev: Recorded) -> None:
    tls = dev.by_name("db-require-secure-transport")
    assert tls.inputs["configurationName"] == "require_secure_transport"
    assert tls.inputs["value"] == "on"
    assert tls.inputs["source"] == "user-override"
    ver = dev.by_name("db-ssl-min-protocol-version")
    assert ver.inputs["value"] == "TLSv1.2"
    assert tls.urn in ver.dependencies  # no concurrent parameter updates


def test_airflow_database(dev: Recorded) -> None:
    db = dev.by_name("db-airflow")
    assert db.type == "azure-native:dbforpostgresql:Database"
    assert db.inputs["databaseName"] == "airflow"
    assert db.inputs["charset"] == "UTF8"


def test_admin_password_generated_by_pulumi_random(dev: Recorded) -> None:
    pw = dev.by_name("db-admin-password")
    assert pw.type == "random:index/randomPassword:RandomPassword"
    assert pw.inputs["length"] == 32
    assert pw.inputs["overrideSpecial"] == "-_.~"
    assert pw.inputs["keepers"] == {"issuedOn": "2026-11-23"}


def test_credentials_land_in_key_vault_as_secrets(dev: Recorded) -> None:
    password = dev.random_outputs["db-admin-password"]["result"]
    expires = secret_expiry_epoch("2026-11-23", 90)
    conn = dev.by_name("db-airflow-metadata-connection")
    assert conn.type == "azure-native:keyvault:Secret"
    assert conn.inputs["secretName"] == "airflow-metadata-connection"
    assert conn.inputs["vaultName"] == "kv-test"
    assert is_secret(conn.raw["properties"]["value"])
    assert conn.inputs["properties"]["value"] == (
        f"postgresql://airflowadmin:{password}@psql-airflow-dev.postgres.database.azure.com:5432"
        "/airflow?sslmode=require"
    )
    assert conn.inputs["properties"]["attributes"] == {"enabled": True, "expires": expires}
    assert conn.inputs["properties"]["contentType"]
    admin = dev.by_name("db-postgres-admin-password")
    assert is_secret(admin.raw["properties"]["value"])
    assert admin.inputs["properties"]["value"] == password
    # Written only once the database exists.
    assert dev.by_name("db-airflow").urn in conn.dependencies


def test_outputs_are_names_only(dev: Recorded) -> None:
    # Exported in the clear (a secret would show as "[secret]").
    assert dev.outputs["fqdn"] == "psql-airflow-dev.postgres.database.azure.com"
    assert dev.outputs["server"] == "psql-airflow-dev"
    assert dev.outputs["secrets"] == {
        "admin_password": "postgres-admin-password",
        "connection": "airflow-metadata-connection",
    }


def test_public_access_variant() -> None:
    args: MetadataDatabaseArgs = {**DEV}
    args.pop("delegated_subnet_id")
    plan = _plan(args)
    assert plan.by_name("db", SERVER).inputs["network"] == {"publicNetworkAccess": "Enabled"}
    assert not plan.of_type("azure-native:privatedns:PrivateZone")


def test_burstable_with_ha_registers_nothing() -> None:
    args: MetadataDatabaseArgs = {**DEV, "high_availability": "ZoneRedundant"}
    with pytest.raises(Exception, match="Burstable"):
        _plan(args)
