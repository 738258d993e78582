"""Pure decisions of components/database.py, table-driven, no mocks."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from airflow_aks.components.database import (
    REGION_PAIRS,
    connection_uri,
    geo_redundant_backup,
    paired_region,
    private_dns_zone_name,
    server_fqdn,
    server_parameters,
    server_settings,
)


@pytest.mark.parametrize(
    ("location", "pair"),
    [
        ("westeurope", "northeurope"),
        ("northeurope", "westeurope"),
        ("eastus", "westus"),
        ("eastus2", "centralus"),
        ("swedencentral", "swedensouth"),
        ("West Europe", "northeurope"),
        ("polandcentral", None),
        ("italynorth", None),
        ("israelcentral", None),
    ],
)
def test_paired_region(location: str, pair: str | None) -> None:
    assert paired_region(location) == pair


def test_pairs_point_at_known_regions() -> None:
    # Every pair target is itself a key (pairs are mostly symmetric; westus3, brazilsouth
    # and westindia pair one-way into a region that has its own pair).
    for region, pair in REGION_PAIRS.items():
        assert pair in REGION_PAIRS, region


@pytest.mark.parametrize(
    ("location", "requested", "expected"),
    [
        ("westeurope", None, True),
        ("polandcentral", None, False),
        ("westeurope", False, False),
        ("westeurope", True, True),
        ("polandcentral", False, False),
    ],
)
def test_geo_redundant_backup(location: str, requested: bool | None, expected: bool) -> None:
    assert geo_redundant_backup(location, requested) is expected


def test_geo_redundant_backup_refused_without_pair() -> None:
    with pytest.raises(ValueError, match="no paired region"):
        geo_redundant_backup("polandcentral", True)


DEV_ARGS = {
    "location": "westeurope",
    "tier": "Burstable",
    "sku_name": "Standard_B1ms",
    "backup_retention_days": 7,
    "high_availability": "Disabled",
    "geo_backup": False,
    "storage_size_gb": 32,
}
PROD_ARGS = {
    "location": "westeurope",
    "tier": "GeneralPurpose",
    "sku_name": "Standard_D2ds_v5",
    "backup_retention_days": 35,
    "high_availability": "ZoneRedundant",
    "geo_backup": None,
    "storage_size_gb": 64,
}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            DEV_ARGS,
            {
                "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
                "backup": {"backup_retention_days": 7, "geo_redundant_backup": "Disabled"},
                "high_availability": {"mode": "Disabled"},
                "storage": {"storage_size_gb": 32, "auto_grow": "Enabled"},
            },
        ),
        (
            PROD_ARGS,
            {
                "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
                "backup": {"backup_retention_days": 35, "geo_redundant_backup": "Enabled"},
                "high_availability": {"mode": "ZoneRedundant"},
                "storage": {"storage_size_gb": 64, "auto_grow": "Enabled"},
            },
        ),
        (
            {**PROD_ARGS, "location": "polandcentral"},
            {
                "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
                "backup": {"backup_retention_days": 35, "geo_redundant_backup": "Disabled"},
                "high_availability": {"mode": "ZoneRedundant"},
                "storage": {"storage_size_gb": 64, "auto_grow": "Enabled"},
            },
        ),
    ],
)
def test_server_settings(args: dict, expected: dict) -> None:
    assert server_settings(**args) == expected


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"high_availability": "ZoneRedundant"}, "Burstable"),
        ({"sku_name": "Standard_D2ds_v5"}, "not a Burstable SKU"),
        ({"backup_retention_days": 6}, "7..35"),
        ({"backup_retention_days": 36}, "7..35"),
        ({"tier": "Premium"}, "unknown tier"),
        ({"high_availability": "Always"}, "unknown high availability"),
    ],
)
def test_server_settings_rejects(override: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        server_settings(**{**DEV_ARGS, **override})


def test_names() -> None:
    assert private_dns_zone_name("psql-a") == "psql-a.private.postgres.database.azure.com"
    assert server_fqdn("psql-a") == "psql-a.postgres.database.azure.com"
    for bad in ("Psql", "ps", "-psql", "psql--a", "psql_a"):
        with pytest.raises(ValueError):
            server_fqdn(bad)


@pytest.mark.parametrize(
    ("password", "encoded"),
    [("Ab1-_.~", "Ab1-_.~"), ("p@ss:w/rd?#", "p%40ss%3Aw%2Frd%3F%23"), ("a b%", "a%20b%25")],
)
def test_connection_uri(password: str, encoded: str) -> None:
    uri = connection_uri("airflowadmin", password, "psql-a.postgres.database.azure.com", "airflow")
    assert uri == (
        f"postgresql://airflowadmin:{encoded}@psql-a.postgres.database.azure.com:5432/airflow"
        "?sslmode=require"
    )
    parts = urlsplit(uri)
    assert parts.hostname == "psql-a.postgres.database.azure.com" and parts.port == 5432


def test_server_parameters_require_tls() -> None:
    assert server_parameters() == {
        "require_secure_transport": "on",
        "ssl_min_protocol_version": "TLSv1.2",
    }
