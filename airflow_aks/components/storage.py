"""Remote task-log storage: a locked-down StorageV2 account with one private container.

No account keys (shared-key access off, so only Entra identities get in), TLS 1.2, HTTPS
only, no public blobs, a firewall that denies all but the AKS subnet, and a lifecycle rule
that deletes old logs. The Airflow identity gets "Storage Blob Data Contributor" on the
container only, never on the account.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict, cast

import pulumi
from pulumi_azure_native import storage

from airflow_aks.components.tokens import type_token

from .identity import role_assignment
from .private_link import deny_by_default, private_endpoint

BLOB_CONTRIBUTOR_ROLE = "Storage Blob Data Contributor"
DEFAULT_CONTAINER = "airflow-logs"

_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


# --------------------------------------------------------------------------- pure functions


def account_network_rules(
    subnet_ids: Sequence[pulumi.Input[str]], ip_ranges: Sequence[str] = ()
) -> dict[str, Any]:
    """Deny by default; trusted Azure services and the given subnets allowed."""
    return deny_by_default(
        [{"virtual_network_resource_id": s, "action": "Allow"} for s in subnet_ids],
        [{"ip_address_or_range": r, "action": "Allow"} for r in ip_ranges],
    )


BLOB_PRIVATE_DNS_ZONE = "privatelink.blob.core.windows.net"  # Azure private endpoint DNS table


def account_settings(
    account_name: str, sku_name: str = "Standard_LRS", public_network_access: str = "Enabled"
) -> dict[str, Any]:
    """Hardened ``StorageAccount`` arguments (everything but names and network rules)."""
    if public_network_access not in ("Enabled", "Disabled"):
        raise ValueError(
            f"publicNetworkAccess must be Enabled or Disabled, not {public_network_access!r}"
        )
    if not _ACCOUNT.match(account_name):
        raise ValueError(f"{account_name!r} is not a valid storage account name (3-24 a-z, 0-9)")
    return {
        "account_name": account_name,
        "kind": "StorageV2",
        "sku": {"name": sku_name},
        "access_tier": "Hot",
        "allow_shared_key_access": False,
        "default_to_o_auth_authentication": True,
        "allow_blob_public_access": False,
        "allow_cross_tenant_replication": False,
        "enable_https_traffic_only": True,
        "minimum_tls_version": "TLS1_2",
        # Enabled: the firewall denies all but the allowed subnets. Disabled (prod): only the
        # private endpoint reaches the account.
        "public_network_access": public_network_access,
    }


def lifecycle_policy(container: str, retention_days: int) -> dict[str, Any]:
    """Lifecycle rule deleting blobs under ``<container>/`` older than ``retention_days``."""
    if retention_days < 1:
        raise ValueError("log retention must be at least 1 day")
    if not _CONTAINER.match(container):
        raise ValueError(f"{container!r} is not a valid container name")
    return {
        "rules": [
            {
                "name": f"delete-{container}-after-{retention_days}d",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {
                        "blob_types": ["blockBlob", "appendBlob"],
                        "prefix_match": [f"{container}/"],
                    },
                    "actions": {
                        "base_blob": {
                            "delete": {"days_after_modification_greater_than": retention_days}
                        }
                    },
                },
            }
        ]
    }


def container_scope(account_id: str, container: str) -> str:
    """ARM id of a blob container: the role-assignment scope for log writers."""
    if "/providers/Microsoft.Storage/storageAccounts/" not in account_id:
        raise ValueError(f"{account_id!r} is not a storage account id")
    return f"{account_id}/blobServices/default/containers/{container}"


def blob_endpoint(account_name: str, dns_suffix: str = "core.windows.net") -> str:
    """Blob service endpoint of an account (public Azure cloud by default)."""
    return f"https://{account_name}.blob.{dns_suffix}/"


# --------------------------------------------------------------------------- component


class LogStorageArgs(TypedDict, total=False):
    """Arguments of :class:`LogStorage`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the account."""
    location: pulumi.Input[str]
    """Azure region."""
    account_name: Required[str]
    """Globally unique account name; see ``airflow_aks.components.naming.storage_account_name``."""
    sku_name: str
    """``Standard_LRS`` (dev) / ``Standard_ZRS`` (prod), ..."""
    container_name: str
    """Log container, default ``airflow-logs``."""
    log_retention_days: int
    """Blobs older than this are deleted (default 30)."""
    allowed_subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets let through the firewall (AKS nodes; needs the ``Microsoft.Storage``
    service endpoint on that subnet)."""
    allowed_ip_ranges: Sequence[str]
    """Extra public CIDRs let through the firewall."""
    private_endpoint_subnet_id: pulumi.Input[str] | None
    """When set: a blob private endpoint in this subnet (``privatelink.blob.core.windows.net``
    zone linked to ``virtual_network_id``) and public network access off."""
    virtual_network_id: pulumi.Input[str] | None
    """VNet the privatelink DNS zone is linked to (required with a private endpoint)."""
    writers: Mapping[str, pulumi.Input[str]]
    """Logical name -> principal id granted "Storage Blob Data Contributor" on the container."""
    protect: bool
    """Protect the account from deletion (set for prod)."""
    tags: Mapping[str, str]
    """Azure tags."""


class LogStorage(pulumi.ComponentResource):
    """StorageV2 account + private ``airflow-logs`` container + lifecycle rule + RBAC."""

    account_id: pulumi.Output[str]
    """ARM id of the storage account."""
    account_name: pulumi.Output[str]
    """Name of the storage account."""
    container_name: str
    """Name of the log container."""
    container_id: pulumi.Output[str]
    """ARM id of the log container (the writers' role scope)."""
    blob_endpoint: pulumi.Output[str]
    """``https://<account>.blob.core.windows.net/``."""

    def __init__(
        self, name: str, args: LogStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token(LogStorage), name, {}, opts)
        self._base_name = name
        child = pulumi.ResourceOptions(parent=self)
        rg = args["resource_group_name"]
        container = args.get("container_name", DEFAULT_CONTAINER)
        policy = lifecycle_policy(container, args.get("log_retention_days", 30))
        private_subnet = args.get("private_endpoint_subnet_id")
        vnet_id = args.get("virtual_network_id")
        if private_subnet is not None and vnet_id is None:
            raise ValueError(
                f"{name}: a private endpoint needs virtual_network_id for its DNS zone"
            )
        settings = account_settings(
            args["account_name"],
            args.get("sku_name", "Standard_LRS"),
            "Disabled" if private_subnet is not None else "Enabled",
        )
        rules = account_network_rules(
            list(args.get("allowed_subnet_ids", ())), list(args.get("allowed_ip_ranges", ()))
        )
        account = storage.StorageAccount(
            name,
            resource_group_name=rg,
            location=args.get("location"),
            network_rule_set=cast(Any, rules),
            tags=dict(args.get("tags", {})),
            **settings,
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("protect", False)),
        )
        if private_subnet is not None and vnet_id is not None:
            private_endpoint(
                name,
                target_id=account.id,
                group_id="blob",
                zone_name=BLOB_PRIVATE_DNS_ZONE,
                resource_group_name=rg,
                location=args.get("location"),
                subnet_id=private_subnet,
                virtual_network_id=vnet_id,
                opts=child,
            )
        # Containers and lifecycle rules go through the ARM control plane: public network
        # access off does not block them.
        blob_container = storage.BlobContainer(
            f"{name}-{container}",
            account_name=account.name,
            resource_group_name=rg,
            container_name=container,
            public_access=storage.PublicAccess.NONE,
            opts=child,
        )
        storage.ManagementPolicy(
            f"{name}-lifecycle",
            account_name=account.name,
            resource_group_name=rg,
            management_policy_name="default",
            policy=cast(Any, policy),
            opts=child,
        )

        self.account_id = account.id
        self.account_name = account.name
        self.container_name = container
        self.container_id = pulumi.Output.all(account.id, blob_container.id).apply(
            lambda v: container_scope(v[0], container)
        )
        self.blob_endpoint = account.name.apply(blob_endpoint)

        for writer, principal in args.get("writers", {}).items():
            self.grant_writer(writer, principal)

        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "container_name": self.container_name,
                "blob_endpoint": self.blob_endpoint,
            }
        )

    def grant_writer(self, writer: str, principal_id: pulumi.Input[str]) -> Any:
        """ "Storage Blob Data Contributor" for ``principal_id`` on the log container only."""
        return role_assignment(
            f"{self._base_name}-writer-{writer}",
            principal_id=principal_id,
            role=BLOB_CONTRIBUTOR_ROLE,
            scope=self.container_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
