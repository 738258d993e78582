"""A team on the shared platform: namespace, keyless identity, own Key Vault, CSI mount.

Composes two airflow-aks components into a shape the platform itself does not have:
``WorkloadIdentity`` (trusted by the team's ServiceAccount, federated with the platform
cluster's OIDC issuer) and ``Vault`` (the team's secrets, firewalled to the platform's node
subnet, audit logs to the platform's workspace, the identity reading only its secrets). Everything
about the platform comes from its stack outputs (a StackReference), nothing is re-created.
"""

import pulumi
import pulumi_kubernetes as k8s

from airflow_aks.components.identity import WorkloadIdentity
from airflow_aks.components.secrets import (
    Vault,
    create_secret_provider_class,
    secret_provider_class,
)

SERVICE_ACCOUNT = "etl-runner"
SECRETS = ("warehouse-dsn",)
"""Secrets the team puts into its vault (by hand or another pipeline) and mounts."""


def build(platform_stack: str, team: str, vault_name: str) -> dict[str, pulumi.Output]:
    """Create the team's resources; returns the stack outputs."""
    platform = pulumi.StackReference(platform_stack)
    out = platform.get_output
    cluster = k8s.Provider(
        "platform-cluster", kubeconfig=out("kubeconfig"), enable_server_side_apply=True
    )
    on_cluster = pulumi.ResourceOptions(provider=cluster)
    namespace = k8s.core.v1.Namespace(
        team,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=team, labels={"app.kubernetes.io/part-of": team}),
        opts=on_cluster,
    )
    identity = WorkloadIdentity(
        f"{team}-etl",
        {
            "resource_group_name": out("resourceGroupName"),
            "location": out("location"),
            "identity_name": f"id-{team}-etl",
            "oidc_issuer_url": out("oidcIssuerUrl"),
            "namespace": team,
            "service_accounts": [SERVICE_ACCOUNT],
        },
        on_cluster,
        wait_for=[namespace],
    )
    vault = Vault(
        f"{team}-kv",
        {
            "resource_group_name": out("resourceGroupName"),
            "location": out("location"),
            "vault_name": vault_name,
            "allowed_subnet_ids": [out("aksSubnetId")],
            "log_analytics_workspace_id": out("logAnalyticsWorkspaceId"),
        },
    )
    # Least privilege (policy identity-no-vault-wide-read): one grant per mounted secret.
    for secret in SECRETS:
        vault.grant_reader("etl", identity.principal_id, secret_name=secret)
    create_secret_provider_class(
        f"{team}-kv-mount",
        secret_provider_class(
            f"{team}-kv",
            team,
            identity.client_id,
            vault.vault_name,
            vault.tenant_id,
            list(SECRETS),
        ),
        pulumi.ResourceOptions(provider=cluster, depends_on=[namespace]),
    )
    return {
        "namespace": pulumi.Output.from_input(team),
        "vaultId": vault.vault_id,
        "vaultUri": vault.vault_uri,
        "etlIdentityId": identity.identity_id,
        "etlClientId": identity.client_id,
    }


def main() -> None:
    cfg = pulumi.Config()
    outputs = build(
        cfg.require("platformStack"), cfg.get("team") or "analytics", cfg.require("keyVaultName")
    )
    for key, value in outputs.items():
        pulumi.export(key, value)
