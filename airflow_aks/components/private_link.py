"""Private DNS and firewall pieces shared by the data services (Key Vault, Storage, Postgres).

Decisions stay in :func:`deny_by_default`; :func:`linked_private_dns_zone` only wires the
zone and its VNet link, with names derived from the caller's component name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_azure_native import network, privatedns


def deny_by_default(
    virtual_network_rules: Sequence[Mapping[str, Any]],
    ip_rules: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A service firewall: deny by default, trusted Azure services and the given rules in.

    Each service spells its subnet and IP rules differently; the caller builds them.
    """
    return {
        "default_action": "Deny",
        "bypass": "AzureServices",
        "virtual_network_rules": list(virtual_network_rules),
        "ip_rules": list(ip_rules),
    }


def linked_private_dns_zone(
    name: str,
    *,
    zone_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    virtual_network_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> tuple[privatedns.PrivateZone, privatedns.VirtualNetworkLink]:
    """A private DNS zone ``{name}-dns`` and its link ``{name}-dns-link`` to the VNet.

    The link does not register VM records (``registration_enabled: False``): the service
    (private endpoint or flexible server) writes its own records.
    """
    zone = privatedns.PrivateZone(
        f"{name}-dns",
        private_zone_name=zone_name,
        resource_group_name=resource_group_name,
        location="global",
        opts=opts,
    )
    link = privatedns.VirtualNetworkLink(
        f"{name}-dns-link",
        private_zone_name=zone.name,
        resource_group_name=resource_group_name,
        location="global",
        registration_enabled=False,
        virtual_network={"id": virtual_network_id},
        opts=opts,
    )
    return zone, link


def private_endpoint(
    name: str,
    *,
    target_id: pulumi.Input[str],
    group_id: str,
    zone_name: str,
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str] | None,
    subnet_id: pulumi.Input[str],
    virtual_network_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> network.PrivateEndpoint:
    """A private endpoint ``{name}-pe`` to one sub-resource (``group_id``: ``vault``,
    ``blob``, ...) of ``target_id``, with its privatelink zone linked to the VNet and a zone
    group ``{name}-pe-dns`` that writes the endpoint's A record."""
    zone, _ = linked_private_dns_zone(
        name,
        zone_name=zone_name,
        resource_group_name=resource_group_name,
        virtual_network_id=virtual_network_id,
        opts=opts,
    )
    endpoint = network.PrivateEndpoint(
        f"{name}-pe",
        resource_group_name=resource_group_name,
        location=location,
        subnet={"id": subnet_id},
        private_link_service_connections=[
            {
                "name": f"{name}-{group_id}",
                "private_link_service_id": target_id,
                "group_ids": [group_id],
            }
        ],
        opts=opts,
    )
    network.PrivateDnsZoneGroup(
        f"{name}-pe-dns",
        resource_group_name=resource_group_name,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name="default",
        private_dns_zone_configs=[{"name": group_id, "private_dns_zone_id": zone.id}],
        opts=opts,
    )
    return endpoint
