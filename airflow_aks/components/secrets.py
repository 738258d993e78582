"""Key Vault for every generated credential, and the CSI objects that mount them in pods.

Flow: pulumi-random generates a value -> it is written straight into a Key Vault secret
(never into an output, a Helm value or a Kubernetes Secret we write) -> a
``SecretProviderClass`` lets the Secrets Store CSI driver mount it as a file in the
consumer's pod, authenticated by the consumer's workload identity.

Decisions live in pure functions (expiry, vault properties, ACLs, the SecretProviderClass
body); :class:`Vault` and :func:`create_secret_provider_class` only wire resources.

Expiry is computed from a configured anchor date (``secrets_issued_on``) plus a rotation
period, never from the wall clock: the same stack file always plans the same expiry, so
``pulumi up`` is idempotent. Bumping the anchor rotates: random values carry it as a
keeper and are regenerated, and every expiry moves forward.
"""

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_azure_native import authorization, keyvault, monitor

from airflow_aks.components.tokens import type_token

from .identity import role_assignment
from .private_link import deny_by_default, private_endpoint

SECRETS_USER_ROLE = "Key Vault Secrets User"
CSI_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
CSI_DRIVER = "secrets-store.csi.k8s.io"
VAULT_PRIVATE_DNS_ZONE = "privatelink.vaultcore.azure.net"

# Key Vault object names of the secrets this stack generates (the Vault component).
FERNET_KEY_SECRET = "airflow-fernet-key"
API_SECRET_KEY_SECRET = "airflow-api-secret-key"
JWT_SECRET_SECRET = "airflow-jwt-secret"
DEFAULT_SECRETS_ISSUED_ON = "2026-11-23"
"""Rotation anchor when none is given (the one default; config and components read it)."""

_KV_OBJECT_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_K8S_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_ALIAS = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


# --------------------------------------------------------------------------- pure functions


def secret_expiry_epoch(issued_on: date | str, rotation_days: int) -> int:
    """Expiry (``attributes.exp``, epoch seconds UTC) = anchor date + rotation period.

    Pure and clock-free: pass the anchor, not ``now``, so a plan is reproducible.
    """
    if rotation_days < 1:
        raise ValueError(f"rotation_days must be >= 1, got {rotation_days}")
    day = date.fromisoformat(issued_on) if isinstance(issued_on, str) else issued_on
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int((start + timedelta(days=rotation_days)).timestamp())


def days_until_expiry(expires_epoch: int, now: datetime) -> float:
    """Days left before ``expires_epoch`` at a given ``now`` (negative once expired)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return (expires_epoch - now.timestamp()) / 86400


def fernet_key_from_base64(standard_b64: str) -> str:
    """Airflow's fernet key from RandomBytes' standard base64 of 32 bytes (url-safe form).

    ``cryptography.fernet`` wants url-safe base64 of exactly 32 bytes, padding kept.
    """
    raw = base64.b64decode(standard_b64, validate=True)
    if len(raw) != 32:
        raise ValueError(f"a fernet key needs 32 random bytes, got {len(raw)}")
    return standard_b64.replace("+", "-").replace("/", "_")


def vault_network_acls(
    subnet_ids: Sequence[pulumi.Input[str]], ip_ranges: Sequence[str] = ()
) -> dict[str, Any]:
    """Vault firewall: deny by default, trusted Azure services and the given subnets in."""
    return deny_by_default(
        [{"id": s, "ignore_missing_vnet_service_endpoint": False} for s in subnet_ids],
        [{"value": r} for r in ip_ranges],
    )


def vault_properties(
    *,
    tenant_id: pulumi.Input[str],
    sku: str = "standard",
    soft_delete_retention_days: int = 90,
    purge_protection: bool = True,
    public_network_access: str = "Enabled",
    network_acls: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``properties`` of a ``keyvault.Vault``: RBAC only, soft delete, purge protection.

    Key Vault refuses ``enablePurgeProtection: false`` (the switch is one-way), so an
    opted-out vault omits the key instead of sending false. Values that only the cloud
    knows (tenant, subnet ids) may be Outputs: they are placed, never inspected, so the
    rest of the body stays known in a preview.
    """
    if not 7 <= soft_delete_retention_days <= 90:
        raise ValueError("soft delete retention must be 7..90 days")
    if sku not in ("standard", "premium"):
        raise ValueError(f"unknown Key Vault sku {sku!r}")
    if public_network_access not in ("Enabled", "Disabled"):
        raise ValueError(
            f"publicNetworkAccess must be Enabled or Disabled, not {public_network_access!r}"
        )
    props: dict[str, Any] = {
        "tenant_id": tenant_id,
        "sku": {"family": "A", "name": sku},
        "enable_rbac_authorization": True,
        "enable_soft_delete": True,
        "soft_delete_retention_in_days": soft_delete_retention_days,
        "enabled_for_deployment": False,
        "enabled_for_disk_encryption": False,
        "enabled_for_template_deployment": False,
        "public_network_access": public_network_access,
        "network_acls": dict(network_acls or vault_network_acls(())),
    }
    if purge_protection:
        props["enable_purge_protection"] = True
    return props


def random_vault_name(base: str, suffix: str) -> str:
    """``<base>-<suffix>``, checked against Key Vault's naming rule (3-24, letter first)."""
    name = f"{base}-{suffix}"
    if not re.fullmatch(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", name):
        raise ValueError(f"{name!r} is not a valid Key Vault name (3-24, letter first)")
    return name


def vault_uri(vault_name: str, dns_suffix: str = "vault.azure.net") -> str:
    """Data-plane URI of a vault (public Azure cloud by default)."""
    return f"https://{vault_name}.{dns_suffix}/"


def secret_properties(value: Any, content_type: str, expires: int) -> dict[str, Any]:
    """``properties`` of a ``keyvault.Secret``: value, content type and expiry (Checkov 41/114)."""
    if not content_type:
        raise ValueError("every secret needs a contentType")
    return {
        "value": value,
        "content_type": content_type,
        "attributes": {"enabled": True, "expires": expires},
    }


def secrets_user_scope(vault_id: str, secret_name: str | None = None) -> str:
    """Scope for "Key Vault Secrets User": the vault, or a single secret in it."""
    if "/providers/Microsoft.KeyVault/vaults/" not in vault_id:
        raise ValueError(f"{vault_id!r} is not a Key Vault resource id")
    if secret_name is None:
        return vault_id
    if not _KV_OBJECT_NAME.match(secret_name):
        raise ValueError(f"{secret_name!r} is not a valid Key Vault secret name")
    return f"{vault_id}/secrets/{secret_name}"


class SecretSync(TypedDict):
    """A Kubernetes Secret the CSI driver keeps in sync with mounted objects."""

    secret_name: str
    """Name of the Kubernetes Secret (exists only while a pod mounts the volume)."""
    data: Mapping[str, str]
    """Secret key -> mounted object (its alias, or its Key Vault name without one)."""
    type: NotRequired[str]
    """Kubernetes Secret type, ``Opaque`` by default."""


ObjectSpec = str | tuple[str, str | None]


def _normalise_objects(objects: Sequence[ObjectSpec]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for obj in objects:
        name, alias = (obj, None) if isinstance(obj, str) else obj
        if not _KV_OBJECT_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid Key Vault object name")
        if alias is not None and (not _ALIAS.match(alias) or alias in (".", "..")):
            raise ValueError(f"alias {alias!r} is not a valid file name")
        out.append((name, alias))
    if not out:
        raise ValueError("a SecretProviderClass needs at least one object")
    files = [alias or name for name, alias in out]
    dupes = sorted({f for f in files if files.count(f) > 1})
    if dupes:
        raise ValueError(f"two objects would mount as the same file: {dupes}")
    return out


def objects_parameter(objects: Sequence[ObjectSpec]) -> str:
    """The Azure provider's ``objects`` parameter: a YAML ``array:`` of YAML strings."""
    lines = ["array:"]
    for name, alias in _normalise_objects(objects):
        lines.append("  - |")
        lines.append(f"    objectName: {name}")
        lines.append("    objectType: secret")
        if alias:
            lines.append(f"    objectAlias: {alias}")
    return "\n".join(lines) + "\n"


def secret_provider_class(
    name: str,
    namespace: str,
    client_id: pulumi.Input[str],
    keyvault_name: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    objects: Sequence[ObjectSpec],
    sync_to_secret: SecretSync | Sequence[SecretSync] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Body of a ``SecretProviderClass`` (provider ``azure``) for one consumer identity.

    ``client_id`` is the consumer's workload-identity client id: the CSI driver exchanges
    the pod's ServiceAccount token for it, so only pods of that identity can mount.
    ``client_id``, ``keyvault_name`` and ``tenant_id`` may be Outputs: they are placed in
    the body, never inspected, so a preview shows everything else known.
    """
    for label, value in (("name", name), ("namespace", namespace)):
        if not _K8S_NAME.match(value):
            raise ValueError(f"{label} {value!r} is not a valid Kubernetes name")
    for label, value in (
        ("client_id", client_id),
        ("keyvault_name", keyvault_name),
        ("tenant_id", tenant_id),
    ):
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"{label} must not be empty")
    normalised = _normalise_objects(objects)
    spec: dict[str, Any] = {
        "provider": "azure",
        "parameters": {
            "usePodIdentity": "false",
            "useVMManagedIdentity": "false",
            "clientID": client_id,
            "keyvaultName": keyvault_name,
            "tenantId": tenant_id,
            "objects": objects_parameter(normalised),
        },
    }
    syncs: list[SecretSync]
    if sync_to_secret is None:
        syncs = []
    elif isinstance(sync_to_secret, Mapping):
        syncs = [sync_to_secret]
    else:
        syncs = list(sync_to_secret)
    if syncs:
        files = {alias or obj for obj, alias in normalised}
        secret_objects = []
        for sync in syncs:
            if not _K8S_NAME.match(sync["secret_name"]):
                raise ValueError(
                    f"secret name {sync['secret_name']!r} is not a valid Kubernetes name"
                )
            if not sync["data"]:
                raise ValueError(f"secret {sync['secret_name']!r} syncs no keys")
            data = []
            for key, obj in sync["data"].items():
                if not _K8S_SECRET_KEY.match(key):
                    raise ValueError(f"{key!r} is not a valid Kubernetes Secret key")
                if obj not in files:
                    raise ValueError(
                        f"secret {sync['secret_name']!r} key {key!r} refers to {obj!r}, "
                        f"which is not mounted (have {sorted(files)})"
                    )
                data.append({"objectName": obj, "key": key})
            secret_objects.append(
                {
                    "secretName": sync["secret_name"],
                    "type": sync.get("type", "Opaque"),
                    "data": data,
                }
            )
        spec["secretObjects"] = secret_objects
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": CSI_API_VERSION,
        "kind": "SecretProviderClass",
        "metadata": metadata,
        "spec": spec,
    }


def csi_volume(volume_name: str, secret_provider_class_name: str) -> dict[str, Any]:
    """Pod volume that mounts a SecretProviderClass read-only (files, never env vars)."""
    return {
        "name": volume_name,
        "csi": {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secret_provider_class_name},
        },
    }


def csi_volume_mount(volume_name: str, mount_path: str = "/mnt/secrets-store") -> dict[str, Any]:
    """Container volumeMount for :func:`csi_volume`."""
    return {"name": volume_name, "mountPath": mount_path, "readOnly": True}


# --------------------------------------------------------------------------- resources


def vault_secret(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    vault_name: pulumi.Input[str],
    secret_name: str,
    value: pulumi.Input[str],
    content_type: str,
    expires: int,
    opts: pulumi.ResourceOptions,
) -> keyvault.Secret:
    """A Key Vault secret whose value is always marked secret, whatever its source."""
    if not _KV_OBJECT_NAME.match(secret_name):
        raise ValueError(f"{secret_name!r} is not a valid Key Vault secret name")
    return keyvault.Secret(
        name,
        resource_group_name=resource_group_name,
        vault_name=vault_name,
        secret_name=secret_name,
        properties=cast(Any, secret_properties(pulumi.Output.secret(value), content_type, expires)),
        opts=opts,
    )


def create_secret_provider_class(
    resource_name: str, body: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
) -> k8s.apiextensions.CustomResource:
    """Register a SecretProviderClass whose ``body`` comes from :func:`secret_provider_class`.

    Outputs are placed inside the body, so only they stay unknown in a preview.
    """
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=CSI_API_VERSION,
        kind="SecretProviderClass",
        metadata=body["metadata"],
        spec=body["spec"],
        opts=opts,
    )


class VaultArgs(TypedDict, total=False):
    """Arguments of :class:`Vault`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the vault."""
    location: pulumi.Input[str]
    """Azure region."""
    vault_name: Required[pulumi.Input[str]]
    """Globally unique vault name (3-24 chars); see ``naming.key_vault_name`` (an Output
    when a random suffix makes a dev vault recreatable)."""
    tenant_id: pulumi.Input[str]
    """Entra tenant; defaults to the deploying client's tenant."""
    sku: str
    """``standard`` (default) or ``premium``."""
    soft_delete_retention_days: int
    """7..90, default 90."""
    purge_protection: bool
    """Default True. False is for throwaway dev vaults only (the config requires a reason)."""
    public_network_access: str
    """``Enabled`` (firewall Deny + allowed subnets) or ``Disabled`` (private endpoint only)."""
    allowed_subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets let through the firewall (the AKS node subnet; needs the
    ``Microsoft.KeyVault`` service endpoint on that subnet)."""
    allowed_ip_ranges: Sequence[str]
    """Extra CIDRs let through the firewall (operator workstations)."""
    private_endpoint_subnet_id: pulumi.Input[str] | None
    """When set, a private endpoint in this subnet plus the privatelink DNS zone."""
    virtual_network_id: pulumi.Input[str] | None
    """VNet the privatelink DNS zone is linked to (required with a private endpoint)."""
    log_analytics_workspace_id: pulumi.Input[str] | None
    """Workspace receiving the ``AuditEvent`` diagnostic logs."""
    secrets_issued_on: str
    """Rotation anchor (ISO date): expiry = anchor + ``secret_rotation_days`` (default
    ``DEFAULT_SECRETS_ISSUED_ON``, 2026-11-23)."""
    secret_rotation_days: int
    """Validity of generated secrets in days (default 180)."""
    random_name_suffix: bool
    """Append ``-`` and 4 random ``[a-z0-9]`` to ``vault_name`` (then a base of at most 19
    characters, ``naming.key_vault_base``): a recreated stack never collides with its
    soft-deleted predecessor (dev)."""
    readers: Mapping[str, pulumi.Input[str]]
    """Logical name -> principal id granted "Key Vault Secrets User" on the vault."""
    protect: bool
    """Protect the vault from deletion (set for prod)."""
    tags: Mapping[str, str]
    """Azure tags."""


class Vault(pulumi.ComponentResource):
    """Key Vault (RBAC, soft delete, purge protection, firewall, audit logs) + generated secrets."""

    vault_id: pulumi.Output[str]
    """ARM id of the vault."""
    vault_name: pulumi.Output[str]
    """Name of the vault (the CSI ``keyvaultName``)."""
    vault_uri: pulumi.Output[str]
    """``https://<name>.vault.azure.net/``."""
    tenant_id: pulumi.Output[str]
    """Tenant of the vault (the CSI ``tenantId``)."""
    secret_names: dict[str, str]
    """Logical name (``fernet_key``, ``api_secret_key``, ``jwt_secret``) -> Key Vault name."""
    secrets_expire: int
    """Expiry of the generated secrets (epoch seconds)."""
    _secrets: dict[str, keyvault.Secret]

    @property
    def secrets(self) -> dict[str, keyvault.Secret]:
        """The generated secret resources, by logical name (Python ``depends_on``)."""
        return self._secrets

    def __init__(
        self, name: str, args: VaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token(Vault), name, {}, opts)
        self._base_name = name
        child = pulumi.ResourceOptions(parent=self)
        rg = args["resource_group_name"]
        issued_on = args.get("secrets_issued_on", DEFAULT_SECRETS_ISSUED_ON)
        self.secrets_expire = secret_expiry_epoch(issued_on, args.get("secret_rotation_days", 180))
        private_subnet = args.get("private_endpoint_subnet_id")
        if private_subnet is not None and args.get("virtual_network_id") is None:
            raise ValueError(
                f"{name}: a private endpoint needs virtual_network_id for its DNS zone"
            )
        public_access = args.get(
            "public_network_access", "Disabled" if private_subnet is not None else "Enabled"
        )

        tenant: pulumi.Input[str] = args.get("tenant_id") or (
            authorization.get_client_config_output().tenant_id
        )
        properties = vault_properties(
            tenant_id=tenant,
            sku=args.get("sku", "standard"),
            soft_delete_retention_days=args.get("soft_delete_retention_days", 90),
            purge_protection=args.get("purge_protection", True),
            public_network_access=public_access,
            network_acls=vault_network_acls(
                list(args.get("allowed_subnet_ids", ())), list(args.get("allowed_ip_ranges", ()))
            ),
        )
        vault_name: pulumi.Input[str] = args["vault_name"]
        if args.get("random_name_suffix"):
            # Kept in state: every `up` of this stack keeps the name; a destroyed and
            # recreated stack gets a new one, so its soft-deleted predecessor (held for the
            # retention period, purge protection or not) never blocks the new vault.
            suffix = random.RandomString(
                f"{name}-name-suffix", length=4, special=False, upper=False, opts=child
            )
            vault_name = pulumi.Output.all(args["vault_name"], suffix.result).apply(
                lambda v: random_vault_name(v[0], v[1])
            )
        vault = keyvault.Vault(
            name,
            vault_name=vault_name,
            resource_group_name=rg,
            location=args.get("location"),
            properties=cast(Any, properties),
            tags=dict(args.get("tags", {})),
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("protect", False)),
        )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.name.apply(vault_uri)
        self.tenant_id = pulumi.Output.from_input(tenant)

        workspace = args.get("log_analytics_workspace_id")
        if workspace is not None:
            monitor.DiagnosticSetting(
                f"{name}-audit",
                name="audit-to-log-analytics",
                resource_uri=vault.id,
                workspace_id=workspace,
                logs=[{"category": "AuditEvent", "enabled": True}],
                metrics=[{"category": "AllMetrics", "enabled": True}],
                opts=child,
            )

        vnet_id = args.get("virtual_network_id")
        if private_subnet is not None and vnet_id is not None:
            private_endpoint(
                name,
                target_id=vault.id,
                group_id="vault",
                zone_name=VAULT_PRIVATE_DNS_ZONE,
                resource_group_name=args["resource_group_name"],
                location=args.get("location"),
                subnet_id=private_subnet,
                virtual_network_id=vnet_id,
                opts=child,
            )

        # Generated values: pulumi-random, regenerated when the rotation anchor moves.
        # The fernet key has no keeper: rotating it re-encrypts stored data and is a
        # planned operation (`airflow rotate-fernet-key` with old and new key).
        keepers = {"issuedOn": issued_on}
        fernet_bytes = random.RandomBytes(f"{name}-fernet", length=32, opts=child)
        api_key = random.RandomPassword(
            f"{name}-api-secret-key", length=64, special=False, keepers=keepers, opts=child
        )
        jwt = random.RandomPassword(
            f"{name}-jwt-secret", length=64, special=False, keepers=keepers, opts=child
        )
        generated: dict[str, tuple[str, pulumi.Input[str], str]] = {
            "fernet_key": (
                FERNET_KEY_SECRET,
                pulumi.Output.secret(fernet_bytes.base64.apply(fernet_key_from_base64)),
                "text/plain; airflow fernet key (url-safe base64, 32 bytes)",
            ),
            "api_secret_key": (
                API_SECRET_KEY_SECRET,
                api_key.result,
                "text/plain; airflow api secret_key",
            ),
            "jwt_secret": (
                JWT_SECRET_SECRET,
                jwt.result,
                "text/plain; airflow api_auth jwt_secret",
            ),
        }
        self.secret_names = {}
        self._secrets = {}
        for logical, (kv_name, value, content_type) in generated.items():
            self.secret_names[logical] = kv_name
            self._secrets[logical] = vault_secret(
                f"{name}-{kv_name}",
                resource_group_name=rg,
                vault_name=vault.name,
                secret_name=kv_name,
                value=value,
                content_type=content_type,
                expires=self.secrets_expire,
                opts=child,
            )

        for reader, principal in args.get("readers", {}).items():
            self.grant_reader(reader, principal)

        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "vault_name": self.vault_name,
                "vault_uri": self.vault_uri,
                "secret_names": self.secret_names,
            }
        )

    def grant_reader(
        self, reader: str, principal_id: pulumi.Input[str], secret_name: str | None = None
    ) -> authorization.RoleAssignment:
        """ "Key Vault Secrets User" for ``principal_id`` on the vault (or one secret)."""
        suffix = f"-{secret_name}" if secret_name else ""
        return role_assignment(
            f"{self._base_name}-reader-{reader}{suffix}",
            principal_id=principal_id,
            role=SECRETS_USER_ROLE,
            scope=self.vault_id.apply(lambda vid: secrets_user_scope(vid, secret_name)),
            opts=pulumi.ResourceOptions(parent=self),
        )
