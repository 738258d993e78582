"""The VNet the platform lives in: AKS nodes, the Postgres delegated subnet, private endpoints.

Each subnet gets its own network security group; the AKS subnet carries service endpoints
for Key Vault and Storage so both can keep ``defaultAction: Deny`` and still admit the nodes.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_azure_native import network

from airflow_aks.components.tokens import type_token

POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
AKS_SERVICE_ENDPOINTS = ("Microsoft.KeyVault", "Microsoft.Storage")


def subnet_plan(
    vnet_name: str, aks_cidr: str, database_cidr: str, endpoint_cidr: str
) -> list[dict[str, Any]]:
    """The subnets to create, by role: name, prefix, delegation, endpoints, policies."""
    return [
        {
            "role": "aks",
            "name": f"snet-aks-{vnet_name}",
            "address_prefix": aks_cidr,
            "service_endpoints": list(AKS_SERVICE_ENDPOINTS),
            "delegation": None,
        },
        {
            "role": "database",
            "name": f"snet-db-{vnet_name}",
            "address_prefix": database_cidr,
            "service_endpoints": [],
            # Flexible server private access needs a subnet delegated to it alone.
            "delegation": POSTGRES_DELEGATION,
        },
        {
            "role": "endpoints",
            "name": f"snet-pe-{vnet_name}",
            "address_prefix": endpoint_cidr,
            "service_endpoints": [],
            "delegation": None,
        },
    ]


class NetworkArgs(TypedDict):
    """Arguments of :class:`Network`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the VNet."""
    location: pulumi.Input[str]
    """Azure region."""
    vnet_name: str
    """Name of the virtual network."""
    vnet_cidr: str
    """Address space of the VNet."""
    aks_subnet_cidr: str
    """Node subnet (pods use the overlay CIDR, not this range)."""
    database_subnet_cidr: str
    """Subnet delegated to PostgreSQL flexible server."""
    private_endpoint_subnet_cidr: str
    """Subnet for private endpoints (Key Vault, Storage) when enabled."""
    tags: dict[str, str]
    """Azure tags."""
    public_inbound_ports: NotRequired[list[int]]
    """TCP ports of a public load balancer in front of the nodes (the entrance's
    listeners): allowed from the internet on the node subnet's NSG."""


def inbound_rules(role: str, public_ports: list[int]) -> list[network.SecurityRuleArgsDict]:
    """Inbound allows of a subnet's NSG. Only the node subnet gets any: a public load
    balancer's traffic arrives there, and the NSG's default rules end in DenyAllInBound,
    which drops it (Azure/AKS#674: "I have to permit traffic from the Internet to Any on
    443"; read 2026-12-07). Probes come from the AzureLoadBalancer tag, which the default
    rule AllowAzureLoadBalancerInBound admits."""
    if role != "aks" or not public_ports:
        return []
    return [
        {
            "name": "allow-public-load-balancer",
            "priority": 200,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "source_address_prefix": "Internet",
            "source_port_range": "*",
            "destination_address_prefix": "*",
            "destination_port_ranges": [str(p) for p in sorted(set(public_ports))],
        }
    ]


class Network(pulumi.ComponentResource):
    """A VNet with one NSG-guarded subnet per role."""

    vnet_id: pulumi.Output[str]
    """ARM id of the VNet."""
    aks_subnet_id: pulumi.Output[str]
    """ARM id of the AKS node subnet."""
    database_subnet_id: pulumi.Output[str]
    """ARM id of the delegated Postgres subnet."""
    private_endpoint_subnet_id: pulumi.Output[str]
    """ARM id of the private-endpoint subnet."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token(Network), name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        vnet = network.VirtualNetwork(
            name,
            virtual_network_name=args["vnet_name"],
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            address_space={"address_prefixes": [args["vnet_cidr"]]},
            tags=args["tags"],
            # Subnets are separate resources; inline subnets would fight them on every update.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        ids: dict[str, pulumi.Output[str]] = {}
        previous: pulumi.Resource | None = None
        for spec in subnet_plan(
            args["vnet_name"],
            args["aks_subnet_cidr"],
            args["database_subnet_cidr"],
            args["private_endpoint_subnet_cidr"],
        ):
            role = str(spec["role"])
            nsg = network.NetworkSecurityGroup(
                f"{name}-{role}",
                network_security_group_name=f"nsg-{spec['name']}",
                resource_group_name=args["resource_group_name"],
                location=args["location"],
                security_rules=inbound_rules(role, list(args.get("public_inbound_ports", []))),
                tags=args["tags"],
                opts=child,
            )
            delegation = spec["delegation"]
            subnet = network.Subnet(
                f"{name}-{role}",
                subnet_name=str(spec["name"]),
                virtual_network_name=vnet.name,
                resource_group_name=args["resource_group_name"],
                address_prefix=str(spec["address_prefix"]),
                network_security_group={"id": nsg.id},
                service_endpoints=[{"service": s} for s in spec["service_endpoints"]],
                delegations=[{"name": "delegation", "service_name": delegation}]
                if delegation
                else [],
                private_endpoint_network_policies="Enabled",
                default_outbound_access=False,
                # Azure serialises subnet writes on one VNet; chaining avoids 409 retries.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else []),
            )
            previous = subnet
            ids[role] = subnet.id
        self.vnet_id = vnet.id
        self.aks_subnet_id = ids["aks"]
        self.database_subnet_id = ids["database"]
        self.private_endpoint_subnet_id = ids["endpoints"]
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "aks_subnet_id": self.aks_subnet_id,
                "database_subnet_id": self.database_subnet_id,
                "private_endpoint_subnet_id": self.private_endpoint_subnet_id,
            }
        )
