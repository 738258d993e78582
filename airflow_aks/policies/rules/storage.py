"""Storage account and blob container rules (remote Airflow logs live here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import (
    BLOB_CONTAINER,
    MANDATORY,
    STORAGE_ACCOUNT,
    Context,
    Rule,
    as_list,
    get,
    is_false,
    is_true,
    resource_rule,
    show,
    stack_rule,
)
from ._plan import _deps, _inputs, _of_type

RULES: list[Rule] = []
ACCOUNT = (STORAGE_ACCOUNT,)


@resource_rule(
    RULES,
    name="storage-shared-key-disabled",
    level=MANDATORY,
    mirrors="CKV2_AZURE_40",
    types=ACCOUNT,
    description="""Shared-key access must be off (allowSharedKeyAccess false): account keys
    are all-powerful, never expire and cannot be scoped; Airflow writes logs with its
    workload identity instead.""",
)
def shared_key_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = props.get("allowSharedKeyAccess")
    if not is_false(value):
        return [f"allowSharedKeyAccess must be false (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="storage-min-tls-12",
    level=MANDATORY,
    mirrors="CKV_AZURE_44",
    types=ACCOUNT,
    description="""Clients must use TLS 1.2 or later; TLS 1.0/1.1 have known weaknesses and
    are being retired by Azure.""",
)
def min_tls_12(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = props.get("minimumTlsVersion")
    if value not in ("TLS1_2", "TLS1_3"):
        return [f"minimumTlsVersion must be TLS1_2 (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="storage-no-blob-public-access",
    level=MANDATORY,
    mirrors="CKV_AZURE_190",
    types=ACCOUNT,
    description="""Anonymous blob access must be disallowed at the account
    (allowBlobPublicAccess false), so no container can ever be made public by mistake;
    task logs often contain data and connection details.""",
)
def no_blob_public_access(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = props.get("allowBlobPublicAccess")
    if not is_false(value):
        return [f"allowBlobPublicAccess must be false (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="storage-https-only",
    level=MANDATORY,
    mirrors="CKV_AZURE_3",
    types=ACCOUNT,
    description="""Only HTTPS traffic may be accepted (enableHttpsTrafficOnly), so tokens and
    log contents never cross the network in clear text. Set explicitly rather than relying
    on the API-version default.""",
)
def https_only(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = props.get("enableHttpsTrafficOnly")
    if not is_true(value):
        return [f"enableHttpsTrafficOnly must be true (is {show(value)})"]
    return []


@resource_rule(
    RULES,
    name="storage-network-default-deny",
    level=MANDATORY,
    mirrors="CKV_AZURE_35",
    types=ACCOUNT,
    description="""The account firewall must default to Deny (networkRuleSet.defaultAction)
    and allow only the AKS subnet or a private endpoint: task logs and their connection
    details are then unreadable from anywhere else, even with a leaked token. Mandatory
    because the log storage component always ships the subnet rule, so Deny costs nothing.""",
)
def network_default_deny(props: Mapping[str, Any], ctx: Context) -> list[str]:
    action = get(props, "networkRuleSet.defaultAction")
    if not isinstance(action, str) or action.lower() != "deny":
        return [
            f"networkRuleSet.defaultAction must be Deny (is {show(action)}); fix: set it to "
            "Deny with a virtualNetworkRules entry for the AKS node subnet"
        ]
    return []


@resource_rule(
    RULES,
    name="storage-container-private",
    level=MANDATORY,
    mirrors="CKV_AZURE_34",
    types=(BLOB_CONTAINER,),
    description="""Blob containers must not allow anonymous read (publicAccess None): Airflow
    task logs are not for the internet.""",
)
def container_private(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = props.get("publicAccess")
    if value not in (None, "None"):
        return [f"publicAccess must be None (is {show(value)})"]
    return []


# ---------------------------------------------------------------------------- storage

PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"


@stack_rule(
    RULES,
    name="storage-private-in-production",
    level=MANDATORY,
    mirrors="MCSB NS-2 (private access to PaaS); CKV2_AZURE_33",
    description="""In production a storage account has public network access Disabled and
    a blob private endpoint, like the vault: a network ACL on a public endpoint still
    exposes the account to the internet for any leaked token or misconfigured rule.""",
)
def storage_private_in_production(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    if not ctx.production:
        return []
    endpoints = _of_type(resources, PRIVATE_ENDPOINT)
    out = []
    for account in _of_type(resources, STORAGE_ACCOUNT):
        name = _inputs(account).get("accountName") or account.get("name")
        problems = []
        access = _inputs(account).get("publicNetworkAccess")
        if access != "Disabled":
            problems.append(f"publicNetworkAccess is {access!r}, not 'Disabled'")
        suffix = f"/storageAccounts/{name}"
        linked = [
            e
            for e in endpoints
            for conn in as_list(_inputs(e).get("privateLinkServiceConnections"))
            if "blob" in [str(g) for g in as_list(get(conn, "groupIds"))]
            and (
                str(account.get("urn")) in _deps(e, "privateLinkServiceConnections")
                or str(get(conn, "privateLinkServiceId", "")).lower().endswith(suffix.lower())
            )
        ]
        if not linked:
            problems.append("no private endpoint with groupIds ['blob'] targets it")
        if problems:
            out.append((str(account.get("urn")), f"storage account {name}: " + "; ".join(problems)))
    return out
