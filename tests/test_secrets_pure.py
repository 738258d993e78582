"""Pure decisions of components/secrets.py, table-driven, no mocks."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from airflow_aks.components.secrets import (
    CSI_API_VERSION,
    csi_volume,
    csi_volume_mount,
    days_until_expiry,
    fernet_key_from_base64,
    objects_parameter,
    secret_expiry_epoch,
    secret_properties,
    secret_provider_class,
    secrets_user_scope,
    vault_network_acls,
    vault_properties,
    vault_uri,
)

VAULT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a"
CLIENT = "aaaaaaaa-0000-0000-0000-000000000001"
TENANT = "tttttttt-0000-0000-0000-000000000001"


@pytest.mark.parametrize(
    ("issued", "days", "expected"),
    [
        ("2026-11-23", 180, int(datetime(2027, 5, 22, tzinfo=UTC).timestamp())),
        (date(2026, 11, 23), 1, int(datetime(2026, 11, 24, tzinfo=UTC).timestamp())),
        ("2028-02-28", 1, int(datetime(2028, 2, 29, tzinfo=UTC).timestamp())),  # leap day
        ("2026-12-31", 365, int(datetime(2027, 12, 31, tzinfo=UTC).timestamp())),
    ],
)
def test_expiry_is_anchor_plus_rotation(issued: str | date, days: int, expected: int) -> None:
    assert secret_expiry_epoch(issued, days) == expected


def test_expiry_is_reproducible_and_clock_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same config, same plan: nothing depends on when `pulumi up` runs. The clock the
    module could read (``datetime.now``/``date.today``/``time.time``) is moved ten years
    ahead; the expiry must not move with it."""
    import time

    from airflow_aks.components import secrets as mod

    before = secret_expiry_epoch("2026-11-23", 90)
    future = datetime(2036, 1, 1, tzinfo=UTC)

    class FutureDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FutureDatetime:  # type: ignore[override]
            return cls.fromtimestamp(future.timestamp(), tz)

        @classmethod
        def utcnow(cls) -> FutureDatetime:  # type: ignore[override]
            return cls.fromtimestamp(future.timestamp())

    class FutureDate(date):
        @classmethod
        def today(cls) -> FutureDate:  # type: ignore[override]
            return cls(2036, 1, 1)

    monkeypatch.setattr(mod, "datetime", FutureDatetime)
    monkeypatch.setattr(mod, "date", FutureDate)
    monkeypatch.setattr(time, "time", lambda: future.timestamp())
    after = secret_expiry_epoch("2026-11-23", 90)
    assert after == before == int(datetime(2027, 2, 21, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("days", [0, -5])
def test_expiry_rejects_non_positive_rotation(days: int) -> None:
    with pytest.raises(ValueError, match="rotation_days"):
        secret_expiry_epoch("2026-11-23", days)


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (datetime(2026, 11, 23, tzinfo=UTC), 180.0),
        (datetime(2027, 5, 21, tzinfo=UTC), 1.0),
        (datetime(2027, 5, 23, tzinfo=UTC), -1.0),
    ],
)
def test_days_until_expiry_with_fixed_now(now: datetime, left: float) -> None:
    assert days_until_expiry(secret_expiry_epoch("2026-11-23", 180), now) == left


def test_days_until_expiry_needs_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone"):
        days_until_expiry(0, datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "raw",
    [
        bytes(range(32)),
        b"\xfb\xff\xbf" * 10 + b"\xfe\xff",  # standard base64 full of '+' and '/'
        b"\x00" * 32,
    ],
)
def test_fernet_key_is_url_safe_and_accepted_by_cryptography(raw: bytes) -> None:
    key = fernet_key_from_base64(base64.b64encode(raw).decode())
    assert "+" not in key and "/" not in key
    assert base64.urlsafe_b64decode(key) == raw
    Fernet(key)  # raises unless it is 32 url-safe base64 bytes


@pytest.mark.parametrize("raw", [b"\x01" * 16, b"\x01" * 33])
def test_fernet_key_needs_32_bytes(raw: bytes) -> None:
    with pytest.raises(ValueError, match="32"):
        fernet_key_from_base64(base64.b64encode(raw).decode())


@pytest.mark.parametrize(
    ("purge", "retention", "access", "expect_purge_key"),
    [(True, 90, "Enabled", True), (False, 7, "Disabled", False)],
)
def test_vault_properties(purge: bool, retention: int, access: str, expect_purge_key: bool) -> None:
    props = vault_properties(
        tenant_id=TENANT,
        soft_delete_retention_days=retention,
        purge_protection=purge,
        public_network_access=access,
        network_acls=vault_network_acls(["/subnets/aks"], ["203.0.113.0/24"]),
    )
    assert props["enable_rbac_authorization"] is True
    assert props["enable_soft_delete"] is True
    assert props["soft_delete_retention_in_days"] == retention
    assert props["public_network_access"] == access
    assert props["tenant_id"] == TENANT
    assert props["sku"] == {"family": "A", "name": "standard"}
    # Key Vault refuses enablePurgeProtection=false: opted out means the key is absent.
    assert ("enable_purge_protection" in props) is expect_purge_key
    if expect_purge_key:
        assert props["enable_purge_protection"] is True
    for flag in ("enabled_for_deployment", "enabled_for_disk_encryption"):
        assert props[flag] is False
    acls = props["network_acls"]
    assert acls["default_action"] == "Deny" and acls["bypass"] == "AzureServices"
    assert acls["virtual_network_rules"] == [
        {"id": "/subnets/aks", "ignore_missing_vnet_service_endpoint": False}
    ]
    assert acls["ip_rules"] == [{"value": "203.0.113.0/24"}]


def test_vault_properties_default_acl_denies_everything() -> None:
    acls = vault_properties(tenant_id=TENANT)["network_acls"]
    assert acls["default_action"] == "Deny"
    assert acls["virtual_network_rules"] == [] and acls["ip_rules"] == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"soft_delete_retention_days": 6}, "7..90"),
        ({"soft_delete_retention_days": 91}, "7..90"),
        ({"sku": "gold"}, "sku"),
        ({"public_network_access": "Open"}, "publicNetworkAccess"),
    ],
)
def test_vault_properties_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        vault_properties(tenant_id=TENANT, **kwargs)


def test_secret_properties_have_content_type_and_expiry() -> None:
    props = secret_properties("v", "text/plain", 1_800_000_000)
    assert props == {
        "value": "v",
        "content_type": "text/plain",
        "attributes": {"enabled": True, "expires": 1_800_000_000},
    }
    with pytest.raises(ValueError, match="contentType"):
        secret_properties("v", "", 1)


@pytest.mark.parametrize(
    ("secret", "expected"),
    [(None, VAULT_ID), ("airflow-fernet-key", VAULT_ID + "/secrets/airflow-fernet-key")],
)
def test_secrets_user_scope(secret: str | None, expected: str) -> None:
    assert secrets_user_scope(VAULT_ID, secret) == expected


@pytest.mark.parametrize(
    ("vault_id", "secret"),
    [("/subscriptions/s/resourceGroups/rg", None), (VAULT_ID, "bad_name")],
)
def test_secrets_user_scope_rejects(vault_id: str, secret: str | None) -> None:
    with pytest.raises(ValueError):
        secrets_user_scope(vault_id, secret)


def test_vault_uri() -> None:
    assert vault_uri("kv-a") == "https://kv-a.vault.azure.net/"


# ---------------------------------------------------------------- SecretProviderClass


def _parse_objects(param: str) -> list[dict]:
    return [yaml.safe_load(item) for item in yaml.safe_load(param)["array"]]


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        (["a"], [{"objectName": "a", "objectType": "secret"}]),
        (
            [("airflow-fernet-key", "fernet-key"), ("airflow-jwt-secret", None)],
            [
                {
                    "objectName": "airflow-fernet-key",
                    "objectType": "secret",
                    "objectAlias": "fernet-key",
                },
                {"objectName": "airflow-jwt-secret", "objectType": "secret"},
            ],
        ),
    ],
)
def test_objects_parameter_is_the_azure_array_format(objects: list, expected: list) -> None:
    param = objects_parameter(objects)
    assert param.startswith("array:\n  - |\n    objectName: ")
    assert _parse_objects(param) == expected


def test_secret_provider_class_for_a_consumer() -> None:
    body = secret_provider_class(
        "airflow-secrets",
        "airflow",
        CLIENT,
        "kv-a",
        TENANT,
        [("airflow-metadata-connection", "connection"), ("airflow-fernet-key", "fernet-key")],
        sync_to_secret={
            "secret_name": "airflow-metadata",
            "data": {"connection": "connection"},
        },
        labels={"app.kubernetes.io/part-of": "airflow"},
    )
    assert body["apiVersion"] == CSI_API_VERSION == "secrets-store.csi.x-k8s.io/v1"
    assert body["kind"] == "SecretProviderClass"
    assert body["metadata"] == {
        "name": "airflow-secrets",
        "namespace": "airflow",
        "labels": {"app.kubernetes.io/part-of": "airflow"},
    }
    spec = body["spec"]
    assert spec["provider"] == "azure"
    params = spec["parameters"]
    assert params["usePodIdentity"] == "false"
    assert params["useVMManagedIdentity"] == "false"
    assert params["clientID"] == CLIENT  # the consumer's workload identity
    assert params["keyvaultName"] == "kv-a"
    assert params["tenantId"] == TENANT
    assert [o["objectAlias"] for o in _parse_objects(params["objects"])] == [
        "connection",
        "fernet-key",
    ]
    assert spec["secretObjects"] == [
        {
            "secretName": "airflow-metadata",
            "type": "Opaque",
            "data": [{"objectName": "connection", "key": "connection"}],
        }
    ]


def test_secret_provider_class_without_sync_has_no_secret_objects() -> None:
    body = secret_provider_class("spc", "airflow", CLIENT, "kv-a", TENANT, ["x"])
    assert "secretObjects" not in body["spec"]
    assert "labels" not in body["metadata"]


def test_secret_provider_class_several_syncs() -> None:
    body = secret_provider_class(
        "spc",
        "airflow",
        CLIENT,
        "kv-a",
        TENANT,
        [("a", "one"), "b"],
        sync_to_secret=[
            {"secret_name": "s1", "data": {"k": "one"}},
            {"secret_name": "s2", "data": {"k": "b"}, "type": "kubernetes.io/basic-auth"},
        ],
    )
    assert [s["secretName"] for s in body["spec"]["secretObjects"]] == ["s1", "s2"]
    assert body["spec"]["secretObjects"][1]["type"] == "kubernetes.io/basic-auth"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"objects": []}, "at least one"),
        ({"objects": ["bad_name"]}, "Key Vault object name"),
        ({"objects": [("a", "x"), ("b", "x")]}, "same file"),
        ({"objects": ["a", ("b", "a")]}, "same file"),
        ({"objects": [("a", "../etc")]}, "file name"),
        ({"name": "Bad_Name"}, "Kubernetes name"),
        ({"namespace": "-ns"}, "Kubernetes name"),
        ({"client_id": ""}, "client_id"),
        ({"tenant_id": " "}, "tenant_id"),
        ({"sync_to_secret": {"secret_name": "s", "data": {"k": "missing"}}}, "not mounted"),
        ({"sync_to_secret": {"secret_name": "s", "data": {"bad key": "a"}}}, "Secret key"),
        ({"sync_to_secret": {"secret_name": "s", "data": {}}}, "no keys"),
        ({"sync_to_secret": {"secret_name": "S!", "data": {"k": "a"}}}, "Kubernetes name"),
    ],
)
def test_secret_provider_class_rejects(kwargs: dict, match: str) -> None:
    args: dict = {
        "name": "spc",
        "namespace": "airflow",
        "client_id": CLIENT,
        "keyvault_name": "kv-a",
        "tenant_id": TENANT,
        "objects": ["a"],
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        secret_provider_class(**args)


def test_csi_volume_and_mount() -> None:
    assert csi_volume("secrets", "airflow-secrets") == {
        "name": "secrets",
        "csi": {
            "driver": "secrets-store.csi.k8s.io",
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": "airflow-secrets"},
        },
    }
    assert csi_volume_mount("secrets") == {
        "name": "secrets",
        "mountPath": "/mnt/secrets-store",
        "readOnly": True,
    }
