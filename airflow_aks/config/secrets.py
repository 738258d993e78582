"""Config sections for secrets and state: ``keyVault``, ``database`` and ``storage``.

Defaults are the cheap, dev-like profile; :data:`PROD_PROFILE` holds the production
overrides the stack config merges under an environment's own keys. Environment-dependent
rules (no purge-protection opt-out in prod) live in :func:`environment_issues`, which the
aggregating ``StackConfig`` calls once it knows the environment.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from airflow_aks.components.secrets import DEFAULT_SECRETS_ISSUED_ON

from .base import StrictModel, UniqueStrs, problems_error
from .kinds import guid_problem, ip_or_cidr_problem

# Azure Database for PostgreSQL reserves these administrator logins.
_RESERVED_PG_LOGINS = frozenset(
    {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"}
)
_PG_SKU = re.compile(r"^Standard_[A-Z]\d+[a-z]*(_v\d+)?$")
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_PG_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class KeyVaultConfig(StrictModel):
    """``airflow-aks:keyVault``: the vault that holds every generated credential."""

    sku: Literal["standard", "premium"] = "standard"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    purge_protection: bool = True
    """Purge protection cannot be turned off again once on; dev may opt out with a reason."""
    purge_protection_opt_out_reason: str | None = None
    random_name_suffix: bool = False
    """A random 4-character name suffix kept in state (dev): a destroyed stack's vault stays
    soft-deleted under its old name, the recreated stack uses a new one."""
    private_endpoint: bool = False
    """Reach the vault through a private endpoint (and ``privatelink.vaultcore.azure.net``)."""
    public_network_access: Literal["Enabled", "Disabled"] | None = None
    """Default: ``Disabled`` with a private endpoint, else ``Enabled`` behind a Deny ACL."""
    allowed_ip_ranges: UniqueStrs = Field(default_factory=list)
    """Extra CIDRs allowed through the vault firewall (operators); the AKS subnet always is."""
    secret_rotation_days: int = Field(default=180, ge=1, le=730)
    """Validity of each generated secret, counted from ``secretsIssuedOn``."""
    secrets_issued_on: date = date.fromisoformat(DEFAULT_SECRETS_ISSUED_ON)
    """Rotation anchor. Bumping it regenerates every secret and moves every expiry: a
    plan is reproducible because nothing depends on the wall clock. Checked 2026-11-23."""

    @field_validator("allowed_ip_ranges")
    @classmethod
    def _ip_rules(cls, v: list[str]) -> list[str]:
        if problems := [p for r in v if (p := ip_or_cidr_problem(r))]:
            raise problems_error(problems)
        return v

    @field_validator("purge_protection_opt_out_reason")
    @classmethod
    def _reason_not_blank(cls, v: str | None) -> str | None:
        if v is not None and len(v.strip()) < 10:
            raise ValueError("give a real reason (at least 10 characters) or remove the key")
        return v

    @model_validator(mode="after")
    def _opt_out_needs_reason(self) -> KeyVaultConfig:
        if not self.purge_protection and not self.purge_protection_opt_out_reason:
            raise ValueError(
                "purgeProtection: false requires purgeProtectionOptOutReason "
                "(why this vault may be purged)"
            )
        if self.purge_protection and self.purge_protection_opt_out_reason:
            raise ValueError("purgeProtectionOptOutReason is set but purgeProtection is true")
        if self.private_endpoint and self.public_network_access == "Enabled":
            raise ValueError("privateEndpoint: true with publicNetworkAccess: Enabled defeats it")
        return self

    @property
    def effective_public_network_access(self) -> str:
        if self.public_network_access:
            return self.public_network_access
        return "Disabled" if self.private_endpoint else "Enabled"


class DatabaseConfig(StrictModel):
    """``airflow-aks:database``: the Airflow metadata database (PostgreSQL flexible server)."""

    version: Literal["16", "17"] = "16"
    sku_name: str = "Standard_B1ms"
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = "Burstable"
    storage_size_gb: Literal[32, 64, 128, 256, 512, 1024, 2048, 4096] = 32
    backup_retention_days: int = Field(default=7, ge=7, le=35)
    high_availability: Literal["Disabled", "ZoneRedundant", "SameZone"] = "Disabled"
    geo_redundant_backup: Literal["auto", "Enabled", "Disabled"] = "Disabled"
    """``auto``: on when the region has a pair (geo-backup cannot be added later)."""
    private_access: bool = True
    """Delegated subnet + private DNS zone; False means a public endpoint (not for prod)."""
    administrator_login: str = "airflowadmin"
    database_name: str = "airflow"
    entra_auth: bool = True
    entra_admin_group_object_id: str | None = None
    """Entra group made PostgreSQL administrator (Entra auth needs one, else nobody can sign
    in with Entra). Default: the first ``aks.adminGroupObjectIds`` entry."""
    entra_admin_group_name: str | None = None
    """Its display name (the PostgreSQL role name); default: looked up in Entra ID."""

    @field_validator("entra_admin_group_object_id")
    @classmethod
    def _admin_group(cls, v: str | None) -> str | None:
        if v is not None and (problem := guid_problem(v, "group object id")):
            raise ValueError(problem)
        return v

    @field_validator("sku_name")
    @classmethod
    def _sku_shape(cls, v: str) -> str:
        if not _PG_SKU.match(v):
            raise ValueError(f"{v!r} is not a VM SKU name like Standard_B1ms or Standard_D2ds_v5")
        return v

    @field_validator("administrator_login")
    @classmethod
    def _login(cls, v: str) -> str:
        if v.lower() in _RESERVED_PG_LOGINS or v.lower().startswith("pg_"):
            raise ValueError(f"{v!r} is reserved by Azure Database for PostgreSQL")
        if not _PG_IDENT.match(v):
            raise ValueError(f"{v!r} must be a lower-case PostgreSQL identifier")
        return v

    @field_validator("database_name")
    @classmethod
    def _dbname(cls, v: str) -> str:
        if not _PG_IDENT.match(v):
            raise ValueError(f"{v!r} must be a lower-case PostgreSQL identifier")
        return v

    @model_validator(mode="after")
    def _tier_matches_sku(self) -> DatabaseConfig:
        family = self.sku_name.removeprefix("Standard_")[:1]
        expected = {"Burstable": "B", "GeneralPurpose": "D", "MemoryOptimized": "E"}[self.tier]
        if family != expected:
            raise ValueError(
                f"skuName {self.sku_name} does not belong to tier {self.tier} "
                f"(expected Standard_{expected}...)"
            )
        if self.tier == "Burstable" and self.high_availability != "Disabled":
            raise ValueError("highAvailability needs tier GeneralPurpose or MemoryOptimized")
        return self


class StorageConfig(StrictModel):
    """``airflow-aks:storage``: the Blob account for remote task logs."""

    sku_name: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"] = (
        "Standard_LRS"
    )
    container_name: str = "airflow-logs"
    log_retention_days: int = Field(default=30, ge=1, le=36500)
    """Blobs under the container older than this are deleted by a lifecycle rule."""
    private_endpoint: bool = False
    """A blob private endpoint (``privatelink.blob.core.windows.net``) and public network
    access off; on in prod."""

    @field_validator("container_name")
    @classmethod
    def _container(cls, v: str) -> str:
        if not _CONTAINER.match(v):
            raise ValueError(f"{v!r} is not a valid blob container name (3-63 a-z, 0-9, '-')")
        return v


# Overrides for environment == dev: recreatable after `pulumi destroy` at once: a new
# random name each time the stack is created, and the shortest soft-delete retention (7 days)
# so deleted dev vaults do not linger. Purge protection stays on.
DEV_PROFILE: dict[str, dict[str, Any]] = {
    "keyVault": {"randomNameSuffix": True, "softDeleteRetentionDays": 7},
}

# Overrides for environment == prod (deep-merged under the stack file's own values).
PROD_PROFILE: dict[str, dict[str, Any]] = {
    # Private endpoint: the CSI driver and tasks reach the vault through the VNet only.
    "keyVault": {
        "purgeProtection": True,
        "softDeleteRetentionDays": 90,
        "privateEndpoint": True,
        "randomNameSuffix": False,  # deterministic: recover with `az keyvault recover`
    },
    "database": {
        "skuName": "Standard_D2ds_v5",
        "tier": "GeneralPurpose",
        "storageSizeGb": 64,
        "backupRetentionDays": 35,
        "highAvailability": "ZoneRedundant",
        "geoRedundantBackup": "auto",
    },
    # Private endpoint + public access off, like the vault (policy storage-private-in-production).
    "storage": {"skuName": "Standard_ZRS", "logRetentionDays": 90, "privateEndpoint": True},
}


def environment_issues(
    environment: str,
    keyvault: KeyVaultConfig,
    database: DatabaseConfig,
    storage: StorageConfig,
) -> list[tuple[str, str]]:
    """Rules that depend on the environment, as ``(key path, message)`` pairs."""
    issues: list[tuple[str, str]] = []
    if environment == "prod":
        if not keyvault.purge_protection:
            issues.append(
                ("keyVault.purgeProtection", "purge protection cannot be opted out of in prod")
            )
        if not database.private_access:
            issues.append(("database.privateAccess", "prod requires private access"))
        if not storage.private_endpoint:
            issues.append(("storage.privateEndpoint", "prod requires the blob private endpoint"))
        if database.tier == "Burstable":
            issues.append(("database.tier", "prod requires GeneralPurpose or MemoryOptimized"))
    return issues
