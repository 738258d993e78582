"""Key Vault rules (Checkov CKV_AZURE_40/41/42/109/110/111/114/189)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import (
    ADVISORY,
    KV_KEY,
    KV_SECRET,
    MANDATORY,
    VAULT,
    Context,
    Rule,
    as_dict,
    get,
    is_false,
    is_true,
    resource_rule,
    show,
)

RULES: list[Rule] = []


def _props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(props.get("properties"))


def _expiry(props: Mapping[str, Any]) -> Any:
    """The engine names it ``expires`` (azure-native); ARM templates say ``exp``."""
    attrs = _props(props)
    for key in ("attributes.expires", "attributes.exp"):
        value = get(attrs, key)
        if value not in (None, ""):
            return value
    return None


@resource_rule(
    RULES,
    name="keyvault-key-expiry",
    level=MANDATORY,
    mirrors="CKV_AZURE_40",
    types=(KV_KEY,),
    description="""Keys must carry an expiry (attributes.exp) so key rotation is forced
    rather than forgotten; a key that never expires is a key that is never rotated.""",
)
def key_expiry(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if _expiry(props) is None:
        return ["properties.attributes.expires (expiry) is not set on the key"]
    return []


@resource_rule(
    RULES,
    name="keyvault-secret-expiry",
    level=MANDATORY,
    mirrors="CKV_AZURE_41",
    types=(KV_SECRET,),
    description="""Secrets must carry an expiry (attributes.expires) so rotation is planned
    rather than forgotten. Mandatory because the secrets component derives the expiry
    from a rotation anchor in the stack file (reproducible, no clock) and reports the days
    left, so an expiry is a scheduled rotation, not a surprise outage.""",
)
def secret_expiry(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if _expiry(props) is None:
        return [
            "properties.attributes.expires (expiry) is not set on the secret; fix: set it "
            "(epoch seconds) from the rotation anchor + rotation period"
        ]
    return []


@resource_rule(
    RULES,
    name="keyvault-recoverable",
    level=MANDATORY,
    mirrors="CKV_AZURE_42",
    types=(VAULT,),
    description="""The vault must be recoverable (soft delete and purge protection): a
    deleted vault takes every Airflow connection secret and every key with it.""",
)
def recoverable(props: Mapping[str, Any], ctx: Context) -> list[str]:
    p = _props(props)
    if is_false(p.get("enableSoftDelete")) or not is_true(p.get("enablePurgeProtection")):
        return [
            "vault is not recoverable: needs enableSoftDelete (not false) and "
            f"enablePurgeProtection true (is {show(p.get('enablePurgeProtection'))})"
        ]
    return []


@resource_rule(
    RULES,
    name="keyvault-network-acl-deny",
    level=MANDATORY,
    mirrors="CKV_AZURE_109",
    types=(VAULT,),
    description="""The vault firewall must default to Deny (networkAcls.defaultAction), with
    access only from allowed subnets/IPs and trusted Azure services: a stolen token alone
    must not be enough to read secrets from anywhere.""",
)
def network_acl_deny(props: Mapping[str, Any], ctx: Context) -> list[str]:
    action = get(_props(props), "networkAcls.defaultAction")
    if not isinstance(action, str) or action.lower() != "deny":
        return [f"properties.networkAcls.defaultAction must be Deny (is {show(action)})"]
    return []


@resource_rule(
    RULES,
    name="keyvault-purge-protection",
    level=MANDATORY,
    mirrors="CKV_AZURE_110",
    types=(VAULT,),
    description="""Purge protection must be on so nobody (including an attacker with Owner)
    can permanently destroy secrets and keys during the retention period. The AKS baseline
    fails this.""",
)
def purge_protection(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = _props(props).get("enablePurgeProtection")
    if not is_true(value):
        return [f"properties.enablePurgeProtection must be true (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="keyvault-soft-delete",
    level=MANDATORY,
    mirrors="CKV_AZURE_111",
    types=(VAULT,),
    description="""Soft delete must stay on with a retention of at least 7 days, the window in
    which an accidental or malicious delete can be undone.""",
)
def soft_delete(props: Mapping[str, Any], ctx: Context) -> list[str]:
    p = _props(props)
    out = []
    if is_false(p.get("enableSoftDelete")):
        out.append("properties.enableSoftDelete must not be false")
    days = p.get("softDeleteRetentionInDays")
    if days is not None and (not isinstance(days, int | float) or days < 7):
        out.append(f"properties.softDeleteRetentionInDays must be >= 7 (is {show(days)})")
    return out


@resource_rule(
    RULES,
    name="keyvault-secret-content-type",
    level=ADVISORY,
    mirrors="CKV_AZURE_114",
    types=(KV_SECRET,),
    description="""Secrets should declare a contentType so consumers and rotation tooling
    know what they hold (password, connection URI, PEM). Advisory: documentation value.""",
)
def secret_content_type(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _props(props).get("contentType"):
        return ["properties.contentType is not set on the secret"]
    return []


@resource_rule(
    RULES,
    name="keyvault-public-network-disabled",
    level=ADVISORY,
    mirrors="CKV_AZURE_189",
    types=(VAULT,),
    description="""Public network access should be disabled with a private endpoint. Advisory:
    the mandatory Deny firewall already limits access, and disabling the public endpoint
    needs private endpoints and DNS that a dev stack and a cloud-hosted CI runner lack.""",
)
def public_network_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = _props(props).get("publicNetworkAccess")
    if not isinstance(value, str) or value.lower() != "disabled":
        return [f"properties.publicNetworkAccess should be Disabled (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="keyvault-rbac-authorization",
    level=MANDATORY,
    mirrors="Azure Policy: Azure Key Vault should use RBAC permission model",
    types=(VAULT,),
    description="""The vault must use Azure RBAC, not access policies: access policies are
    vault-wide per principal, invisible to role-assignment reviews, and grantable by anyone
    with Contributor on the vault.""",
)
def rbac_authorization(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = _props(props).get("enableRbacAuthorization")
    if not is_true(value):
        return [f"properties.enableRbacAuthorization must be true (is {show(value)})"]
    return []


# azure-native 3.29 VaultPropertiesArgs (seen 2026-12): enabledForDeployment "Azure Virtual
# Machines are permitted to retrieve certificates stored as secrets", enabledForDiskEncryption
# "Azure Disk Encryption is permitted to retrieve secrets ... and unwrap keys",
# enabledForTemplateDeployment "Azure Resource Manager is permitted to retrieve secrets".
ENABLED_FOR = {
    "enabledForDeployment": "VMs may pull certificates",
    "enabledForDiskEncryption": "Azure Disk Encryption may read secrets and unwrap keys",
    "enabledForTemplateDeployment": "ARM templates may read secrets",
}


@resource_rule(
    RULES,
    name="keyvault-no-platform-access",
    level=MANDATORY,
    mirrors="MCSB IM-3 / least privilege (Key Vault enabledFor* flags)",
    types=(VAULT,),
    description="""enabledForDeployment, enabledForDiskEncryption and
    enabledForTemplateDeployment must stay off: each lets an Azure service read secrets
    outside the vault's RBAC (with template deployment, anyone who may deploy an ARM template
    in the resource group can pull every Airflow credential through a reference). Nothing
    in this platform needs them; false or absent (the ARM default) passes.""",
)
def no_platform_access(props: Mapping[str, Any], ctx: Context) -> list[str]:
    p = _props(props)
    return [
        f"properties.{flag} is true ({why}); fix: set it false"
        for flag, why in ENABLED_FOR.items()
        if is_true(p.get(flag))
    ]


PROD_SOFT_DELETE_DAYS = 90


@resource_rule(
    RULES,
    name="keyvault-soft-delete-retention-in-prod",
    level=MANDATORY,
    mirrors="Key Vault soft-delete overview (retention 7-90 days, default 90)",
    types=(VAULT,),
    description=f"""On production stacks the vault keeps deleted secrets and keys for the
    full {PROD_SOFT_DELETE_DAYS} days (softDeleteRetentionInDays; absent means the 90-day
    default): a shorter window shrinks the time in which a deleted production vault can be
    recovered.""",
)
def soft_delete_retention_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # azure-native 3.29: softDeleteRetentionInDays "accepts >=7 and <=90", seen 2026-12.
    if not ctx.production:
        return []
    days = _props(props).get("softDeleteRetentionInDays")
    if days is None:
        return []
    if not isinstance(days, int | float) or days < PROD_SOFT_DELETE_DAYS:
        return [
            f"properties.softDeleteRetentionInDays is {show(days)} on a production stack; fix: "
            f"set {PROD_SOFT_DELETE_DAYS} (or leave it unset)"
        ]
    return []
