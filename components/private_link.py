"""Private DNS and firewall pieces shared by the data services (Key Vault, Storage, Postgres).

Decisions stay in :func:`deny_by_default`; :func:`linked_private_dns_zone` only wires the
zone and its VNet link, with names derived from the caller's component name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_azure_native import privatedns


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
