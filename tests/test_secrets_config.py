"""Config sections keyVault / database / storage: defaults, validators, environment rules."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from airflow_aks.config.base import deep_merge
from airflow_aks.config.secrets import (
    PROD_PROFILE,
    DatabaseConfig,
    KeyVaultConfig,
    StorageConfig,
    environment_issues,
)


def test_defaults_are_safe_and_cheap() -> None:
    kv, db, st = KeyVaultConfig(), DatabaseConfig(), StorageConfig()
    assert kv.purge_protection is True and kv.soft_delete_retention_days == 90
    assert kv.secrets_issued_on == date(2026, 11, 23) and kv.secret_rotation_days == 180
    assert kv.effective_public_network_access == "Enabled"
    assert db.version == "16" and db.sku_name == "Standard_B1ms" and db.tier == "Burstable"
    assert db.backup_retention_days == 7 and db.private_access and db.entra_auth
    assert db.database_name == "airflow"
    assert st.container_name == "airflow-logs" and st.log_retention_days == 30


def test_camel_case_keys() -> None:
    kv = KeyVaultConfig.model_validate(
        {
            "purgeProtection": False,
            "purgeProtectionOptOutReason": "throwaway dev vault, recreated daily",
        }
    )
    assert kv.purge_protection is False
    db = DatabaseConfig.model_validate({"backupRetentionDays": 35})
    assert db.backup_retention_days == 35
    assert StorageConfig.model_validate({"logRetentionDays": 1}).log_retention_days == 1


def test_prod_profile_validates() -> None:
    kv = KeyVaultConfig.model_validate(PROD_PROFILE["keyVault"])
    db = DatabaseConfig.model_validate(PROD_PROFILE["database"])
    st = StorageConfig.model_validate(PROD_PROFILE["storage"])
    assert db.tier == "GeneralPurpose" and db.high_availability == "ZoneRedundant"
    assert db.backup_retention_days == 35 and db.geo_redundant_backup == "auto"
    assert st.sku_name == "Standard_ZRS"
    assert kv.private_endpoint and kv.effective_public_network_access == "Disabled"
    assert environment_issues("prod", kv, db, st) == []


def test_private_endpoint_switches_public_access_off() -> None:
    kv = KeyVaultConfig.model_validate({"privateEndpoint": True})
    assert kv.effective_public_network_access == "Disabled"


@pytest.mark.parametrize(
    ("model", "data", "match"),
    [
        (KeyVaultConfig, {"purgeProtection": False}, "purgeProtectionOptOutReason"),
        (
            KeyVaultConfig,
            {"purgeProtection": False, "purgeProtectionOptOutReason": "x"},
            "real reason",
        ),
        (
            KeyVaultConfig,
            {"purgeProtectionOptOutReason": "a good long reason"},
            "purgeProtection is true",
        ),
        (KeyVaultConfig, {"softDeleteRetentionDays": 6}, "greater than or equal to 7"),
        (KeyVaultConfig, {"softDeleteRetentionDays": 91}, "less than or equal to 90"),
        (KeyVaultConfig, {"secretRotationDays": 0}, "greater than or equal to 1"),
        (KeyVaultConfig, {"privateEndpoint": True, "publicNetworkAccess": "Enabled"}, "defeats"),
        (KeyVaultConfig, {"sku": "gold"}, "standard"),
        (KeyVaultConfig, {"purgeProtecton": True}, "Extra inputs"),
        (DatabaseConfig, {"backupRetentionDays": 6}, "greater than or equal to 7"),
        (DatabaseConfig, {"backupRetentionDays": 36}, "less than or equal to 35"),
        (DatabaseConfig, {"skuName": "B1ms"}, "not a VM SKU"),
        (DatabaseConfig, {"skuName": "Standard_D2ds_v5"}, "does not belong to tier Burstable"),
        (DatabaseConfig, {"highAvailability": "ZoneRedundant"}, "GeneralPurpose"),
        (DatabaseConfig, {"administratorLogin": "admin"}, "reserved"),
        (DatabaseConfig, {"administratorLogin": "pg_owner"}, "reserved"),
        (DatabaseConfig, {"administratorLogin": "Air-Flow"}, "identifier"),
        (DatabaseConfig, {"databaseName": "air flow"}, "identifier"),
        (DatabaseConfig, {"version": "12"}, "'16'"),
        (DatabaseConfig, {"storageSizeGb": 33}, "32"),
        (StorageConfig, {"logRetentionDays": 0}, "greater than or equal to 1"),
        (StorageConfig, {"containerName": "Airflow_Logs"}, "container name"),
        (StorageConfig, {"skuName": "Premium_LRS"}, "Standard_LRS"),
    ],
)
def test_invalid(model: type, data: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        model.model_validate(data)


def test_purge_protection_opt_out_refused_in_prod_allowed_in_dev() -> None:
    kv = KeyVaultConfig.model_validate(
        {"purgeProtection": False, "purgeProtectionOptOutReason": "ephemeral dev vault, recreated"}
    )
    db, st = DatabaseConfig(), StorageConfig()
    assert environment_issues("dev", kv, db, st) == []
    prod_db = DatabaseConfig.model_validate(PROD_PROFILE["database"])
    prod_st = StorageConfig.model_validate(PROD_PROFILE["storage"])
    issues = environment_issues("prod", kv, prod_db, prod_st)
    assert issues == [
        ("keyVault.purgeProtection", "purge protection cannot be opted out of in prod")
    ]


def test_prod_refuses_burstable_and_public_database() -> None:
    db = DatabaseConfig.model_validate({"privateAccess": False})
    paths = [p for p, _ in environment_issues("prod", KeyVaultConfig(), db, StorageConfig())]
    # StorageConfig() is the dev default: no blob private endpoint, refused in prod too.
    assert paths == ["database.privateAccess", "storage.privateEndpoint", "database.tier"]


def test_stack_value_overrides_profile() -> None:
    merged = deep_merge(PROD_PROFILE["database"], {"backupRetentionDays": 14})
    assert DatabaseConfig.model_validate(merged).backup_retention_days == 14
