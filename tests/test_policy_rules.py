"""Every rule of the policy pack, both ways, table-driven and without mocks.

Each case takes a known-good fixture, applies a few changes (dotted paths; tuples for
keys that contain dots) and states whether the named rule must report a violation.
``test_every_rule_has_both_cases`` fails when a rule lacks a violating or a passing case.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_policy_stack import FIX_HINT_RULES

from airflow_aks.policies.rules import ALL_RULES, RULES_BY_NAME, Context
from airflow_aks.policies.rules import _core as c
from airflow_aks.policies.rules.charts import is_secret_key, secret_literals

DEL = object()
Path = str | tuple[str | int, ...]


def mutate(base: dict[str, Any], changes: dict[Path, Any]) -> dict[str, Any]:
    """Deep copy of ``base`` with ``changes`` applied; ``DEL`` removes a key."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        keys: list[Any] = (
            [int(k) if k.isdigit() else k for k in path.split(".")]
            if isinstance(path, str)
            else list(path)
        )
        cur: Any = out
        for k in keys[:-1]:
            if isinstance(k, str) and k not in cur:
                cur[k] = {}
            cur = cur[k]
        if value is DEL:
            del cur[keys[-1]]
        else:
            cur[keys[-1]] = value
    return out


# ------------------------------------------------------------------ known-good fixtures

CLUSTER = {
    "resourceName": "aks-airflow-prod-weu",
    "enableRBAC": True,
    "disableLocalAccounts": True,
    "diskEncryptionSetID": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
    "diskEncryptionSets/des",
    "addonProfiles": {
        "omsagent": {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": "[unknown]", "useAADAuth": "true"},
        },
        "azurepolicy": {"enabled": True},
        "azureKeyvaultSecretsProvider": {
            "enabled": True,
            "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        },
    },
    "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"], "disableRunCommand": True},
    "networkProfile": {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkPolicy": "cilium",
    },
    "aadProfile": {"managed": True, "enableAzureRBAC": True, "adminGroupObjectIDs": ["g1"]},
    "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {
        "workloadIdentity": {"enabled": True},
        "imageCleaner": {"enabled": True},
        "defender": {
            "logAnalyticsWorkspaceResourceId": "[unknown]",
            "securityMonitoring": {"enabled": True},
        },
    },
    "sku": {"name": "Base", "tier": "Standard"},
    "autoUpgradeProfile": {"upgradeChannel": "stable", "nodeOSUpgradeChannel": "NodeImage"},
    "agentPoolProfiles": [
        {
            "name": "system",
            "mode": "System",
            "maxPods": 110,
            "osDiskType": "Ephemeral",
            "enableEncryptionAtHost": True,
            "enableNodePublicIP": False,
            "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
            "availabilityZones": ["1", "2", "3"],
        }
    ],
}
POOL = {
    "agentPoolName": "tasks",
    "mode": "User",
    "maxPods": 110,
    "osDiskType": "Ephemeral",
    "enableEncryptionAtHost": True,
    "enableNodePublicIP": False,
    "availabilityZones": ["1", "2", "3"],
}
VAULT = {
    "vaultName": "kv-airflow",
    "properties": {
        "tenantId": "t",
        "enableRbacAuthorization": True,
        "enablePurgeProtection": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
        "publicNetworkAccess": "Disabled",
    },
}
KV_SECRET = {
    "properties": {
        "value": "[secret]",
        "contentType": "text/plain",
        "attributes": {"expires": 1893456000},
    }
}
KV_KEY = {"properties": {"kty": "RSA", "attributes": {"exp": 1893456000}}}  # ARM spelling
STORAGE = {
    "allowSharedKeyAccess": False,
    "minimumTlsVersion": "TLS1_2",
    "allowBlobPublicAccess": False,
    "enableHttpsTrafficOnly": True,
    "networkRuleSet": {"defaultAction": "Deny"},
}
CONTAINER = {"containerName": "logs", "publicAccess": "None"}
PG = {
    "backup": {"backupRetentionDays": 14, "geoRedundantBackup": "Enabled"},
    "highAvailability": {"mode": "ZoneRedundant"},
    "network": {"publicNetworkAccess": "Disabled"},
    "authConfig": {"activeDirectoryAuth": "Enabled", "passwordAuth": "Enabled"},
}
PG_CONFIG = {"configurationName": "require_secure_transport", "value": "ON"}
PG_FIREWALL = {"startIpAddress": "10.1.0.4", "endIpAddress": "10.1.0.4"}
KV_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROLE_DEFS = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions"
ROLE_ASSIGNMENT = {
    "roleDefinitionId": f"{ROLE_DEFS}/{KV_USER}",
    "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    "principalId": "[unknown]",
    "principalType": "ServicePrincipal",
}
FIC = {
    "resourceName": "id-airflow",
    "issuer": "[unknown]",
    "subject": "system:serviceaccount:airflow:airflow-worker",
    "audiences": ["api://AzureADTokenExchange"],
}
POD_SPEC = {
    "serviceAccountName": "airflow-worker",
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "ghcr.io/example/app:1.2.3",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "256Mi"},
            },
            "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets"}],
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        }
    ],
}
META = {"name": "app", "namespace": "airflow"}
DEPLOYMENT = {
    "metadata": META,
    "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": POD_SPEC}},
}
JOB = {"metadata": META, "spec": {"template": {"spec": POD_SPEC}}}
CRON_JOB = {"metadata": META, "spec": {"jobTemplate": {"spec": {"template": {"spec": POD_SPEC}}}}}
POD = {"metadata": META, "spec": POD_SPEC}
ROLE = {
    "metadata": {"name": "launcher", "namespace": "airflow"},
    "rules": [
        {
            "apiGroups": [""],
            "resources": ["pods", "pods/log"],
            "verbs": ["get", "list", "create", "delete"],
        }
    ],
}
SERVICE_ACCOUNT = {
    "metadata": {"name": "airflow-worker", "namespace": "airflow"},
    "automountServiceAccountToken": False,
}
SERVICE_TYPE = "kubernetes:core/v1:Service"
SERVICE = {
    "metadata": META,
    "spec": {"type": "ClusterIP", "ports": [{"port": 8080}], "selector": {"app": "x"}},
}
LINKERD_REF = {"namespace": "airflow", "kind": "ServiceAccount"}
MESH_TLS_AUTH = {
    "apiVersion": "policy.linkerd.io/v1alpha1",
    "kind": "MeshTLSAuthentication",
    "metadata": {"name": "api-server", "namespace": "airflow"},
    "spec": {"identityRefs": [{**LINKERD_REF, "name": "airflow-scheduler"}]},
}
AUTHZ_POLICY = {
    "apiVersion": "policy.linkerd.io/v1alpha1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "api-server", "namespace": "airflow"},
    "spec": {
        "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "api-server"},
        "requiredAuthenticationRefs": [
            {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "api-server"}
        ],
    },
}
MTP = {
    "apiVersion": "kuma.io/v1alpha1",
    "kind": "MeshTrafficPermission",
    "metadata": {"name": "api-server", "namespace": "airflow", "labels": {"kuma.io/mesh": "x"}},
    "spec": {
        "targetRef": {"kind": "Dataplane", "labels": {"component": "api-server"}},
        "from": [
            {
                "targetRef": {"kind": "MeshSubset", "tags": {"component": "scheduler"}},
                "default": {"action": "Allow"},
            }
        ],
    },
}
AIRFLOW = {
    "chart": "airflow",
    "version": "1.22.0",
    "namespace": "airflow",
    "repositoryOpts": {"repo": "https://airflow.apache.org"},
    "values": {
        "executor": "KubernetesExecutor",
        "fernetKeySecretName": "airflow-fernet-key",
        "apiSecretKeySecretName": "airflow-api-secret-key",
        "jwtSecretName": "airflow-jwt-secret",
        "data": {"metadataSecretName": "airflow-metadata"},
        "config": {
            "logging": {
                "remote_logging": "True",
                "remote_base_log_folder": "wasb://logs@st.blob.core.windows.net/airflow",
                "remote_log_conn_id": "wasb_logs",
            }
        },
        "labels": {"azure.workload.identity/use": "true"},
        "enableBuiltInSecretEnvVars": {
            "AIRFLOW__CORE__FERNET_KEY": False,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": False,
            "AIRFLOW_CONN_AIRFLOW_DB": False,
            "AIRFLOW__API__SECRET_KEY": False,
            "AIRFLOW__API_AUTH__JWT_SECRET": False,
        },
        "apiServer": {"service": {"type": "ClusterIP"}},
        "migrateDatabaseJob": {"useHelmHooks": False},
        "createUserJob": {"useHelmHooks": False},
        "images": {"airflow": {"repository": "apache/airflow", "tag": "3.2.1"}},
        "securityContexts": {
            "pod": {
                "runAsUser": 50000,
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        },
        "workers": {"serviceAccount": {"create": True, "name": "airflow-worker"}},
    },
}
LINKERD_CHART = {
    "chart": "linkerd-control-plane",
    "version": "2026.8.3",
    "namespace": "linkerd",
    "values": {"proxy": {"nativeSidecar": True}, "identity": {"externalCA": True}},
}

GOOD: dict[str, dict[str, Any]] = {
    c.MANAGED_CLUSTER: CLUSTER,
    c.AGENT_POOL: POOL,
    c.VAULT: VAULT,
    c.KV_SECRET: KV_SECRET,
    c.KV_KEY: KV_KEY,
    c.STORAGE_ACCOUNT: STORAGE,
    c.BLOB_CONTAINER: CONTAINER,
    c.PG_SERVER: PG,
    c.PG_CONFIGURATION: PG_CONFIG,
    c.PG_FIREWALL_RULE: PG_FIREWALL,
    c.ROLE_ASSIGNMENT: ROLE_ASSIGNMENT,
    c.FEDERATED_CREDENTIAL: FIC,
    c.DEPLOYMENT: DEPLOYMENT,
    c.JOB: JOB,
    c.CRON_JOB: CRON_JOB,
    c.POD: POD,
    c.ROLE: ROLE,
    c.CLUSTER_ROLE: {"metadata": {"name": "reader"}, "rules": ROLE["rules"]},
    c.SERVICE_ACCOUNT: SERVICE_ACCOUNT,
    c.HELM_CHART: AIRFLOW,
    SERVICE_TYPE: SERVICE,
}


@dataclass(frozen=True)
class Case:
    rule: str
    type: str
    changes: dict[Path, Any] = field(default_factory=dict)
    violates: bool = True
    production: bool = False
    base: dict[str, Any] | None = None

    @property
    def props(self) -> dict[str, Any]:
        return mutate(self.base if self.base is not None else GOOD[self.type], self.changes)

    def __str__(self) -> str:
        return f"{self.rule}-{'bad' if self.violates else 'ok'}-{self.type.rsplit(':', 1)[-1]}"


def bad(rule: str, typ: str, changes: dict[Path, Any] | None = None, **kw: Any) -> Case:
    return Case(rule, typ, changes or {}, True, **kw)


def ok(rule: str, typ: str, changes: dict[Path, Any] | None = None, **kw: Any) -> Case:
    return Case(rule, typ, changes or {}, False, **kw)


MC, AP = c.MANAGED_CLUSTER, c.AGENT_POOL
P0 = "agentPoolProfiles.0"
CT0 = "spec.template.spec.containers.0"
PS = "spec.template.spec"

CASES: list[Case] = [
    # ---------------------------------------------------------------- AKS
    ok("aks-monitoring-enabled", MC),
    bad("aks-monitoring-enabled", MC, {"addonProfiles.omsagent": DEL}),
    bad("aks-monitoring-enabled", MC, {"addonProfiles.omsagent.config.useAADAuth": "false"}),
    bad(
        "aks-monitoring-enabled",
        MC,
        {"addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID": DEL},
    ),
    ok("aks-rbac-enabled", MC),
    bad("aks-rbac-enabled", MC, {"enableRBAC": False}),
    bad("aks-rbac-enabled", MC, {"enableRBAC": DEL}),
    ok("aks-api-server-restricted", MC),
    ok("aks-api-server-restricted", MC, {"apiServerAccessProfile": {"enablePrivateCluster": True}}),
    bad("aks-api-server-restricted", MC, {"apiServerAccessProfile": DEL}),
    bad(
        "aks-api-server-restricted",
        MC,
        {"apiServerAccessProfile.authorizedIPRanges": ["0.0.0.0/0"]},
    ),
    ok("aks-network-policy", MC),
    bad("aks-network-policy", MC, {"networkProfile.networkPolicy": "none"}),
    bad("aks-network-policy", MC, {"networkProfile.networkPolicy": DEL}),
    ok("aks-dashboard-disabled", MC),
    bad("aks-dashboard-disabled", MC, {"addonProfiles.kubeDashboard": {"enabled": True}}),
    ok("aks-http-application-routing-disabled", MC),
    bad(
        "aks-http-application-routing-disabled",
        MC,
        {"addonProfiles.httpApplicationRouting": {"enabled": True}},
    ),
    ok("aks-azure-policy-addon", MC),
    ok(
        "aks-azure-policy-addon",
        MC,
        {"addonProfiles.azurepolicy": DEL, "addonProfiles.azurePolicy": {"enabled": True}},
    ),
    bad("aks-azure-policy-addon", MC, {"addonProfiles.azurepolicy.enabled": False}),
    ok("aks-disk-encryption-set", MC),
    bad("aks-disk-encryption-set", MC, {"diskEncryptionSetID": DEL}),
    ok("aks-local-accounts-disabled", MC),
    bad("aks-local-accounts-disabled", MC, {"disableLocalAccounts": False}),
    bad("aks-local-accounts-disabled", MC, {"disableLocalAccounts": DEL}),
    ok("aks-entra-rbac", MC),
    bad("aks-entra-rbac", MC, {"aadProfile.enableAzureRBAC": False}),
    bad("aks-entra-rbac", MC, {"aadProfile": DEL}),
    ok("aks-admin-group", MC),
    ok("aks-admin-group", MC, {"aadProfile.adminGroupObjectIDs": "[unknown]"}),
    bad("aks-admin-group", MC, {"aadProfile.adminGroupObjectIDs": []}),
    ok("aks-oidc-issuer-enabled", MC),
    bad("aks-oidc-issuer-enabled", MC, {"oidcIssuerProfile.enabled": False}),
    ok("aks-workload-identity-enabled", MC),
    bad("aks-workload-identity-enabled", MC, {"securityProfile.workloadIdentity": DEL}),
    ok("aks-image-cleaner", MC),
    bad("aks-image-cleaner", MC, {"securityProfile.imageCleaner.enabled": False}),
    ok("aks-paid-tier-in-prod", MC, production=True),
    ok("aks-paid-tier-in-prod", MC, {"sku.tier": "Free"}, production=False),
    bad("aks-paid-tier-in-prod", MC, {"sku.tier": "Free"}, production=True),
    ok("aks-auto-upgrade", MC),
    bad("aks-auto-upgrade", MC, {"autoUpgradeProfile.upgradeChannel": "none"}),
    bad("aks-auto-upgrade", MC, {"autoUpgradeProfile": DEL}),
    ok("aks-node-os-upgrade", MC),
    bad("aks-node-os-upgrade", MC, {"autoUpgradeProfile.nodeOSUpgradeChannel": "Unmanaged"}),
    ok("aks-secret-rotation", MC),
    bad(
        "aks-secret-rotation",
        MC,
        {"addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation": "false"},
    ),
    bad("aks-secret-rotation", MC, {"addonProfiles.azureKeyvaultSecretsProvider": DEL}),
    # AKS: "Spot pools can't set max surge" (aks-docs spot-node-pool.md; azurerm#19355)
    ok("aks-spot-pool-no-max-surge", AP, {"scaleSetPriority": "Spot"}),
    ok("aks-spot-pool-no-max-surge", AP, {"upgradeSettings": {"maxSurge": "33%"}}),
    bad(
        "aks-spot-pool-no-max-surge",
        AP,
        {"scaleSetPriority": "Spot", "upgradeSettings": {"maxSurge": "33%"}},
    ),
    bad(
        "aks-spot-pool-no-max-surge",
        AP,
        {"scaleSetPriority": "Spot", "upgradeSettings": {"maxUnavailable": "1"}},
    ),
    ok("aks-no-node-public-ip", MC),
    ok("aks-no-node-public-ip", AP),
    bad("aks-no-node-public-ip", MC, {f"{P0}.enableNodePublicIP": True}),
    bad("aks-no-node-public-ip", AP, {"enableNodePublicIP": True}),
    ok("aks-max-pods", MC),
    ok("aks-max-pods", AP, {"maxPods": 50}),
    bad("aks-max-pods", MC, {f"{P0}.maxPods": 30}),
    bad("aks-max-pods", AP, {"maxPods": DEL}),
    ok("aks-ephemeral-os-disk", AP),
    bad("aks-ephemeral-os-disk", MC, {f"{P0}.osDiskType": "Managed"}),
    ok("aks-encryption-at-host", MC),
    bad("aks-encryption-at-host", AP, {"enableEncryptionAtHost": DEL}),
    bad("aks-encryption-at-host", MC, {f"{P0}.enableEncryptionAtHost": False}),
    ok("aks-system-pool-size", MC, {f"{P0}.vmSize": "Standard_D4ds_v5"}),
    ok("aks-system-pool-size", AP, {"vmSize": "Standard_B2s"}),  # user pools: any size
    bad("aks-system-pool-size", MC, {f"{P0}.vmSize": "Standard_D2ds_v5"}),
    bad("aks-system-pool-size", MC, {f"{P0}.vmSize": "Standard_B4ms"}),
    ok("aks-ephemeral-os-disk-fits", AP, {"vmSize": "Standard_D4ds_v5", "osDiskSizeGB": 128}),
    ok("aks-ephemeral-os-disk-fits", AP, {"vmSize": "Standard_D4s_v5", "osDiskType": "Managed"}),
    ok("aks-ephemeral-os-disk-fits", AP, {"vmSize": "Standard_D4s_v3"}),  # older: cache disk
    bad("aks-ephemeral-os-disk-fits", AP, {"vmSize": "Standard_D4as_v5"}),
    bad("aks-ephemeral-os-disk-fits", AP, {"vmSize": "Standard_D2ds_v5", "osDiskSizeGB": 128}),
    bad("aks-ephemeral-os-disk-fits", MC, {f"{P0}.vmSize": "Standard_D4pls_v5"}),
    ok("aks-system-pool-critical-only", MC),
    ok("aks-system-pool-critical-only", AP),  # user pools need no taint
    bad("aks-system-pool-critical-only", MC, {f"{P0}.nodeTaints": []}),
    bad("aks-system-pool-critical-only", AP, {"mode": "System"}),
    ok("aks-run-command-disabled", MC),
    bad("aks-run-command-disabled", MC, {"apiServerAccessProfile.disableRunCommand": False}),
    # ---------------------------------------------------------------- Key Vault
    ok("keyvault-key-expiry", c.KV_KEY),
    bad("keyvault-key-expiry", c.KV_KEY, {"properties.attributes.exp": DEL}),
    bad("keyvault-secret-expiry", c.KV_SECRET, {"properties.attributes.expires": DEL}),
    ok("keyvault-secret-expiry", c.KV_SECRET),
    bad("keyvault-secret-expiry", c.KV_SECRET, {"properties.attributes": DEL}),
    ok("keyvault-recoverable", c.VAULT),
    bad("keyvault-recoverable", c.VAULT, {"properties.enableSoftDelete": False}),
    bad("keyvault-recoverable", c.VAULT, {"properties.enablePurgeProtection": DEL}),
    ok("keyvault-network-acl-deny", c.VAULT),
    bad("keyvault-network-acl-deny", c.VAULT, {"properties.networkAcls.defaultAction": "Allow"}),
    bad("keyvault-network-acl-deny", c.VAULT, {"properties.networkAcls": DEL}),
    ok("keyvault-purge-protection", c.VAULT),
    bad("keyvault-purge-protection", c.VAULT, {"properties.enablePurgeProtection": False}),
    ok("keyvault-soft-delete", c.VAULT),
    ok("keyvault-soft-delete", c.VAULT, {"properties.softDeleteRetentionInDays": DEL}),
    bad("keyvault-soft-delete", c.VAULT, {"properties.softDeleteRetentionInDays": 3}),
    bad("keyvault-soft-delete", c.VAULT, {"properties.enableSoftDelete": False}),
    ok("keyvault-secret-content-type", c.KV_SECRET),
    bad("keyvault-secret-content-type", c.KV_SECRET, {"properties.contentType": DEL}),
    ok("keyvault-public-network-disabled", c.VAULT),
    bad("keyvault-public-network-disabled", c.VAULT, {"properties.publicNetworkAccess": "Enabled"}),
    ok("keyvault-rbac-authorization", c.VAULT),
    bad("keyvault-rbac-authorization", c.VAULT, {"properties.enableRbacAuthorization": False}),
    # ---------------------------------------------------------------- Storage
    ok("storage-shared-key-disabled", c.STORAGE_ACCOUNT),
    bad("storage-shared-key-disabled", c.STORAGE_ACCOUNT, {"allowSharedKeyAccess": True}),
    bad("storage-shared-key-disabled", c.STORAGE_ACCOUNT, {"allowSharedKeyAccess": DEL}),
    ok("storage-min-tls-12", c.STORAGE_ACCOUNT),
    bad("storage-min-tls-12", c.STORAGE_ACCOUNT, {"minimumTlsVersion": "TLS1_0"}),
    ok("storage-no-blob-public-access", c.STORAGE_ACCOUNT),
    bad("storage-no-blob-public-access", c.STORAGE_ACCOUNT, {"allowBlobPublicAccess": True}),
    ok("storage-https-only", c.STORAGE_ACCOUNT),
    bad("storage-https-only", c.STORAGE_ACCOUNT, {"enableHttpsTrafficOnly": False}),
    ok("storage-network-default-deny", c.STORAGE_ACCOUNT),
    bad("storage-network-default-deny", c.STORAGE_ACCOUNT, {"networkRuleSet": DEL}),
    ok("storage-container-private", c.BLOB_CONTAINER),
    ok("storage-container-private", c.BLOB_CONTAINER, {"publicAccess": DEL}),
    bad("storage-container-private", c.BLOB_CONTAINER, {"publicAccess": "Blob"}),
    # ---------------------------------------------------------------- PostgreSQL
    ok("postgres-backup-retention", c.PG_SERVER),
    bad("postgres-backup-retention", c.PG_SERVER, {"backup.backupRetentionDays": 1}),
    bad("postgres-backup-retention", c.PG_SERVER, {"backup": DEL}),
    ok("postgres-geo-backup-in-prod", c.PG_SERVER, production=True),
    ok("postgres-geo-backup-in-prod", c.PG_SERVER, {"backup.geoRedundantBackup": "Disabled"}),
    bad(
        "postgres-geo-backup-in-prod",
        c.PG_SERVER,
        {"backup.geoRedundantBackup": "Disabled"},
        production=True,
    ),
    ok("postgres-ha-in-prod", c.PG_SERVER, production=True),
    ok("postgres-ha-in-prod", c.PG_SERVER, {"highAvailability": DEL}),
    bad("postgres-ha-in-prod", c.PG_SERVER, {"highAvailability.mode": "Disabled"}, production=True),
    ok("postgres-public-network-disabled", c.PG_SERVER),
    bad(
        "postgres-public-network-disabled", c.PG_SERVER, {"network.publicNetworkAccess": "Enabled"}
    ),
    bad("postgres-public-network-disabled", c.PG_SERVER, {"network": DEL}),
    ok("postgres-tls-enforced", c.PG_CONFIGURATION),
    ok(
        "postgres-tls-enforced",
        c.PG_CONFIGURATION,
        {"configurationName": "ssl_min_protocol_version", "value": "TLSv1.3"},
    ),
    bad("postgres-tls-enforced", c.PG_CONFIGURATION, {"value": "OFF"}),
    bad(
        "postgres-tls-enforced",
        c.PG_CONFIGURATION,
        {"configurationName": "ssl_min_protocol_version", "value": "TLSv1.1"},
    ),
    ok("postgres-no-open-firewall", c.PG_FIREWALL_RULE),
    bad(
        "postgres-no-open-firewall",
        c.PG_FIREWALL_RULE,
        {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"},
    ),
    bad(
        "postgres-no-open-firewall",
        c.PG_FIREWALL_RULE,
        {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"},
    ),
    ok("postgres-entra-auth", c.PG_SERVER),
    bad("postgres-entra-auth", c.PG_SERVER, {"authConfig": DEL}),
    # ---------------------------------------------------------------- identity
    ok("identity-no-privileged-role", c.ROLE_ASSIGNMENT),
    bad(
        "identity-no-privileged-role",
        c.ROLE_ASSIGNMENT,
        {"roleDefinitionId": f"{ROLE_DEFS}/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"},
    ),
    bad(
        "identity-no-privileged-role",
        c.ROLE_ASSIGNMENT,
        {
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
            "B24988AC-6180-42A0-AB88-20F7382DD24C"
        },
    ),
    bad(
        "identity-no-privileged-role",
        c.ROLE_ASSIGNMENT,
        {"roleDefinitionId": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"},
    ),
    bad(
        "identity-no-privileged-role",
        c.ROLE_ASSIGNMENT,
        {"roleDefinitionId": "f58310d9-a9f6-439a-9e8d-f62e7b41a168"},
    ),
    ok("identity-no-subscription-scope", c.ROLE_ASSIGNMENT),
    ok("identity-no-subscription-scope", c.ROLE_ASSIGNMENT, {"scope": "[unknown]"}),
    bad("identity-no-subscription-scope", c.ROLE_ASSIGNMENT, {"scope": "/subscriptions/0000-1111"}),
    bad(
        "identity-no-subscription-scope", c.ROLE_ASSIGNMENT, {"scope": "/subscriptions/0000-1111/"}
    ),
    bad(
        "identity-no-subscription-scope",
        c.ROLE_ASSIGNMENT,
        {"scope": "/providers/Microsoft.Management/managementGroups/root"},
    ),
    bad("identity-no-subscription-scope", c.ROLE_ASSIGNMENT, {"scope": DEL}),
    ok("identity-principal-type-set", c.ROLE_ASSIGNMENT),
    bad("identity-principal-type-set", c.ROLE_ASSIGNMENT, {"principalType": DEL}),
    ok("identity-federated-audience", c.FEDERATED_CREDENTIAL),
    bad("identity-federated-audience", c.FEDERATED_CREDENTIAL, {"audiences": ["api://other"]}),
    bad("identity-federated-audience", c.FEDERATED_CREDENTIAL, {"audiences": DEL}),
    ok("identity-federated-issuer-aks", c.FEDERATED_CREDENTIAL),
    ok(
        "identity-federated-issuer-aks",
        c.FEDERATED_CREDENTIAL,
        {"issuer": "https://westeurope.oic.prod-aks.azure.com/tenant/guid/"},
    ),
    bad("identity-federated-issuer-aks", c.FEDERATED_CREDENTIAL, {"issuer": ""}),
    bad("identity-federated-issuer-aks", c.FEDERATED_CREDENTIAL, {"issuer": DEL}),
    bad(
        "identity-federated-issuer-aks",
        c.FEDERATED_CREDENTIAL,
        {"issuer": "https://token.actions.githubusercontent.com"},
    ),
    ok("identity-federated-subject-serviceaccount", c.FEDERATED_CREDENTIAL),
    ok(
        "identity-federated-subject-serviceaccount",
        c.FEDERATED_CREDENTIAL,
        {"subject": "[unknown]"},
    ),
    bad(
        "identity-federated-subject-serviceaccount",
        c.FEDERATED_CREDENTIAL,
        {"subject": "system:serviceaccount:airflow:*"},
    ),
    bad(
        "identity-federated-subject-serviceaccount",
        c.FEDERATED_CREDENTIAL,
        {"subject": "repo:org/repo:ref:refs/heads/main"},
    ),
    # ---------------------------------------------------------------- Kubernetes
    ok("k8s-no-privileged", c.DEPLOYMENT),
    ok("k8s-no-privileged", c.HELM_CHART),
    bad("k8s-no-privileged", c.DEPLOYMENT, {f"{CT0}.securityContext.privileged": True}),
    bad("k8s-no-privileged", c.HELM_CHART, {"values.securityContexts.containers.privileged": True}),
    ok("k8s-no-host-pid", c.POD),
    bad("k8s-no-host-pid", c.POD, {"spec.hostPID": True}),
    bad("k8s-no-host-pid", c.HELM_CHART, {"values.workers.hostPID": True}),
    ok("k8s-no-host-ipc", c.JOB),
    bad("k8s-no-host-ipc", c.JOB, {f"{PS}.hostIPC": True}),
    ok("k8s-no-host-network", c.CRON_JOB),
    bad(
        "k8s-no-host-network", c.CRON_JOB, {"spec.jobTemplate.spec.template.spec.hostNetwork": True}
    ),
    bad("k8s-no-host-network", c.HELM_CHART, {"values.hostNetwork": True}),
    ok("k8s-no-privilege-escalation", c.DEPLOYMENT),
    ok("k8s-no-privilege-escalation", c.HELM_CHART),
    bad(
        "k8s-no-privilege-escalation",
        c.DEPLOYMENT,
        {f"{CT0}.securityContext.allowPrivilegeEscalation": DEL},
    ),
    bad(
        "k8s-no-privilege-escalation",
        c.HELM_CHART,
        {"values.securityContexts.containers.allowPrivilegeEscalation": True},
    ),
    ok("k8s-run-as-non-root", c.DEPLOYMENT),
    ok(
        "k8s-run-as-non-root",
        c.DEPLOYMENT,
        {f"{PS}.securityContext.runAsNonRoot": DEL, f"{CT0}.securityContext.runAsNonRoot": True},
    ),
    bad("k8s-run-as-non-root", c.DEPLOYMENT, {f"{PS}.securityContext.runAsNonRoot": DEL}),
    bad("k8s-run-as-non-root", c.DEPLOYMENT, {f"{CT0}.securityContext.runAsUser": 0}),
    bad("k8s-run-as-non-root", c.HELM_CHART, {"values.securityContexts.pod.runAsUser": 0}),
    ok("k8s-image-pinned", c.DEPLOYMENT),
    ok("k8s-image-pinned", c.DEPLOYMENT, {f"{CT0}.image": "registry:5000/app@sha256:abcd"}),
    ok("k8s-image-pinned", c.DEPLOYMENT, {f"{CT0}.image": "[unknown]"}),
    bad("k8s-image-pinned", c.DEPLOYMENT, {f"{CT0}.image": "nginx:latest"}),
    bad("k8s-image-pinned", c.DEPLOYMENT, {f"{CT0}.image": "registry:5000/app"}),
    bad("k8s-image-pinned", c.HELM_CHART, {"values.images.airflow.tag": "latest"}),
    ok("k8s-drop-capabilities", c.POD),
    ok(
        "k8s-drop-capabilities",
        c.POD,
        {"spec.containers.0.securityContext.capabilities.drop": ["NET_RAW"]},
    ),
    bad("k8s-drop-capabilities", c.POD, {"spec.containers.0.securityContext.capabilities": DEL}),
    bad(
        "k8s-drop-capabilities",
        c.POD,
        {"spec.containers.0.securityContext.capabilities.add": ["SYS_ADMIN"]},
    ),
    bad(
        "k8s-drop-capabilities",
        c.HELM_CHART,
        {"values.securityContexts.containers.capabilities.add": ["NET_ADMIN"]},
    ),
    ok("k8s-seccomp-profile", c.DEPLOYMENT),
    ok("k8s-seccomp-profile", c.HELM_CHART),
    bad("k8s-seccomp-profile", c.DEPLOYMENT, {f"{PS}.securityContext.seccompProfile": DEL}),
    bad(
        "k8s-seccomp-profile",
        c.DEPLOYMENT,
        {f"{CT0}.securityContext.seccompProfile": {"type": "Unconfined"}},
    ),
    bad(
        "k8s-seccomp-profile",
        c.HELM_CHART,
        {"values.securityContexts.pod.seccompProfile.type": "Unconfined"},
    ),
    ok("k8s-read-only-root-fs", c.DEPLOYMENT),
    bad(
        "k8s-read-only-root-fs",
        c.DEPLOYMENT,
        {f"{CT0}.securityContext.readOnlyRootFilesystem": False},
    ),
    ok("k8s-resource-requests", c.JOB),
    bad(
        "k8s-resource-requests", c.JOB, {f"{PS}.containers.0.resources.requests": {"memory": "1Gi"}}
    ),
    ok("k8s-memory-limits", c.JOB),
    bad("k8s-memory-limits", c.JOB, {f"{PS}.containers.0.resources.limits": DEL}),
    ok("k8s-probes", c.DEPLOYMENT),
    bad("k8s-probes", c.DEPLOYMENT, {f"{CT0}.readinessProbe": DEL}),
    ok("k8s-secrets-as-files", c.DEPLOYMENT),
    bad(
        "k8s-secrets-as-files",
        c.DEPLOYMENT,
        {
            f"{CT0}.env": [
                {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "uri"}}}
            ]
        },
    ),
    bad("k8s-secrets-as-files", c.DEPLOYMENT, {f"{CT0}.envFrom": [{"secretRef": {"name": "db"}}]}),
    ok("k8s-no-default-serviceaccount", c.POD),
    bad("k8s-no-default-serviceaccount", c.POD, {"spec.serviceAccountName": DEL}),
    bad("k8s-no-default-serviceaccount", c.POD, {"spec.serviceAccountName": "default"}),
    ok("k8s-no-default-namespace", c.SERVICE_ACCOUNT),
    ok("k8s-no-default-namespace", c.HELM_CHART),
    ok("k8s-no-default-namespace", c.DEPLOYMENT, {"metadata.namespace": "[unknown]"}),
    bad("k8s-no-default-namespace", c.SERVICE_ACCOUNT, {"metadata.namespace": "default"}),
    bad("k8s-no-default-namespace", c.DEPLOYMENT, {"metadata.namespace": DEL}),
    bad("k8s-no-default-namespace", c.HELM_CHART, {"namespace": DEL}),
    ok("k8s-rbac-no-wildcards", c.ROLE),
    bad("k8s-rbac-no-wildcards", c.ROLE, {"rules.0.verbs": ["*"]}),
    bad("k8s-rbac-no-wildcards", c.CLUSTER_ROLE, {"rules.0.resources": ["*"]}),
    bad("k8s-rbac-no-wildcards", c.CLUSTER_ROLE, {"rules.0.apiGroups": ["*"]}),
    ok("k8s-rbac-no-escalation-verbs", c.CLUSTER_ROLE),
    bad("k8s-rbac-no-escalation-verbs", c.ROLE, {"rules.0.verbs": ["get", "escalate"]}),
    bad("k8s-rbac-no-escalation-verbs", c.CLUSTER_ROLE, {"rules.0.verbs": ["bind"]}),
    bad("k8s-rbac-no-escalation-verbs", c.CLUSTER_ROLE, {"rules.0.verbs": ["impersonate"]}),
    # ---------------------------------------------------------------- Airflow chart
    ok("airflow-kubernetes-executor", c.HELM_CHART),
    ok(
        "airflow-kubernetes-executor",
        c.HELM_CHART,
        {"values.executor": "CeleryExecutor"},
        base=LINKERD_CHART,
    ),
    bad("airflow-kubernetes-executor", c.HELM_CHART, {"values.executor": "CeleryExecutor"}),
    bad("airflow-kubernetes-executor", c.HELM_CHART, {"values.executor": DEL}),
    ok("airflow-remote-logging", c.HELM_CHART),
    ok(
        "airflow-remote-logging",
        c.HELM_CHART,
        {
            "values.config": DEL,
            "values.env": [
                {"name": "AIRFLOW__LOGGING__REMOTE_LOGGING", "value": "True"},
                {"name": "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER", "value": "wasb://logs@st/x"},
            ],
        },
    ),
    bad("airflow-remote-logging", c.HELM_CHART, {"values.config.logging.remote_logging": "False"}),
    bad(
        "airflow-remote-logging",
        c.HELM_CHART,
        {"values.config.logging.remote_base_log_folder": DEL},
    ),
    ok("airflow-chart-secrets-referenced", c.HELM_CHART),
    bad("airflow-chart-secrets-referenced", c.HELM_CHART, {"values.fernetKeySecretName": DEL}),
    bad(
        "airflow-chart-secrets-referenced",
        c.HELM_CHART,
        {"values.data": {"metadataConnection": {"user": "u"}}},
    ),
    ok("airflow-no-helm-hooks", c.HELM_CHART),
    bad("airflow-no-helm-hooks", c.HELM_CHART, {"values.migrateDatabaseJob": {}}),
    ok("airflow-workload-identity-label", c.HELM_CHART),
    # per-component labels miss the dag-processor pod (global only).
    bad(
        "airflow-workload-identity-label",
        c.HELM_CHART,
        {
            "values.labels": {},
            **{
                f"values.{k}.labels": {"azure.workload.identity/use": "true"}
                for k in ("scheduler", "apiServer", "workers", "triggerer", "dagProcessor")
            },
        },
    ),
    bad("airflow-workload-identity-label", c.HELM_CHART, {"values.labels": {}}),
    ok("helm-no-secret-literals", c.HELM_CHART),
    ok(
        "helm-no-secret-literals",
        c.HELM_CHART,
        {"values.data": {"metadataConnection": {"user": "airflow", "pass": "[secret]"}}},
    ),
    bad(
        "helm-no-secret-literals",
        c.HELM_CHART,
        {"values.data": {"metadataConnection": {"user": "airflow", "pass": "hunter2"}}},
    ),
    bad(
        "helm-no-secret-literals", c.HELM_CHART, {"values.config.core": {"fernet_key": "c2VjcmV0"}}
    ),
    bad(
        "helm-no-secret-literals",
        c.HELM_CHART,
        {"values.env": [{"name": "AIRFLOW__API__SECRET_KEY", "value": "abc"}]},
    ),
    bad(
        "helm-no-secret-literals",
        c.HELM_CHART,
        {"values.identity": {"issuer": {"tls": {"keyPEM": "-----BEGIN EC PRIVATE KEY-----"}}}},
        base=LINKERD_CHART,
    ),
]


# ---------------------------------- areas that had no mandatory rule before
CR = c.CUSTOM_RESOURCE
RA = c.ROLE_ASSIGNMENT
SUB_RG = "/subscriptions/s/resourceGroups/rg"
ACCOUNT_ID = f"{SUB_RG}/providers/Microsoft.Storage/storageAccounts/st"
CLUSTER_ID = f"{SUB_RG}/providers/Microsoft.ContainerService/managedClusters/aks"
VNET_ID = f"{SUB_RG}/providers/Microsoft.Network/virtualNetworks/vnet"
VAULT_ID = f"{SUB_RG}/providers/Microsoft.KeyVault/vaults/kv"
BLOB_CONTRIB = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
RBAC_WRITER = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
NET_CONTRIB = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def grant(role: str, scope: str) -> dict[Path, Any]:
    return {"roleDefinitionId": f"{ROLE_DEFS}/{role}", "scope": scope}


FROM0 = "spec.from.0"
CASES += [
    ok("aks-defender-in-prod", MC, production=True),
    ok("aks-defender-in-prod", MC, {"securityProfile.defender": DEL}),  # dev: cost
    bad(
        "aks-defender-in-prod",
        MC,
        {"securityProfile.defender.securityMonitoring.enabled": False},
        production=True,
    ),
    bad("aks-defender-in-prod", MC, {"securityProfile.defender": DEL}, production=True),
    bad(
        "aks-defender-in-prod",
        MC,
        {"securityProfile.defender.logAnalyticsWorkspaceResourceId": DEL},
        production=True,
    ),
    ok("aks-pool-zones-in-prod", MC, production=True),
    ok("aks-pool-zones-in-prod", AP, {"availabilityZones": DEL}),  # dev
    ok("aks-pool-zones-in-prod", AP, {"availabilityZones": "[unknown]"}, production=True),
    bad("aks-pool-zones-in-prod", MC, {f"{P0}.availabilityZones": ["1"]}, production=True),
    bad("aks-pool-zones-in-prod", AP, {"availabilityZones": DEL}, production=True),
    bad("aks-pool-zones-in-prod", AP, {"availabilityZones": ["2", "2"]}, production=True),
    ok("keyvault-no-platform-access", c.VAULT),
    ok(
        "keyvault-no-platform-access",
        c.VAULT,
        {f"properties.{f}": False for f in ("enabledForDeployment", "enabledForDiskEncryption")},
    ),
    *(
        bad("keyvault-no-platform-access", c.VAULT, {f"properties.{flag}": True})
        for flag in (
            "enabledForDeployment",
            "enabledForDiskEncryption",
            "enabledForTemplateDeployment",
        )
    ),
    ok("keyvault-soft-delete-retention-in-prod", c.VAULT, production=True),
    ok(
        "keyvault-soft-delete-retention-in-prod",
        c.VAULT,
        {"properties.softDeleteRetentionInDays": DEL},
        production=True,
    ),
    ok(
        "keyvault-soft-delete-retention-in-prod",
        c.VAULT,
        {"properties.softDeleteRetentionInDays": 7},
    ),
    bad(
        "keyvault-soft-delete-retention-in-prod",
        c.VAULT,
        {"properties.softDeleteRetentionInDays": 30},
        production=True,
    ),
    ok("identity-no-resource-group-scope", RA),
    bad("identity-no-resource-group-scope", RA, {"scope": SUB_RG}),
    bad("identity-no-resource-group-scope", RA, {"scope": f"{SUB_RG}/"}),
    ok("identity-role-scope-narrowest", RA),
    ok("identity-role-scope-narrowest", RA, {"scope": f"{VAULT_ID}/secrets/airflow-fernet-key"}),
    ok("identity-role-scope-narrowest", RA, {"scope": "[unknown]"}),
    ok(
        "identity-role-scope-narrowest",
        RA,
        grant(BLOB_CONTRIB, f"{ACCOUNT_ID}/blobServices/default/containers/logs"),
    ),
    ok("identity-role-scope-narrowest", RA, grant(RBAC_WRITER, f"{CLUSTER_ID}/namespaces/airflow")),
    ok("identity-role-scope-narrowest", RA, grant(NET_CONTRIB, f"{VNET_ID}/subnets/snet-aks")),
    bad("identity-role-scope-narrowest", RA, grant(BLOB_CONTRIB, ACCOUNT_ID)),
    bad("identity-role-scope-narrowest", RA, grant(RBAC_READER, CLUSTER_ID)),
    bad("identity-role-scope-narrowest", RA, grant(NET_CONTRIB, VNET_ID)),
    bad(
        "identity-role-scope-narrowest",
        RA,
        grant(KV_USER, f"{SUB_RG}/providers/Microsoft.KeyVault"),
    ),
    ok("identity-read-role-where-read-suffices", RA),
    ok("identity-read-role-where-read-suffices", RA, grant(BLOB_CONTRIB, ACCOUNT_ID)),
    *(
        bad("identity-read-role-where-read-suffices", RA, grant(role, VAULT_ID))
        for role in (
            "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",  # Key Vault Secrets Officer
            "00482a5a-887f-4fb3-b363-3b7fe8e74483",  # Key Vault Administrator
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner
        )
    ),
    ok("k8s-no-external-service", SERVICE_TYPE),
    ok(
        "k8s-no-external-service",
        SERVICE_TYPE,
        {
            "spec.type": "LoadBalancer",
            ("metadata", "annotations"): {
                "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
            },
        },
    ),
    bad("k8s-no-external-service", SERVICE_TYPE, {"spec.type": "LoadBalancer"}),
    bad("k8s-no-external-service", SERVICE_TYPE, {"spec.type": "NodePort"}),
    bad("k8s-no-external-service", SERVICE_TYPE, {"spec.externalIPs": ["203.0.113.7"]}),
    ok("k8s-no-external-service", c.HELM_CHART),
    bad("k8s-no-external-service", c.HELM_CHART, {"values.apiServer.service.type": "LoadBalancer"}),
    bad("k8s-no-external-service", c.HELM_CHART, {"values.apiServer.service.type": "NodePort"}),
    ok("k8s-serviceaccount-automount-explicit", c.SERVICE_ACCOUNT),
    ok(
        "k8s-serviceaccount-automount-explicit",
        c.SERVICE_ACCOUNT,
        {"automountServiceAccountToken": True},
    ),
    bad(
        "k8s-serviceaccount-automount-explicit",
        c.SERVICE_ACCOUNT,
        {"automountServiceAccountToken": DEL},
    ),
    ok("mesh-no-wildcard-identities", CR, base=MESH_TLS_AUTH),
    ok(
        "mesh-no-wildcard-identities",
        CR,
        {"spec.identityRefs": [{"kind": "Namespace", "name": "airflow"}]},
        base=MESH_TLS_AUTH,
    ),
    bad("mesh-no-wildcard-identities", CR, {"spec.identities": ["*"]}, base=MESH_TLS_AUTH),
    bad(
        "mesh-no-wildcard-identities",
        CR,
        {"spec.identities": ["*.airflow.serviceaccount.identity.linkerd.cluster.local"]},
        base=MESH_TLS_AUTH,
    ),
    bad(
        "mesh-no-wildcard-identities", CR, {"spec.identityRefs": [LINKERD_REF]}, base=MESH_TLS_AUTH
    ),
    ok("mesh-no-wildcard-identities", CR, base=AUTHZ_POLICY),
    bad(
        "mesh-no-wildcard-identities",
        CR,
        {"spec.requiredAuthenticationRefs": []},
        base=AUTHZ_POLICY,
    ),
    ok("mesh-no-wildcard-identities", CR, base=MTP),
    ok(
        "mesh-no-wildcard-identities",
        CR,
        {f"{FROM0}.targetRef.tags": {"k8s.kuma.io/namespace": "airflow"}},
        base=MTP,
    ),
    ok(
        "mesh-no-wildcard-identities",
        CR,
        {
            "spec.targetRef": {"kind": "Mesh"},
            f"{FROM0}.targetRef": {"kind": "Mesh"},
            f"{FROM0}.default.action": "Deny",
        },
        base=MTP,
    ),
    bad("mesh-no-wildcard-identities", CR, {f"{FROM0}.targetRef": {"kind": "Mesh"}}, base=MTP),
    bad("mesh-no-wildcard-identities", CR, {f"{FROM0}.targetRef.tags": {}}, base=MTP),
    bad(
        "mesh-no-wildcard-identities",
        CR,
        {f"{FROM0}.default.action": "AllowWithShadowDeny", f"{FROM0}.targetRef": {"kind": "Mesh"}},
        base=MTP,
    ),
    bad("mesh-no-wildcard-identities", CR, {"spec.targetRef": {"kind": "Mesh"}}, base=MTP),
    ok("airflow-builtin-secret-env-off", c.HELM_CHART),
    ok("airflow-builtin-secret-env-off", c.HELM_CHART, base=LINKERD_CHART),
    bad("airflow-builtin-secret-env-off", c.HELM_CHART, {"values.enableBuiltInSecretEnvVars": DEL}),
    bad(
        "airflow-builtin-secret-env-off",
        c.HELM_CHART,
        {"values.enableBuiltInSecretEnvVars.AIRFLOW__CORE__FERNET_KEY": True},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_case(case: Case) -> None:
    rule = RULES_BY_NAME[case.rule]
    assert rule.check is not None
    assert rule.applies_to(case.type, case.props), f"{case.rule} does not apply to {case.type}"
    ctx = Context(stack="prod" if case.production else "dev", production=case.production)
    found = rule.check(case.props, ctx)
    assert all(isinstance(m, str) and m for m in found)
    if case.violates:
        assert found, f"{case.rule} should report a violation for {case.changes}"
        if case.rule in FIX_HINT_RULES:
            assert all("fix:" in m for m in found), found
    else:
        assert found == [], f"{case.rule} reported {found} on a passing case"


@pytest.mark.parametrize("typ", sorted(GOOD), ids=lambda t: t.rsplit(":", 1)[-1])
def test_good_fixtures_pass_every_rule(typ: str) -> None:
    """The known-good fixtures are clean for every resource rule, dev and prod alike."""
    props = GOOD[typ]
    for production in (False, True):
        ctx = Context(stack="prod" if production else "dev", production=production)
        for rule in ALL_RULES:
            if rule.check is not None and rule.applies_to(typ, props):
                assert rule.check(props, ctx) == [], f"{rule.name} on good {typ}"


def test_every_rule_has_both_cases() -> None:
    from test_deploy_rules import DEPLOY_CASES
    from test_policy_entrance import ENTRANCE_CASES
    from test_policy_stack import STACK_CASES

    covered: dict[str, set[bool]] = {}
    for case in CASES:
        covered.setdefault(case.rule, set()).add(case.violates)
    for stack_case in [*STACK_CASES, *ENTRANCE_CASES]:
        covered.setdefault(stack_case.rule, set()).add(stack_case.violates)
    from test_policy_charts import COVERAGE as CHART_CASES
    from test_policy_scheduling import COVERAGE as SCHEDULING_CASES

    for rule, violates in (*SCHEDULING_CASES, *CHART_CASES):
        covered.setdefault(rule, set()).add(violates)
    for deploy_case in DEPLOY_CASES:
        covered.setdefault(deploy_case.rule, set()).add(deploy_case.violates)
    missing = [r.name for r in ALL_RULES if covered.get(r.name) != {True, False}]
    assert not missing, f"rules without a violating and a passing case: {missing}"
    unknown = set(covered) - set(RULES_BY_NAME)
    assert not unknown, f"cases for unknown rules: {unknown}"


def test_pack_metadata() -> None:
    assert len(ALL_RULES) >= 40
    names = [r.name for r in ALL_RULES]
    assert len(names) == len(set(names))
    for r in ALL_RULES:
        assert r.name == r.name.lower() and " " not in r.name and "_" not in r.name, r.name
        assert r.level in ("mandatory", "advisory")
        assert len(r.description) > 60, f"{r.name}: say why"
        assert r.mirrors, r.name
        assert (r.check is None) != (r.stack_check is None)
        if r.check is not None:
            assert r.types or r.kinds, r.name


def test_rules_match_custom_resource_kinds_both_ways() -> None:
    rule = c.Rule("x", "d", "advisory", "m", kinds=("Mesh",), check=lambda p, ctx: [])
    assert rule.applies_to(c.CUSTOM_RESOURCE, {"kind": "Mesh"})
    assert rule.applies_to("kubernetes:kuma.io/v1alpha1:Mesh", {})
    assert not rule.applies_to(c.CUSTOM_RESOURCE, {"kind": "Other"})


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("keyPEM", True),
        ("fernet_key", True),
        ("AIRFLOW__API__SECRET_KEY", True),
        ("pass", True),
        ("fernetKeySecretName", False),
        ("secretName", False),
        ("keyvaultName", False),
        ("remote_log_conn_id", False),
        ("tokenExpiration", False),
        ("repository", False),
        ("topologyKey", False),
        ("key", False),
        ("crtPEM", False),
        ("existingSecret", False),
        ("secretProviderClass", False),
        ("AIRFLOW__CORE__FERNET_KEY_CMD", False),
        ("AIRFLOW__API_AUTH__JWT_SECRET_SECRET", False),
        ("AIRFLOW__API_AUTH__JWT_SECRET", True),
        ("AIRFLOW_AKS_KEY_VAULT_URL", False),
        ("accountKey", True),
        ("sql_alchemy_conn", True),
    ],
)
def test_secret_key_detection(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_secret_literals_skip_references_and_placeholders() -> None:
    values = {
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password"}}}],
        "a": {"password": "[secret]", "token": "[unknown]", "secret": "{{ .Values.x }}"},
        "b": {"password": "literal"},
    }
    assert secret_literals(values) == ["b.password"]


def test_automount_rule_leaves_chart_rendered_serviceaccounts_to_the_chart() -> None:
    rule = RULES_BY_NAME["k8s-serviceaccount-automount-explicit"]
    assert rule.check is not None
    sa = mutate(SERVICE_ACCOUNT, {"automountServiceAccountToken": DEL})
    own = (
        "urn:pulumi:dev::airflow-aks::airflow-aks:index:WorkloadIdentity"
        "$kubernetes:core/v1:ServiceAccount::x"
    )
    rendered = (
        "urn:pulumi:dev::airflow-aks::airflow-aks:index:Linkerd$kubernetes:helm.sh/v4:Chart"
        "$kubernetes:core/v1:ServiceAccount::mesh-control-plane:linkerd/linkerd-destination"
    )
    assert rule.check(sa, Context(urn=own))
    assert rule.check(sa, Context(urn=rendered)) == []
