"""PostgreSQL flexible server rules (the Airflow metadata database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import (
    ADVISORY,
    MANDATORY,
    PG_CONFIGURATION,
    PG_FIREWALL_RULE,
    PG_SERVER,
    Context,
    Rule,
    get,
    resource_rule,
    show,
    stack_rule,
)
from ._plan import _deps, _inputs, _of_type

RULES: list[Rule] = []
SERVER = (PG_SERVER,)
MIN_RETENTION_DAYS = 7


@resource_rule(
    RULES,
    name="postgres-backup-retention",
    level=MANDATORY,
    mirrors="Azure Policy: PostgreSQL flexible servers should have backup retention set",
    types=SERVER,
    description=f"""backup.backupRetentionDays must be set explicitly and be at least
    {MIN_RETENTION_DAYS}: the metadata database holds every DAG run, connection and
    variable, and a bad migration is only undone by a point-in-time restore.""",
)
def backup_retention(props: Mapping[str, Any], ctx: Context) -> list[str]:
    days = get(props, "backup.backupRetentionDays")
    if not isinstance(days, int | float) or days < MIN_RETENTION_DAYS:
        return [f"backup.backupRetentionDays must be >= {MIN_RETENTION_DAYS} (is {show(days)})"]
    return []


@resource_rule(
    RULES,
    name="postgres-geo-backup-in-prod",
    level=MANDATORY,
    mirrors="CKV_AZURE_136",
    types=SERVER,
    description="""Production servers must keep geo-redundant backups so a regional outage
    does not lose the metadata database. Checked only on production stacks (cost).""",
)
def geo_backup_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not ctx.production:
        return []
    value = get(props, "backup.geoRedundantBackup")
    if not isinstance(value, str) or value.lower() != "enabled":
        return [
            f"backup.geoRedundantBackup must be Enabled on a production stack (is {show(value)})"
        ]
    return []


@resource_rule(
    RULES,
    name="postgres-ha-in-prod",
    level=MANDATORY,
    mirrors="Azure Policy: PostgreSQL flexible servers should have high availability",
    types=SERVER,
    description="""Production servers must run with a hot standby (ZoneRedundant or SameZone):
    without the metadata database the scheduler stops. Checked only on production stacks
    (HA doubles the compute bill).""",
)
def ha_in_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not ctx.production:
        return []
    mode = get(props, "highAvailability.mode")
    if not isinstance(mode, str) or mode.lower() not in ("zoneredundant", "samezone"):
        return [f"highAvailability.mode must be ZoneRedundant or SameZone (is {show(mode)})"]
    return []


@resource_rule(
    RULES,
    name="postgres-public-network-disabled",
    level=MANDATORY,
    mirrors="CKV_AZURE_68",
    types=SERVER,
    description="""The server must not be reachable from the internet
    (network.publicNetworkAccess Disabled, VNet-integrated or private endpoint): the
    metadata database holds every Airflow connection.""",
)
def public_network_disabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = get(props, "network.publicNetworkAccess")
    if not isinstance(value, str) or value.lower() != "disabled":
        return [f"network.publicNetworkAccess must be Disabled (is {show(value)})"]
    return []


WEAK_TLS = {"tlsv1", "tlsv1.0", "tlsv1.1"}


@resource_rule(
    RULES,
    name="postgres-tls-enforced",
    level=MANDATORY,
    mirrors="CKV_AZURE_29 / CKV_AZURE_147",
    types=(PG_CONFIGURATION,),
    description="""Server parameters must not weaken transport security:
    require_secure_transport stays on and ssl_min_protocol_version is at least TLSv1.2
    (the flexible-server defaults; this catches an override).""",
)
def tls_enforced(props: Mapping[str, Any], ctx: Context) -> list[str]:
    name = str(props.get("configurationName", "")).lower()
    value = str(props.get("value", "")).strip().lower()
    if name == "require_secure_transport" and value in ("off", "false", "0"):
        return ["require_secure_transport must stay ON"]
    if name == "ssl_min_protocol_version" and value in WEAK_TLS:
        return [f"ssl_min_protocol_version must be TLSv1.2 or later (is {value!r})"]
    return []


@resource_rule(
    RULES,
    name="postgres-no-open-firewall",
    level=MANDATORY,
    mirrors="CKV_AZURE_11 (analogue)",
    types=(PG_FIREWALL_RULE,),
    description="""No firewall rule may open the server to the whole internet
    (0.0.0.0-255.255.255.255) or to all Azure tenants (0.0.0.0-0.0.0.0, 'Allow Azure
    services'), which includes every other customer's VMs.""",
)
def no_open_firewall(props: Mapping[str, Any], ctx: Context) -> list[str]:
    start, end = props.get("startIpAddress"), props.get("endIpAddress")
    if start == "0.0.0.0" and end in ("255.255.255.255", "0.0.0.0"):
        return [f"firewall rule {start}-{end} opens the server to the internet or all of Azure"]
    return []


@resource_rule(
    RULES,
    name="postgres-entra-auth",
    level=ADVISORY,
    mirrors="Azure Policy: PostgreSQL flexible server should have Entra authentication",
    types=SERVER,
    description="""Entra ID authentication should be enabled so Airflow can log in with its
    workload identity instead of a stored password. Advisory: Airflow's metadata
    connection still needs a password-based URI today.""",
)
def entra_auth(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = get(props, "authConfig.activeDirectoryAuth")
    if not isinstance(value, str) or value.lower() != "enabled":
        return [f"authConfig.activeDirectoryAuth should be Enabled (is {show(value)})"]
    return []


# ---------------------------------------------------------------------------- PostgreSQL

PG_ENTRA_ADMINS = (
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
    "azure-native:dbforpostgresql:Administrator",
)


@stack_rule(
    RULES,
    name="postgres-entra-auth-has-admin",
    level=MANDATORY,
    mirrors="Azure Database for PostgreSQL: Microsoft Entra authentication (admins)",
    description="""A flexible server with Microsoft Entra authentication on needs at least
    one Entra administrator: only an Entra admin can create the Entra roles anyone signs in
    with, so without one Entra auth is on but unusable and people fall back to the
    password administrator.""",
)
def postgres_entra_auth_has_admin(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    admins = _of_type(resources, *PG_ENTRA_ADMINS)
    out = []
    for server in _of_type(resources, PG_SERVER):
        auth = str(get(_inputs(server), "authConfig.activeDirectoryAuth", "")).lower()
        if auth != "enabled":
            continue
        name = _inputs(server).get("serverName") or server.get("name")
        if not any(
            str(server.get("urn")) in _deps(a, "serverName") or _inputs(a).get("serverName") == name
            for a in admins
        ):
            out.append(
                (
                    str(server.get("urn")),
                    f"server {name}: Entra authentication is on but no Entra administrator "
                    "(AdministratorsMicrosoftEntra) is set",
                )
            )
    return out
