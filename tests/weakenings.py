"""The policy pack's specification: one-line security regressions it must stop.

Each row flips, widens or removes ONE security-relevant property in the offline plan export
of the dev and prod stacks and of the Kuma example (``examples/Pulumi.dev-kuma.yaml``), and
names the mandatory rule that must then fail ``airflow-aks policies --check``
(``tests/test_policy_weakenings.py`` evaluates every row in-process, on a deep copy of the
plans computed once per session, and writes the per-area figure into docs/policies.md).

Adding a row is one line: ``W(rule, what, edit, stacks)``. A new security setting in a
component comes with its row here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_aks.policies.rules import PolicyException

Stack = str
ALL: tuple[Stack, ...] = ("dev", "prod", "kuma")
LINKERD: tuple[Stack, ...] = ("dev", "prod")
KUMA: tuple[Stack, ...] = ("kuma",)
PROD: tuple[Stack, ...] = ("prod",)
GITOPS: tuple[Stack, ...] = ("dev", "prod")  # the Kuma example has no gitops section
SLEEPS: tuple[Stack, ...] = ("dev", "kuma")  # dev-profile stacks hibernate by default
TODAY = dt.date(2026, 12, 2)

Export = dict[str, Any]
Edit = Callable[[Export], str | None]
"""Weakens an export in place; returns the URN the violation must name (None: any URN)."""
Path = str | tuple[str | int, ...]
DEL = object()


def _keys(path: Path) -> list[Any]:
    if isinstance(path, tuple):
        return list(path)
    return [int(k) if k.isdigit() else k for k in path.split(".")]


def find(export: Export, typ: str, name: str | None = None) -> dict[str, Any]:
    """The one resource whose type ends with ``typ`` (and is named ``name``)."""
    hits = [
        r
        for r in export["resources"]
        if r["type"].endswith(typ) and (name is None or r["name"] == name)
    ]
    if len(hits) != 1:
        raise LookupError(
            f"{typ} {name or ''}: {len(hits)} resources in the {export['stack']} plan"
        )
    return hits[0]


@dataclass(frozen=True)
class On:
    """A resource selector: type suffix and optional name."""

    typ: str
    name: str | None = None


def put(on: On, path: Path, value: Any, *, top: bool = False, top_options: bool = False) -> Edit:
    """Set (or with ``DEL`` remove) ``path`` under the resource's inputs (``top``: the plan
    record itself, e.g. ``protect``; ``top_options``: its resource options, e.g.
    ``ignoreChanges``); intermediate mappings are created."""

    def edit(export: Export) -> str:
        r = find(export, on.typ, on.name)
        cur: Any = r if top else r.setdefault("options", {}) if top_options else r["inputs"]
        keys = _keys(path)
        for k in keys[:-1]:
            cur = cur.setdefault(k, {}) if isinstance(k, str) else cur[k]
        if value is DEL:
            del cur[keys[-1]]
        else:
            cur[keys[-1]] = value
        return str(r["urn"])

    return edit


def drop(on: On, path: Path) -> Edit:
    return put(on, path, DEL)


def add(typ: str, name: str, inputs: dict[str, Any]) -> Edit:
    """Add a resource (subjects no shipped stack has, e.g. a Role or a firewall rule)."""

    def edit(export: Export) -> str:
        urn = f"urn:pulumi:{export['stack']}::airflow-aks::{typ}::{name}"
        export["resources"].append(
            {"urn": urn, "type": typ, "name": name, "inputs": inputs, "dependencies": []}
        )
        return urn

    return edit


def remove(on: On) -> Edit:
    def edit(export: Export) -> None:
        export["resources"].remove(find(export, on.typ, on.name))

    return edit


def both(*edits: Edit) -> Edit:
    """Several edits as one weakening (the URN of the first that names one)."""

    def edit(export: Export) -> str | None:
        urns = [e(export) for e in edits]
        return next((u for u in urns if u), None)

    return edit


def _remove_all(typ: str, prefix: str) -> Edit:
    """Remove every resource of ``typ`` whose name starts with ``prefix`` (at least one)."""

    def edit(export: Export) -> None:
        hits = [
            r
            for r in export["resources"]
            if r["type"].endswith(typ) and r["name"].startswith(prefix)
        ]
        if not hits:
            raise LookupError(f"{typ} {prefix}*: none in the {export['stack']} plan")
        for r in hits:
            export["resources"].remove(r)

    return edit


def nothing(export: Export) -> None:
    return None


@dataclass(frozen=True)
class W:
    """One weakening: ``rule`` must catch ``edit`` on each of ``stacks``."""

    rule: str
    what: str
    edit: Edit
    stacks: tuple[Stack, ...] = ALL
    exceptions: tuple[PolicyException, ...] | None = None
    """Exceptions to evaluate with (None: the shipped ``policies/exceptions/<stack>.yaml``)."""
    anywhere: bool = False
    """The violation may name another resource than the edited one (a stack rule that
    reports the Mesh, the chart whose pods are affected, ...)."""

    @property
    def id(self) -> str:
        return f"{self.rule}:{re.sub(r'[^a-z0-9]+', '-', self.what.lower()).strip('-')}"


# ------------------------------------------------------------------ selectors
MC = On("containerservice:ManagedCluster")
TASKS_POOL = On("containerservice:AgentPool", "aks-tasks")
VAULT = On("keyvault:Vault")
FERNET = On("keyvault:Secret", "keyvault-airflow-fernet-key")
ACCOUNT = On("storage:StorageAccount")
CONTAINER = On("storage:BlobContainer", "logs-airflow-logs")
PG = On("dbforpostgresql:Server")
PG_TLS = On("dbforpostgresql:Configuration", "postgres-require-secure-transport")
PG_SSL = On("dbforpostgresql:Configuration", "postgres-ssl-min-protocol-version")
TASKS_LOGS = On("authorization:RoleAssignment", "airflow-tasks-logs")
CP_KV = On("authorization:RoleAssignment", "airflow-control-plane-kv-airflow-fernet-key")
DCR_LINK = On("monitor:DataCollectionRuleAssociation")
CP_LOGS = On("monitor:DiagnosticSetting", "aks-control-plane-logs")
NET = On("authorization:RoleAssignment", "aks-subnet-network-contributor")
OPS_NS = On("authorization:RoleAssignment", "gitops-operators-airflow")
HIB_ROLE = On("authorization:RoleDefinition", "hibernation-role")
HIB_AKS = On("authorization:RoleAssignment", "hibernation-cluster")
HIB_PG = On("authorization:RoleAssignment", "hibernation-postgres")
START_STOP = [
    "Microsoft.ContainerService/managedClusters/start/action",
    "Microsoft.ContainerService/managedClusters/stop/action",
    "Microsoft.DBforPostgreSQL/flexibleServers/start/action",
    "Microsoft.DBforPostgreSQL/flexibleServers/stop/action",
]
SCHED_FIC = On(
    "managedidentity:FederatedIdentityCredential", "airflow-control-plane-airflow-scheduler"
)
API_SA = On("core/v1:ServiceAccount", "airflow-control-plane-airflow-api-server")
DP_SA = On("core/v1:ServiceAccount", "airflow-control-plane-airflow-dag-processor")
FIN_KV = On("authorization:RoleAssignment", "domain-finance-kv-finance-warehouse-dsn")
FIN_DENY = On("networking.k8s.io/v1:NetworkPolicy", "domain-finance-netpol-default-deny")
FIN_NS = On("core/v1:Namespace", "domain-finance-namespace")
AF_DENY = On("networking.k8s.io/v1:NetworkPolicy", "airflow-netpol-default-deny")
AF_DNS = On("networking.k8s.io/v1:NetworkPolicy", "airflow-netpol-allow-dns")
AF_API = On("networking.k8s.io/v1:NetworkPolicy", "airflow-netpol-allow-airflow-api-server")
OPEN_INGRESS = {
    "podSelector": {},
    "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"namespaceSelector": {}}]}],
}


def _rescope(on: On, old: str, new: str) -> Edit:
    """Rewrite part of a role assignment's scope (another secret, or the whole vault)."""

    def edit(export: Export) -> str:
        r = find(export, on.typ, on.name)
        assert old in r["inputs"]["scope"], r["inputs"]["scope"]
        r["inputs"]["scope"] = r["inputs"]["scope"].replace(old, new)
        return str(r["urn"])

    return edit


TASKS_SA = On("core/v1:ServiceAccount", "airflow-tasks-airflow-tasks")
APP_NS = On("core/v1:Namespace", "airflow-namespace")
AIRFLOW = On("helm.sh/v4:Chart", "airflow-chart")
CONTROL_PLANE = On("helm.sh/v4:Chart", "mesh-control-plane")
MTLS_AUTH = On("MeshTLSAuthentication", "airflow-airflow-api-server-meshtlsauthentication")
GATEWAY = On("gateway.networking.k8s.io/v1:Gateway", "entrance-gateway")
API_ROUTE = On("gateway.networking.k8s.io/v1:HTTPRoute", "entrance-route")
REDIRECT = On("gateway.networking.k8s.io/v1:HTTPRoute", "entrance-redirect")
TO_API = [{"backendRefs": [{"name": "airflow-api-server", "port": 8080}]}]
AUTHZ = On("AuthorizationPolicy", "airflow-airflow-api-server-authorizationpolicy")
KUMA_MESH = On("kuma.io/v1alpha1:Mesh", "mesh-mesh")
KUMA_NS = On("core/v1:Namespace", "mesh-ns")
DENY_ALL = On("MeshTrafficPermission", "mesh-deny-all")
API_MTP = On("MeshTrafficPermission", "airflow-airflow-api-server-meshtrafficpermission")

ROLE_DEFS = "/subscriptions/[unknown]/providers/Microsoft.Authorization/roleDefinitions"
SECRETS_OFFICER = f"{ROLE_DEFS}/b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
CONTRIBUTOR = f"{ROLE_DEFS}/b24988ac-6180-42a0-ab88-20f7382dd24c"
LINKERD_POLICY = ("metadata", "annotations", "config.linkerd.io/default-inbound-policy")
SC = "securityContexts.container"
EXPIRED = PolicyException(
    "aks-disk-encryption-set", "urn:pulumi:*", "pilot", dt.date(2026, 1, 1), "j"
)


def _rg_scope(on: On) -> Edit:
    """Widen a grant to the stack's resource group (computed from the grant's own scope)."""

    def edit(export: Export) -> str:
        r = find(export, on.typ, on.name)
        scope = str(r["inputs"]["scope"])
        r["inputs"]["scope"] = scope.split("/providers/", 1)[0]
        return str(r["urn"])

    return edit


def _parent_scope(on: On, levels: int) -> Edit:
    """Widen a grant to an ancestor of its scope (``levels`` path pairs up)."""

    def edit(export: Export) -> str:
        r = find(export, on.typ, on.name)
        parts = str(r["inputs"]["scope"]).split("/")
        r["inputs"]["scope"] = "/".join(parts[: -2 * levels])
        return str(r["urn"])

    return edit


def _placement(key: str) -> Edit:
    """Drop ``key`` from the task pod placement the platform hands to DAGs (JSON env var)."""

    def edit(export: Export) -> str:
        r = find(export, AIRFLOW.typ, AIRFLOW.name)
        env = next(e for e in r["inputs"]["values"]["env"] if e["name"].endswith("_POD_PLACEMENT"))
        placement = json.loads(env["value"])
        del placement[key]
        env["value"] = json.dumps(placement)
        return str(r["urn"])

    return edit


ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_META = {"name": "widened", "namespace": "airflow"}
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
RB = "rbac.authorization.k8s.io/v1:RoleBinding"
TASKS_CONFIG = On("core/v1:ConfigMap", "airflow-config-airflow-tasks")
TASKS_LOG_READER = On(RB, "airflow-tasks-pod-log-reader")
TASKS_TRIGGER_WATCHER = On(RB, "airflow-tasks-pod-trigger-watcher")
MARKETING_LAUNCHER = On(RB, "domain-marketing-pod-launcher")
FINANCE_QUOTA = On("core/v1:ResourceQuota", "domain-finance-quota")
SCHEDULER_ONLY = [{"kind": "ServiceAccount", "name": "airflow-scheduler", "namespace": "airflow"}]
EXEC_IN_AIRFLOW = both(
    add(
        ROLE,
        "tasks-exec",
        {
            "metadata": {"name": "tasks-exec", "namespace": "airflow"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
        },
    ),
    add(
        ROLE_BINDING,
        "tasks-exec",
        {
            "metadata": {"name": "tasks-exec", "namespace": "airflow"},
            "roleRef": {"kind": "Role", "name": "tasks-exec"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "airflow-tasks", "namespace": "airflow-tasks"}
            ],
        },
    ),
)
TASKS_BESIDE_SCHEDULER = both(
    put(AIRFLOW, "values.config.kubernetes_executor.namespace", "airflow"),
    put(AIRFLOW, "values.allowPodLaunching", True),
)
CREATE_USER_FIC = add(
    "azure-native:managedidentity:FederatedIdentityCredential",
    "create-user-fic",
    {
        "subject": "system:serviceaccount:airflow:airflow-create-user",
        "issuer": "[unknown]",
        "audiences": ["api://AzureADTokenExchange"],
    },
)

# ------------------------------------------------------------------ the table
# fmt: off
WEAKENINGS: list[W] = [
    # AKS cluster and pools
    W("aks-monitoring-enabled", "Container Insights off", put(MC, "addonProfiles.omsagent.enabled", False)),
    W("aks-rbac-enabled", "Kubernetes RBAC off", put(MC, "enableRBAC", False)),
    W("aks-api-server-restricted", "API server open to 0.0.0.0/0", put(MC, "apiServerAccessProfile.authorizedIPRanges", ["0.0.0.0/0"])),
    W("aks-network-policy", "network policy engine removed", drop(MC, "networkProfile.networkPolicy")),
    W("aks-dashboard-disabled", "dashboard add-on on", put(MC, "addonProfiles.kubeDashboard", {"enabled": True})),
    W("aks-http-application-routing-disabled", "HTTP application routing on", put(MC, "addonProfiles.httpApplicationRouting", {"enabled": True})),
    W("aks-azure-policy-addon", "Azure Policy add-on off", put(MC, "addonProfiles.azurepolicy.enabled", False)),
    W("aks-local-accounts-disabled", "local admin kubeconfig back", put(MC, "disableLocalAccounts", False)),
    W("aks-entra-rbac", "Azure RBAC for Kubernetes off", put(MC, "aadProfile.enableAzureRBAC", False)),
    W("aks-oidc-issuer-enabled", "OIDC issuer off", put(MC, "oidcIssuerProfile.enabled", False)),
    W("aks-workload-identity-enabled", "workload identity webhook off", put(MC, "securityProfile.workloadIdentity.enabled", False)),
    W("aks-paid-tier-in-prod", "prod on the Free tier", put(MC, "sku.tier", "Free"), PROD),
    W("aks-auto-upgrade", "upgrade channel none", put(MC, "autoUpgradeProfile.upgradeChannel", "none")),
    W("aks-auto-upgrade", "legacy node-image channel (never upgrades Kubernetes)", put(MC, "autoUpgradeProfile.upgradeChannel", "node-image")),
    W("aks-spot-pool-no-max-surge", "spot task pool sends max surge", put(TASKS_POOL, "upgradeSettings.maxSurge", "33%"), ("dev", "kuma")),
    W("aks-node-os-upgrade", "node OS channel None", put(MC, "autoUpgradeProfile.nodeOSUpgradeChannel", "None")),
    W("aks-secret-rotation", "CSI secret rotation off", put(MC, "addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation", "false")),
    W("aks-no-node-public-ip", "public IPs on task nodes", put(TASKS_POOL, "enableNodePublicIP", True)),
    W("aks-encryption-at-host", "system pool without encryption at host", put(MC, "agentPoolProfiles.0.enableEncryptionAtHost", False)),
    W("aks-ephemeral-os-disk-fits", "task pool on a size without a temp disk, OS disk still ephemeral", put(TASKS_POOL, "vmSize", "Standard_D4as_v5")),
    W("aks-system-pool-critical-only", "system pool taint removed", put(MC, "agentPoolProfiles.0.nodeTaints", [])),
    W("aks-run-command-disabled", "run command back on", put(MC, "apiServerAccessProfile.disableRunCommand", False)),
    W("aks-defender-in-prod", "Defender off in prod", put(MC, "securityProfile.defender.securityMonitoring.enabled", False), PROD),
    W("aks-system-pool-size", "system pool on a 2-vCPU size", put(MC, "agentPoolProfiles.0.vmSize", "Standard_D2ds_v5")),
    W("aks-pool-zones-in-prod", "prod task pool in one zone", put(TASKS_POOL, "availabilityZones", ["1"]), PROD),
    W("aks-pool-zones-in-prod", "prod system pool zones removed", drop(MC, "agentPoolProfiles.0.availabilityZones"), PROD),
    # Key Vault
    W("keyvault-secret-expiry", "fernet key without expiry", drop(FERNET, "properties.attributes.expires")),
    W("keyvault-recoverable", "purge protection off (recoverability)", put(VAULT, "properties.enablePurgeProtection", False)),
    W("keyvault-network-acl-deny", "vault firewall Allow", put(VAULT, "properties.networkAcls.defaultAction", "Allow")),
    W("keyvault-purge-protection", "purge protection removed", drop(VAULT, "properties.enablePurgeProtection")),
    W("keyvault-soft-delete", "soft delete off", put(VAULT, "properties.enableSoftDelete", False)),
    W("keyvault-rbac-authorization", "access policies instead of RBAC", put(VAULT, "properties.enableRbacAuthorization", False)),
    W("keyvault-no-platform-access", "ARM template deployment may read secrets", put(VAULT, "properties.enabledForTemplateDeployment", True)),
    W("keyvault-no-platform-access", "disk encryption may read secrets", put(VAULT, "properties.enabledForDiskEncryption", True)),
    W("keyvault-no-platform-access", "VMs may pull certificates", put(VAULT, "properties.enabledForDeployment", True)),
    W("keyvault-soft-delete-retention-in-prod", "prod soft-delete retention 7 days", put(VAULT, "properties.softDeleteRetentionInDays", 7), PROD),
    W("keyvault-key-expiry", "a key without expiry", add("azure-native:keyvault:Key", "cmk", {"properties": {"kty": "RSA"}})),
    # Storage
    W("storage-shared-key-disabled", "account keys back on", put(ACCOUNT, "allowSharedKeyAccess", True)),
    W("storage-min-tls-12", "TLS 1.0 accepted", put(ACCOUNT, "minimumTlsVersion", "TLS1_0")),
    W("storage-no-blob-public-access", "anonymous blob access allowed", put(ACCOUNT, "allowBlobPublicAccess", True)),
    W("storage-https-only", "plain HTTP accepted", put(ACCOUNT, "enableHttpsTrafficOnly", False)),
    W("storage-network-default-deny", "storage firewall Allow", put(ACCOUNT, "networkRuleSet.defaultAction", "Allow")),
    W("storage-container-private", "log container public", put(CONTAINER, "publicAccess", "Blob")),
    # PostgreSQL
    W("postgres-backup-retention", "backups kept 1 day", put(PG, "backup.backupRetentionDays", 1)),
    W("postgres-geo-backup-in-prod", "prod geo backup off", put(PG, "backup.geoRedundantBackup", "Disabled"), PROD),
    W("postgres-ha-in-prod", "prod HA off", put(PG, "highAvailability.mode", "Disabled"), PROD),
    W("postgres-public-network-disabled", "database public", put(PG, "network.publicNetworkAccess", "Enabled")),
    W("postgres-tls-enforced", "TLS not required", put(PG_TLS, "value", "off")),
    W("postgres-tls-enforced", "TLS 1.1 allowed", put(PG_SSL, "value", "TLSv1.1")),
    W("postgres-no-open-firewall", "firewall open to all of Azure", add("azure-native:dbforpostgresql:FirewallRule", "allow-azure", {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"},)),
    # Identity and role assignments
    W("identity-no-privileged-role", "logs grant becomes Contributor", put(TASKS_LOGS, "roleDefinitionId", CONTRIBUTOR)),
    W("identity-no-subscription-scope", "grant on the subscription", put(CP_KV, "scope", "/subscriptions/[unknown]")),
    W("identity-no-resource-group-scope", "grant on the resource group", _rg_scope(CP_KV)),
    W("identity-role-scope-narrowest", "blob grant widened to the account", _parent_scope(TASKS_LOGS, 2)),
    W("identity-role-scope-narrowest", "Network Contributor on the VNet", _parent_scope(NET, 1)),
    W("identity-role-scope-narrowest", "operators Reader on the whole cluster", _parent_scope(OPS_NS, 1), GITOPS),
    W("identity-read-role-where-read-suffices", "Secrets Officer for a reader", put(CP_KV, "roleDefinitionId", SECRETS_OFFICER)),
    W("identity-federated-audience", "foreign token audience", put(SCHED_FIC, "audiences", ["api://other"])),
    W("identity-federated-issuer-aks", "GitHub issuer trusted by a pod identity", put(SCHED_FIC, "issuer", "https://token.actions.githubusercontent.com")),
    W("identity-hibernation-start-stop-only", "hibernation role may also write clusters", put(HIB_ROLE, "permissions", [{"actions": [*START_STOP, "Microsoft.ContainerService/managedClusters/write"]}]), SLEEPS, anywhere=True),
    W("identity-hibernation-start-stop-only", "hibernation role is a wildcard", put(HIB_ROLE, "permissions", [{"actions": ["*"]}]), SLEEPS, anywhere=True),
    W("identity-hibernation-start-stop-only", "hibernation grant on the resource group", _rg_scope(HIB_PG), SLEEPS),
    W("identity-hibernation-start-stop-only", "hibernation identity holds Contributor", put(HIB_AKS, "roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"), SLEEPS),
    W("identity-federated-subject-serviceaccount", "wildcard subject", put(SCHED_FIC, "subject", "system:serviceaccount:airflow:*")),
    W("stack-federated-subject-has-serviceaccount", "subject names an unmanaged SA", put(SCHED_FIC, "subject", "system:serviceaccount:airflow:ghost")),
    W("stack-serviceaccount-client-id", "client-id annotation removed", drop(API_SA, ("metadata", "annotations", "azure.workload.identity/client-id"))),
    # Kubernetes objects and chart values
    W("k8s-no-privileged", "privileged scheduler", put(AIRFLOW, f"values.scheduler.{SC}.privileged", True)),
    W("k8s-no-host-pid", "host PID", put(AIRFLOW, "values.scheduler.hostPID", True)),
    W("k8s-no-host-ipc", "host IPC", put(AIRFLOW, "values.scheduler.hostIPC", True)),
    W("k8s-no-host-network", "host network", put(AIRFLOW, "values.scheduler.hostNetwork", True)),
    W("k8s-no-privilege-escalation", "privilege escalation allowed", put(AIRFLOW, f"values.scheduler.{SC}.allowPrivilegeEscalation", True)),
    W("k8s-run-as-non-root", "root pods", put(AIRFLOW, "values.securityContexts.pod.runAsUser", 0)),
    W("k8s-image-pinned", "airflow image :latest", put(AIRFLOW, "values.images.airflow.tag", "latest")),
    W("k8s-drop-capabilities", "SYS_ADMIN added", put(AIRFLOW, f"values.scheduler.{SC}.capabilities.add", ["SYS_ADMIN"])),
    W("k8s-seccomp-profile", "seccomp Unconfined", put(AIRFLOW, "values.securityContexts.pod.seccompProfile.type", "Unconfined")),
    W("k8s-no-default-namespace", "chart in default", put(AIRFLOW, "namespace", "default")),
    W("k8s-rbac-no-wildcards", "a Role granting *", add(ROLE, "widened", {"metadata": ROLE_META, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},)),
    W("k8s-rbac-no-escalation-verbs", "a Role granting impersonate", add(ROLE, "widened", {"metadata": ROLE_META, "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]},)),
    W("k8s-no-external-service", "API server as LoadBalancer", put(AIRFLOW, "values.apiServer.service.type", "LoadBalancer")),
    W("k8s-no-external-service", "API server as NodePort", put(AIRFLOW, "values.apiServer.service.type", "NodePort")),
    W("k8s-serviceaccount-automount-explicit", "task SA automount unset", drop(TASKS_SA, "automountServiceAccountToken")),
    # Airflow chart
    W("airflow-kubernetes-executor", "CeleryExecutor", put(AIRFLOW, "values.executor", "CeleryExecutor")),
    W("airflow-chart-secrets-referenced", "fernet key Secret name removed", drop(AIRFLOW, "values.fernetKeySecretName")),
    W("airflow-workload-identity-label", "workload-identity label only per component (dag-processor pod loses it)", put(AIRFLOW, "values.labels", {"app.kubernetes.io/part-of": "airflow-aks"})),
    W("airflow-builtin-secret-env-off", "fernet key env var back on", put(AIRFLOW, "values.enableBuiltInSecretEnvVars.AIRFLOW__CORE__FERNET_KEY", True)),
    W("airflow-builtin-secret-env-off", "built-in secret env block removed", drop(AIRFLOW, "values.enableBuiltInSecretEnvVars")),
    W("airflow-api-token-only-where-needed", "DAG processor SA mounts a token", put(DP_SA, "automountServiceAccountToken", True)),
    W("airflow-api-token-only-where-needed", "statsd SA token back (chart default)", drop(AIRFLOW, "values.statsd.serviceAccount.automountServiceAccountToken"), LINKERD),
    # First contact: where task pods run, who may launch them, rotation, quotas
    W("k8s-pod-references-resolve", "executor pod template's ConfigMap missing in the tasks namespace", remove(TASKS_CONFIG), anywhere=True),
    W("k8s-pod-references-resolve", "execution API URL a short Service name", put(AIRFLOW, "values.config.core.execution_api_server_url", "http://airflow-api-server:8080/execution/")),
    W("k8s-pod-references-resolve", "statsd host back to the chart's short default", drop(AIRFLOW, "values.config.metrics.statsd_host")),
    W("k8s-user-code-rbac", "domain pod-launcher binds only the scheduler (KubernetesPodOperator 403)", put(MARKETING_LAUNCHER, "subjects", SCHEDULER_ONLY), PROD, anywhere=True),
    W("k8s-user-code-rbac", "API server without a Kubernetes token (no live logs)", put(API_SA, "automountServiceAccountToken", False)),
    W("k8s-user-code-rbac", "no log-read rights for the API server where tasks run", remove(TASKS_LOG_READER), anywhere=True),
    W("k8s-user-code-rbac", "triggerer cannot watch deferred pods", remove(TASKS_TRIGGER_WATCHER), anywhere=True),
    W("k8s-user-code-rbac", "tasks back beside the scheduler with the chart's pod-launcher RBAC", TASKS_BESIDE_SCHEDULER, anywhere=True),
    W("k8s-user-code-rbac", "task pods may exec into the Airflow namespace", EXEC_IN_AIRFLOW, anywhere=True),
    W("airflow-secret-rotation-restarts", "secret-version annotation dropped from the scheduler", drop(AIRFLOW, ("values", "scheduler", "podAnnotations", "airflow-aks.io/secret-versions"))),
    W("identity-no-credential-for-absent-pods", "federated credential for the disabled create-user Job", CREATE_USER_FIC, PROD),
    W("k8s-task-quota-reachable", "finance quota promises 40 pods its CPU limit cannot hold", put(FINANCE_QUOTA, "spec.hard.pods", "40"), PROD),
    W("mesh-sidecar-can-authenticate", "Kuma DAG processor pod without its sidecar token volume", drop(AIRFLOW, ("values", "dagProcessor", "podAnnotations", "kuma.io/service-account-token-volume")), KUMA),
    W("k8s-crds-before-custom-resources", "Gateway API step dropped from the cluster (Gateway without CRDs)", drop(MC, "tags.airflow-aks-post-create"), PROD, anywhere=True),
    W("load-balancer-paths-admitted", "node subnet NSG without the entrance's inbound allow", put(On("network:NetworkSecurityGroup", "aks-aks"), "securityRules", []), PROD, anywhere=True),
    W("load-balancer-paths-admitted", "gateway pods' policy without the status port 15021", put(On("networking.k8s.io/v1:NetworkPolicy", "airflow-netpol-allow-gateway"), "spec.ingress", [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 80}]}]), PROD, anywhere=True),
    W("cilium-api-server-egress", "Airflow namespace without the kube-apiserver CiliumNetworkPolicy", remove(On("cilium.io/v2:CiliumNetworkPolicy", "airflow-cnp-kube-apiserver")), anywhere=True),
    W("mesh-trace-collector-reachable", "Kuma MeshTrace to a collector no namespace may reach", add("kubernetes:apiextensions.k8s.io:CustomResource", "mesh-trace", {"kind": "MeshTrace", "spec": {"targetRef": {"kind": "Mesh"}, "default": {"backends": [{"type": "OpenTelemetry", "openTelemetry": {"endpoint": "otel-collector.observability:4317"}}]}}}), KUMA),
    W("mesh-sidecar-can-authenticate", "Kuma statsd without a token (no extraVolumes in the chart)", put(AIRFLOW, "values.statsd.serviceAccount.automountServiceAccountToken", False), KUMA),
    W("mesh-sidecar-can-authenticate", "Kuma migration Job's token volume removed", put(AIRFLOW, "values.migrateDatabaseJob.extraVolumes", []), KUMA),
    W("helm-no-secret-literals", "default user password literal", put(AIRFLOW, "values.createUserJob.defaultUser.password", "admin123")),
    # Mesh
    W("mesh-app-namespaces-injected", "Airflow namespace not injected (Linkerd)", drop(APP_NS, ("metadata", "annotations", "linkerd.io/inject")), LINKERD),
    W("mesh-app-namespaces-injected", "Airflow namespace not injected (Kuma)", drop(APP_NS, ("metadata", "labels", "kuma.io/sidecar-injection")), KUMA),
    W("mesh-mtls-strict", "Kuma mTLS PERMISSIVE", put(KUMA_MESH, "spec.mtls.backends.0.mode", "PERMISSIVE"), KUMA),
    W("mesh-jobs-can-finish", "task pods behind a classic sidecar", put(AIRFLOW, ("values", "workers", "kubernetes", "podAnnotations", "config.linkerd.io/proxy-enable-native-sidecar",), "false",), LINKERD),
    W("mesh-jobs-can-finish", "Kuma sidecars not native", put(CONTROL_PLANE, "values.experimental.sidecarContainers", False), KUMA, anywhere=True),
    W("mesh-linkerd-default-deny", "namespace default-deny removed", drop(APP_NS, LINKERD_POLICY), LINKERD),
    W("mesh-linkerd-default-deny", "namespace all-unauthenticated", put(APP_NS, LINKERD_POLICY, "all-unauthenticated"), LINKERD),
    W("mesh-linkerd-default-deny", "API server pods override the default", put(AIRFLOW, ("values", "apiServer", "podAnnotations", LINKERD_POLICY[-1]), "all-authenticated",), LINKERD),
    W("mesh-kuma-default-deny", "mesh-wide deny removed", remove(DENY_ALL), KUMA, anywhere=True),
    W("mesh-kuma-default-deny", "mesh-wide deny turned into allow", put(DENY_ALL, "spec.from.0.default.action", "Allow"), KUMA, anywhere=True),
    W("mesh-kuma-default-deny", "deny bound to another mesh", put(DENY_ALL, ("metadata", "labels", "kuma.io/mesh"), "other"), KUMA, anywhere=True),
    W("mesh-no-wildcard-identities", "any meshed identity may call the API server", put(MTLS_AUTH, "spec.identities", ["*"]), LINKERD),
    W("mesh-no-wildcard-identities", "identityRef without a name", drop(MTLS_AUTH, "spec.identityRefs.0.name"), LINKERD),
    W("mesh-no-wildcard-identities", "AuthorizationPolicy requires nothing", put(AUTHZ, "spec.requiredAuthenticationRefs", []), LINKERD),
    W("mesh-no-wildcard-identities", "API server allows the whole mesh", put(API_MTP, "spec.from.0.targetRef", {"kind": "Mesh"}), KUMA),
    W("mesh-no-wildcard-identities", "empty MeshSubset allowed", put(API_MTP, "spec.from.0.targetRef.tags", {}), KUMA),
    # Charts (issue 10b: webhook certificates and the Kuma system namespace)
    W("mesh-webhook-certs-stable", "Linkerd injector certificate generated by the chart", drop(CONTROL_PLANE, "values.proxyInjector"), LINKERD),
    W("mesh-webhook-certs-stable", "Linkerd heartbeat scheduled at render time", drop(CONTROL_PLANE, "values.disableHeartBeat"), LINKERD),
    W("mesh-webhook-certs-stable", "Kuma webhook CA generated by the chart", drop(CONTROL_PLANE, "values.controlPlane.tls"), KUMA),
    W("kuma-system-namespace-ready", "noHelmHooks back on (lookup fails in preview)", put(CONTROL_PLANE, "values.noHelmHooks", True), KUMA),
    W("kuma-system-namespace-ready", "kuma-system without sidecar-injection false", drop(KUMA_NS, ("metadata", "labels", "kuma.io/sidecar-injection")), KUMA),
    # Scheduling (issue 10b's rules; rows added here so every mandatory rule has one)
    W("pods-tolerate-their-pool", "DAG pod placement loses the tolerations", _placement("tolerations")),
    W("pods-select-their-tolerated-pool", "DAG pod placement loses the nodeSelector", _placement("nodeSelector")),
    # Deploy (issue 10a's rules; rows added here so every mandatory rule has one)
    W("aks-no-retired-addons", "retired add-on key sent", put(MC, "addonProfiles.httpApplicationRouting", {"enabled": False})),
    W("aks-rbac-admin-grant", "no cluster admin grant", _remove_all("authorization:RoleAssignment", "aks-cluster-admin-"), anywhere=True),
    W("aks-upgrade-channel-no-pin-fight", "patch version pinned under the patch channel", put(MC, "kubernetesVersion", "1.36.1"), ("dev", "kuma")),
    W("aks-upgrade-channel-no-pin-fight", "pinned minor no longer ignored under stable", put(MC, "ignoreChanges", [], top_options=True), PROD),
    W("aks-container-insights-dcr", "Container Insights data collection unlinked", remove(DCR_LINK), anywhere=True),
    W("aks-control-plane-logs", "control-plane audit logs dropped", remove(CP_LOGS), anywhere=True),
    W("identity-no-vault-wide-read", "per-secret read widened to the vault", _parent_scope(CP_KV, 1)),
    W("flux-workload-identity-complete", "Flux workload identity on, half set", put(On("kubernetesconfiguration:Extension"), ("configurationSettings", "workloadIdentity.enable"), "true"), GITOPS),
    W("storage-private-in-production", "prod log storage public again", put(ACCOUNT, "publicNetworkAccess", "Enabled"), PROD),
    W("postgres-entra-auth-has-admin", "Entra auth with no Entra admin", remove(On("dbforpostgresql:AdministratorsMicrosoftEntra")), anywhere=True),
    # Data domains (the prod stack declares finance and marketing)
    W("domain-identity-declared-scope", "finance identity reads marketing's secret", _rescope(FIN_KV, "/secrets/finance-warehouse-dsn", "/secrets/marketing-crm-token"), PROD),
    W("domain-identity-declared-scope", "finance secret grant widened to the vault", _rescope(FIN_KV, "/secrets/finance-warehouse-dsn", ""), PROD),
    W("domain-namespace-default-deny", "domain network default-deny removed", remove(FIN_DENY), PROD, anywhere=True),
    W("domain-namespace-default-deny", "domain namespace admits unauthenticated mesh traffic", put(FIN_NS, ("metadata", "annotations", "config.linkerd.io/default-inbound-policy"), "all-unauthenticated"), PROD),
    # Network policy of the workload namespaces (Airflow's and the domains')
    W("namespace-network-default-deny", "Airflow network default-deny removed", remove(AF_DENY), anywhere=True),
    W("namespace-network-default-deny", "allow-all egress rule in the Airflow namespace", put(AF_DNS, "spec.egress", [{}])),
    W("namespace-network-default-deny", "every Airflow pod open to every namespace", put(AF_API, "spec", OPEN_INGRESS)),
    W("namespace-network-default-deny", "domain network default-deny removed", remove(FIN_DENY), PROD, anywhere=True),
    # Stack-wide
    W("stack-protect-stateful-in-prod", "prod vault unprotected", put(VAULT, "protect", False, top=True), PROD),
    W("stack-protect-stateful-in-prod", "prod database unprotected", put(PG, "protect", False, top=True), PROD),
    W("stack-protect-stateful-in-prod", "prod log storage unprotected", put(ACCOUNT, "protect", False, top=True), PROD),
    # Entrance (prod: the entrance and sign-in are on)
    W("entrance-requires-sso-and-tls", "auth manager back to SimpleAuthManager", put(AIRFLOW, "values.config.core.auth_manager", "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"), PROD),
    W("entrance-requires-sso-and-tls", "built-in admin user back", put(AIRFLOW, "values.createUserJob.enabled", True), PROD),
    W("entrance-requires-sso-and-tls", "FAB without OAuth in webserver_config", drop(AIRFLOW, "values.apiServer.apiServerConfig"), PROD),
    W("entrance-requires-sso-and-tls", "HTTP listener serves the API", put(REDIRECT, "spec.rules", TO_API), PROD, anywhere=True),
    W("entrance-requires-sso-and-tls", "HTTPS listener without certificate", drop(GATEWAY, ("spec", "listeners", 0, "tls", "certificateRefs")), PROD),
    W("entrance-route-api-server-only", "second backend behind the entrance", put(API_ROUTE, ("spec", "rules", 0, "backendRefs", 0, "name"), "airflow-flower"), PROD),
    W("entrance-route-api-server-only", "route to another namespace", put(API_ROUTE, ("spec", "rules", 0, "backendRefs", 0, "namespace"), "kube-system"), PROD),
    W("policy-exception-not-expired", "an expired exception left in place", nothing, exceptions=(EXPIRED,)),
]
# fmt: on


# ------------------------------------------------------------------ component level
#
# The rows above weaken a plan export. These weaken a *component* (a default, a role, a
# pure decision function) the way a consumer's fork or a tired maintainer would, in one
# line; the real program is planned with the change and the named mandatory rule must fail
# (tests/test_component_weakenings.py). What a consumer runs is the pack, not this suite.


@dataclass(frozen=True)
class CW:
    """One component-level regression: ``target`` (``module:attribute``) replaced by
    ``value`` (a callable ``value(original)`` for functions), planned on ``stack``."""

    rule: str
    area: str
    what: str
    target: str
    value: Any
    stack: Stack = "dev"


def _merged(extra: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a decision function so its dict result gets ``extra`` merged in."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *a, **k: {**original(*a, **k), **extra}

    return wrap


def _allow_all(original: Callable[..., Any]) -> Callable[..., Any]:
    """A 'default deny' that denies nothing: no policy types, so it selects and blocks
    nothing."""

    def weakened(*a: Any, **k: Any) -> Any:
        manifest = original(*a, **k)
        spec = manifest["spec"]
        manifest["spec"] = {**spec, "policyTypes": [], "ingress": [{}], "egress": [{}]}
        return manifest

    return weakened


VALUES = "airflow_aks.components.airflow.values"
COMPONENT_WEAKENINGS: list[CW] = [
    CW(
        "identity-read-role-where-read-suffices",
        "domains",
        "domain read claims granted Secrets Officer",
        "airflow_aks.components.domains:SECRET_ROLES",
        {"read": "Key Vault Secrets Officer", "write": "Key Vault Secrets Officer"},
        "prod",
    ),
    CW(
        "aks-control-plane-logs",
        "aks",
        "control-plane audit log categories dropped",
        "airflow_aks.components.aks:CONTROL_PLANE_LOG_CATEGORIES",
        ("kube-apiserver",),
    ),
    CW(
        "identity-federated-audience",
        "identity",
        "workload identity audience changed",
        "airflow_aks.components.identity:FEDERATED_AUDIENCE",
        "api://AnyAudience",
    ),
    CW(
        "identity-federated-audience",
        "sign-in",
        "sign-in app credential audience changed",
        "airflow_aks.components.signin:FEDERATED_AUDIENCE",
        "api://AnyAudience",
        "prod",
    ),
    CW(
        "k8s-no-privilege-escalation",
        "airflow",
        "Airflow containers may escalate privileges",
        f"{VALUES}:container_security_context",
        _merged({"allowPrivilegeEscalation": True}),
    ),
    CW(
        "k8s-run-as-non-root",
        "airflow",
        "Airflow pods may run as root",
        f"{VALUES}:pod_security_context",
        _merged({"runAsNonRoot": False, "runAsUser": 0}),
    ),
    CW(
        "airflow-builtin-secret-env-off",
        "airflow",
        "the chart's built-in secret env vars left on",
        f"{VALUES}:disabled_builtin_secret_env",
        lambda original: lambda *a, **k: {},
    ),
    CW(
        "postgres-tls-enforced",
        "database",
        "TLS no longer required by the server",
        "airflow_aks.components.database:server_parameters",
        _merged({"require_secure_transport": "off"}),
    ),
    CW(
        "namespace-network-default-deny",
        "network policies",
        "the default-deny NetworkPolicy denies nothing",
        "airflow_aks.components.netpol:default_deny",
        _allow_all,
    ),
    CW(
        "domain-namespace-default-deny",
        "domains",
        "the domain default-deny NetworkPolicy denies nothing",
        "airflow_aks.components.netpol:default_deny",
        _allow_all,
        "prod",
    ),
]
