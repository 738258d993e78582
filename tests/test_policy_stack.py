"""Stack rules (mesh, workload identity wiring, exceptions), both ways, table-driven."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_aks.policies.rules import RULES_BY_NAME, Context, PolicyException
from airflow_aks.policies.rules import _core as c

STACK = "urn:pulumi:dev::airflow-aks::"
# Rules added or promoted to close the pack's gaps: every violation message carries a fix hint.
FIX_HINT_RULES = {
    "aks-defender-in-prod",
    "aks-pool-zones-in-prod",
    "aks-run-command-disabled",
    "keyvault-no-platform-access",
    "keyvault-soft-delete-retention-in-prod",
    "keyvault-secret-expiry",
    "storage-network-default-deny",
    "identity-no-resource-group-scope",
    "identity-role-scope-narrowest",
    "identity-read-role-where-read-suffices",
    "k8s-no-external-service",
    "k8s-serviceaccount-automount-explicit",
    "mesh-linkerd-default-deny",
    "mesh-kuma-default-deny",
    "mesh-no-wildcard-identities",
    "airflow-builtin-secret-env-off",
    "airflow-api-token-only-where-needed",
    "airflow-workload-identity-label",
    "stack-protect-stateful-in-prod",
}
TODAY = dt.date(2026, 11, 23)


def res(
    typ: str, name: str, inputs: dict[str, Any], deps: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "urn": f"{STACK}{typ}::{name}",
        "type": typ,
        "name": name,
        "custom": not typ.startswith("airflow-aks:"),
        "inputs": inputs,
        "dependencies": list(deps),
        "propertyDependencies": {},
        **extra,
    }


def urn(typ: str, name: str) -> str:
    return f"{STACK}{typ}::{name}"


UAI_URN = urn(c.USER_ASSIGNED_IDENTITY, "airflow-id")
SA_URN = urn(c.SERVICE_ACCOUNT, "airflow-id-airflow-worker")


ROTATION = {"airflow-aks.io/secret-versions": "[unknown]"}
_RB = "kubernetes:rbac.authorization.k8s.io/v1:"
_POD_RIGHTS = [
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["create", "get", "list", "watch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]
TASK_NAMESPACE_RBAC = [
    res(
        _RB + "Role",
        "tasks-pods",
        {"metadata": {"name": "pods", "namespace": "airflow-tasks"}, "rules": _POD_RIGHTS},
    ),
    res(
        _RB + "RoleBinding",
        "tasks-pods",
        {
            "metadata": {"name": "pods", "namespace": "airflow-tasks"},
            "roleRef": {"kind": "Role", "name": "pods"},
            "subjects": [
                {"kind": "ServiceAccount", "name": sa, "namespace": ns}
                for ns, sa in (
                    ("airflow", "airflow-scheduler"),
                    ("airflow", "airflow-api-server"),
                    ("airflow", "airflow-triggerer"),
                    ("airflow-tasks", "airflow-worker"),
                )
            ],
        },
    ),
]


def tasks_quota(pods: str) -> dict[str, Any]:
    return res(
        "kubernetes:core/v1:ResourceQuota",
        "tasks-quota",
        {
            "metadata": {"name": "tasks", "namespace": "airflow-tasks"},
            "spec": {"hard": {"limits.cpu": "8", "limits.memory": "16Gi", "pods": pods}},
        },
    )


def good_stack() -> list[dict[str, Any]]:
    """A meshed, correctly wired stack: every stack rule passes."""
    job_pod = {
        "metadata": {"annotations": {"config.linkerd.io/proxy-enable-native-sidecar": "true"}},
        "spec": {"containers": [{"name": "x", "image": "x:1"}]},
    }
    return [
        res("airflow-aks:index:Linkerd", "mesh", {}),
        res(
            c.HELM_CHART,
            "mesh-control-plane",
            {
                "chart": "linkerd-control-plane",
                "namespace": "linkerd",
                "values": {"proxy": {"nativeSidecar": True}},
            },
        ),
        res(
            c.NAMESPACE,
            "mesh-ns",
            {"metadata": {"name": "linkerd", "labels": {"linkerd.io/is-control-plane": "true"}}},
        ),
        res(c.NAMESPACE, "cert-manager-ns", {"metadata": {"name": "cert-manager"}}),
        res(
            c.NAMESPACE,
            "airflow-ns",
            {
                "metadata": {
                    "name": "airflow",
                    "annotations": {
                        "linkerd.io/inject": "enabled",
                        "config.linkerd.io/default-inbound-policy": "deny",
                    },
                }
            },
        ),
        res(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "airflow-netpol-default-deny",
            {
                "metadata": {"name": "default-deny", "namespace": "airflow"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        ),
        res(c.USER_ASSIGNED_IDENTITY, "airflow-id", {"resourceName": "id-airflow-dev"}),
        res(
            c.FEDERATED_CREDENTIAL,
            "airflow-id-airflow-worker",
            {
                "resourceName": "id-airflow-dev",
                "issuer": "[unknown]",
                "subject": "system:serviceaccount:airflow-tasks:airflow-worker",
                "audiences": ["api://AzureADTokenExchange"],
            },
            deps=(UAI_URN,),
        ),
        res(
            c.SERVICE_ACCOUNT,
            "airflow-id-airflow-worker",
            {
                "metadata": {
                    "name": "airflow-worker",
                    "namespace": "airflow-tasks",
                    "annotations": {"azure.workload.identity/client-id": "[unknown]"},
                },
                "automountServiceAccountToken": True,
            },
            propertyDependencies={"metadata": [UAI_URN]},
        ),
        res(
            c.SERVICE_ACCOUNT,
            "airflow-api-server",
            {
                "metadata": {"name": "airflow-api-server", "namespace": "airflow"},
                # reads live task logs through the Kubernetes API
                "automountServiceAccountToken": True,
            },
        ),
        # Task pods in their own namespace: the chart's ConfigMap copied there, launch /
        # log-read / trigger-watch rights there only.
        res(
            "kubernetes:core/v1:ConfigMap",
            "airflow-config-airflow-tasks",
            {"metadata": {"name": "airflow-airflow-config", "namespace": "airflow-tasks"}},
        ),
        *TASK_NAMESPACE_RBAC,
        res(
            c.JOB,
            "seed",
            {"metadata": {"name": "seed", "namespace": "airflow"}, "spec": {"template": job_pod}},
        ),
        res(
            c.HELM_CHART,
            "airflow",
            {
                "chart": "airflow",
                "namespace": "airflow",
                "values": {
                    "executor": "KubernetesExecutor",
                    "allowPodLaunching": False,
                    "enableBuiltInSecretEnvVars": {
                        env: False
                        for env in (
                            "AIRFLOW__CORE__FERNET_KEY",
                            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                            "AIRFLOW_CONN_AIRFLOW_DB",
                            "AIRFLOW__API__SECRET_KEY",
                            "AIRFLOW__API_AUTH__JWT_SECRET",
                        )
                    },
                    "config": {
                        "kubernetes_executor": {"namespace": "airflow-tasks"},
                        "core": {
                            "execution_api_server_url": (
                                "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"
                            )
                        },
                        "metrics": {"statsd_host": "airflow-statsd.airflow.svc.cluster.local"},
                    },
                    "scheduler": {"podAnnotations": ROTATION},
                    "triggerer": {"podAnnotations": ROTATION},
                    "workers": {"serviceAccount": {"create": False, "name": "airflow-worker"}},
                    "apiServer": {
                        "serviceAccount": {"create": False, "name": "airflow-api-server"},
                        "podAnnotations": ROTATION,
                    },
                    **{
                        comp: {"serviceAccount": {"automountServiceAccountToken": False}}
                        for comp in ("dagProcessor", "migrateDatabaseJob", "statsd")
                    },
                    "dagProcessor": {
                        "serviceAccount": {"automountServiceAccountToken": False},
                        "podAnnotations": ROTATION,
                    },
                    "createUserJob": {"enabled": False},
                },
            },
        ),
    ]


def find(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in resources if r["name"] == name)


Edit = Callable[[list[dict[str, Any]]], None]


def set_in(name: str, path: str | tuple[str, ...], value: Any) -> Edit:
    def edit(resources: list[dict[str, Any]]) -> None:
        keys = path.split(".") if isinstance(path, str) else list(path)
        cur = find(resources, name)
        for k in keys[:-1]:
            cur = cur.setdefault(k, {})
        cur[keys[-1]] = value

    return edit


def drop(name: str) -> Edit:
    def edit(resources: list[dict[str, Any]]) -> None:
        resources.remove(find(resources, name))

    return edit


def add(resource: dict[str, Any]) -> Edit:
    def edit(resources: list[dict[str, Any]]) -> None:
        resources.append(copy.deepcopy(resource))

    return edit


def no_mesh(resources: list[dict[str, Any]]) -> None:
    for n in ("mesh", "mesh-control-plane"):
        resources.remove(find(resources, n))


KUMA_MESH = res(
    c.CUSTOM_RESOURCE,
    "kuma-mesh",
    {
        "apiVersion": "kuma.io/v1alpha1",
        "kind": "Mesh",
        "metadata": {"name": "default"},
        "spec": {
            "mtls": {
                "enabledBackend": "ca-1",
                "backends": [{"name": "ca-1", "type": "builtin", "mode": "STRICT"}],
            }
        },
    },
)


KUMA_DENY_ALL = res(
    "kubernetes:kuma.io/v1alpha1:MeshTrafficPermission",
    "kuma-deny-all",
    {
        "apiVersion": "kuma.io/v1alpha1",
        "kind": "MeshTrafficPermission",
        "metadata": {
            "name": "deny-all",
            "namespace": "kuma-system",
            "labels": {"kuma.io/mesh": "default"},
        },
        "spec": {
            "targetRef": {"kind": "Mesh"},
            "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}],
        },
    },
)
DENY = "kuma-deny-all"
VAULT_RES = res(c.VAULT, "vault", {"properties": {}}, protect=True)


def to_kuma(resources: list[dict[str, Any]]) -> None:
    no_mesh(resources)
    resources.append(res("airflow-aks:index:Kuma", "mesh", {}))
    resources.append(
        res(
            c.HELM_CHART,
            "kuma",
            {"chart": "kuma", "version": "2.14.1", "namespace": "kuma-system", "values": {}},
        )
    )
    ns = find(resources, "airflow-ns")
    ns["inputs"]["metadata"] = {
        "name": "airflow",
        "labels": {"kuma.io/sidecar-injection": "enabled"},
    }
    resources.append(copy.deepcopy(KUMA_MESH))
    resources.append(copy.deepcopy(KUMA_DENY_ALL))


MESH_TRACE = {
    "apiVersion": "kuma.io/v1alpha1",
    "kind": "MeshTrace",
    "metadata": {"name": "otel", "namespace": "kuma-system"},
    "spec": {
        "targetRef": {"kind": "Mesh"},
        "default": {
            "backends": [
                {
                    "type": "OpenTelemetry",
                    "openTelemetry": {"endpoint": "otel-collector.observability:4317"},
                }
            ]
        },
    },
}
TELEMETRY_EGRESS = {
    "metadata": {"name": "allow-mesh-telemetry", "namespace": "airflow"},
    "spec": {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "observability"}
                        }
                    }
                ],
                "ports": [{"port": 4317, "protocol": "TCP"}],
            }
        ],
    },
}


def add_res(typ: str, name: str, inputs: dict[str, Any], deps: tuple[str, ...] = ()) -> Edit:
    def edit(resources: list[dict[str, Any]]) -> None:
        resources.append(res(typ, name, copy.deepcopy(inputs), deps))

    return edit


SERVICE = "kubernetes:core/v1:Service"
POST_CREATE = "airflow-aks-post-create"
GATEWAY_STEP = "az aks update -g rg -n aks --enable-gateway-api --enable-app-routing-istio"
GATEWAY = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "airflow", "namespace": "airflow"},
    "spec": {"gatewayClassName": "approuting-istio", "listeners": [{"port": 443}]},
}
BUNDLE = {"apiVersion": "trust.cert-manager.io/v1alpha1", "kind": "Bundle", "metadata": {}}
LB_SERVICE = {
    "metadata": {
        "namespace": "airflow",
        "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
    },
    "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 8080}]},
}
LB_INGRESS = {
    "metadata": {"name": "allow-lb", "namespace": "airflow"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "x"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}],
    },
}
NSG_ALLOW_8080 = {
    "name": "allow",
    "priority": 200,
    "direction": "Inbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "Internet",
    "destinationPortRanges": ["8080"],
}


def node_subnet(rules: list[dict[str, Any]]) -> tuple[Edit, ...]:
    """An NSG on the subnet the cluster's nodes use."""
    nsg, subnet = "azure-native:network:NetworkSecurityGroup", "azure-native:network:Subnet"
    return (
        add_res(nsg, "nsg", {"networkSecurityGroupName": "nsg-aks", "securityRules": rules}),
        add_res(subnet, "snet", {}, deps=(urn(nsg, "nsg"),)),
        add_res(c.MANAGED_CLUSTER, "aks", {}, deps=(urn(subnet, "snet"),)),
    )


HTTPS_OUT = {
    "metadata": {"name": "https", "namespace": "airflow"},
    "spec": {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                "ports": [{"port": 443, "protocol": "TCP"}],
            }
        ],
    },
}
CNP = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "allow-kube-apiserver", "namespace": "airflow"},
    "spec": {
        "endpointSelector": {},
        "egress": [{"toEntities": ["kube-apiserver"], "toPorts": [{"ports": [{"port": "443"}]}]}],
    },
}


KUMA_TOKEN = "kuma.io/service-account-token-volume"
KUMA_TOKEN_VOLUME = {
    "name": "kuma-sidecar-token",
    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
}
KUMA_TOKENS: tuple[Edit, ...] = (
    *(
        set_in("airflow", ("inputs", "values", comp, key), {KUMA_TOKEN: "kuma-sidecar-token"})
        for comp, key in (
            ("apiServer", "podAnnotations"),
            ("dagProcessor", "podAnnotations"),
            ("migrateDatabaseJob", "annotations"),
        )
    ),
    *(
        set_in("airflow", ("inputs", "values", comp, "extraVolumes"), [KUMA_TOKEN_VOLUME])
        for comp in ("apiServer", "dagProcessor", "migrateDatabaseJob")
    ),
    set_in("airflow", "inputs.values.statsd.serviceAccount.automountServiceAccountToken", True),
)
"""Kuma stack: every pod that mounts no token hands one to its sidecar (kuma v2.14.3)."""


@dataclass(frozen=True)
class StackCase:
    rule: str
    id: str
    edits: tuple[Edit, ...] = ()
    violates: bool = True
    urn: str | None = None
    exceptions: tuple[PolicyException, ...] = field(default_factory=tuple)
    production: bool = False

    def resources(self) -> list[dict[str, Any]]:
        rs = good_stack()
        for e in self.edits:
            e(rs)
        return rs


def sc_ok(rule: str, id: str, *edits: Edit, **kw: Any) -> StackCase:
    return StackCase(rule, id, tuple(edits), False, **kw)


def sc_bad(rule: str, id: str, *edits: Edit, **kw: Any) -> StackCase:
    return StackCase(rule, id, tuple(edits), True, **kw)


EXPIRED = PolicyException(
    "aks-disk-encryption-set", f"{STACK}*", "pilot", dt.date(2026, 1, 1), "jane"
)
VALID = PolicyException(
    "aks-disk-encryption-set", f"{STACK}*", "pilot", dt.date(2027, 1, 1), "jane"
)
ANN = ("inputs", "metadata", "annotations")
POLICY = "config.linkerd.io/default-inbound-policy"
CID = "azure.workload.identity/client-id"

# A data domain as the DataDomain component plans it (full-plan cases: test_policy_domains.py).
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DOMAIN_ID_URN = urn(c.USER_ASSIGNED_IDENTITY, "domain-finance-identity")
VAULT_SCOPE = "/subscriptions/[unknown]/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
DOMAIN_NS = res(
    c.NAMESPACE,
    "domain-finance-namespace",
    {
        "metadata": {
            "name": "finance",
            "labels": {"airflow-aks.io/domain": "finance"},
            "annotations": {
                "linkerd.io/inject": "enabled",
                "config.linkerd.io/default-inbound-policy": "deny",
                "airflow-aks.io/declared-scope": '{"containers": {}, "logs": "airflow-logs", '
                '"secrets": {"finance-dsn": "read"}}',
            },
        }
    },
)
DOMAIN_DENY = res(
    NETPOL,
    "domain-finance-netpol-default-deny",
    {
        "metadata": {"name": "default-deny", "namespace": "finance"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    },
)
DOMAIN_ID = res(
    c.USER_ASSIGNED_IDENTITY, "domain-finance-identity", {"tags": {"airflow-aks-domain": "finance"}}
)


def domain_grant(secret: str) -> dict[str, Any]:
    return res(
        c.ROLE_ASSIGNMENT,
        f"domain-finance-kv-{secret}",
        {
            "scope": f"{VAULT_SCOPE}/secrets/{secret}",
            "roleDefinitionId": "/x/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
        },
        (DOMAIN_ID_URN,),
        propertyDependencies={"principalId": [DOMAIN_ID_URN]},
    )


DOMAIN = (add(DOMAIN_NS), add(DOMAIN_DENY), add(DOMAIN_ID), add(domain_grant("finance-dsn")))

# A workload namespace of the platform, its deny, and allow policies good and bad.
TEAM_NS = res(
    c.NAMESPACE,
    "team-namespace",
    {"metadata": {"name": "team", "labels": {"app.kubernetes.io/part-of": "airflow-aks"}}},
)


def netpol(name: str, spec: dict[str, Any], namespace: str = "team") -> dict[str, Any]:
    return res(
        NETPOL,
        f"team-netpol-{name}",
        {"metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


TEAM_DENY = netpol("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
GATEWAY_STYLE = netpol(
    "allow-gateway",
    {
        "podSelector": {"matchLabels": {"app": "gw"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": 443}]}],
    },
)
ALL_EGRESS = netpol(
    "allow-all",
    {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Egress"], "egress": [{}]},
)
EVERY_NAMESPACE = netpol(
    "allow-namespaces",
    {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {}}]}],
    },
)
AIRFLOW_CHART_ELSEWHERE = res(
    "kubernetes:helm.sh/v4:Chart", "other-airflow", {"chart": "airflow", "namespace": "byo"}
)

HIB_ID = urn(c.USER_ASSIGNED_IDENTITY, "hibernation-identity")
HIB_ROLE = urn("azure-native:authorization:RoleDefinition", "hibernation-role")
HIB_PG = urn(c.PG_SERVER, "postgres")
HIB_GUID = "2fb45cbc-1088-5ce0-be1f-c5244981c43e"
ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"
HIB_PG_ID = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql"
)


def hibernation(actions: list[str], scope: str = HIB_PG_ID) -> list[Edit]:
    """A sleep workflow acting as an identity that holds a custom role on the server."""
    return [
        add(
            {
                "urn": HIB_PG,
                "type": c.PG_SERVER,
                "name": "postgres",
                "inputs": {"serverName": "psql"},
            }
        ),
        add(
            {
                "urn": HIB_ID,
                "type": c.USER_ASSIGNED_IDENTITY,
                "name": "hibernation-identity",
                "inputs": {},
            }
        ),
        add(
            {
                "urn": HIB_ROLE,
                "type": "azure-native:authorization:RoleDefinition",
                "name": "hibernation-role",
                "inputs": {"roleDefinitionId": HIB_GUID, "permissions": [{"actions": actions}]},
            }
        ),
        add(
            {
                "urn": urn("azure-native:logic:Workflow", "hibernation-sleep"),
                "type": "azure-native:logic:Workflow",
                "name": "hibernation-sleep",
                "inputs": {},
                "propertyDependencies": {"identity": [HIB_ID]},
            }
        ),
        add(
            {
                "urn": urn(c.ROLE_ASSIGNMENT, "hibernation-postgres"),
                "type": c.ROLE_ASSIGNMENT,
                "name": "hibernation-postgres",
                "inputs": {
                    "scope": scope,
                    "roleDefinitionId": f"{ROLE_DEFINITIONS}/{HIB_GUID}",
                },
                "propertyDependencies": {
                    "principalId": [HIB_ID],
                    "roleDefinitionId": [HIB_ROLE],
                    "scope": [HIB_PG],
                },
            }
        ),
    ]


START_STOP = [
    "Microsoft.DBforPostgreSQL/flexibleServers/start/action",
    "Microsoft.DBforPostgreSQL/flexibleServers/stop/action",
]

STACK_CASES: list[StackCase] = [
    sc_ok("identity-hibernation-start-stop-only", "no-schedule"),
    sc_ok("identity-hibernation-start-stop-only", "start-stop", *hibernation(START_STOP)),
    sc_bad(
        "identity-hibernation-start-stop-only",
        "delete-too",
        *hibernation([*START_STOP, "Microsoft.DBforPostgreSQL/flexibleServers/delete"]),
        urn=urn(c.ROLE_ASSIGNMENT, "hibernation-postgres"),
    ),
    sc_bad(
        "identity-hibernation-start-stop-only",
        "resource-group",
        *hibernation(START_STOP, scope="/subscriptions/s/resourceGroups/rg"),
    ),
    sc_ok("domain-identity-declared-scope", "no-domains"),
    sc_ok("domain-identity-declared-scope", "declared", *DOMAIN),
    sc_bad(
        "domain-identity-declared-scope",
        "other-secret",
        *DOMAIN,
        add(domain_grant("marketing-token")),
        urn=urn(c.ROLE_ASSIGNMENT, "domain-finance-kv-marketing-token"),
    ),
    sc_ok("domain-namespace-default-deny", "declared", *DOMAIN),
    sc_bad(
        "domain-namespace-default-deny",
        "no-netpol",
        *DOMAIN[:1],
        urn=urn(c.NAMESPACE, "domain-finance-namespace"),
    ),
    sc_bad(
        "domain-namespace-default-deny",
        "linkerd-allows",
        *DOMAIN,
        set_in(
            "domain-finance-namespace",
            (*ANN, "config.linkerd.io/default-inbound-policy"),
            "all-authenticated",
        ),
    ),
    sc_ok("namespace-network-default-deny", "good"),
    sc_bad(
        "namespace-network-default-deny",
        "airflow-deny-removed",
        drop("airflow-netpol-default-deny"),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_ok(
        "namespace-network-default-deny", "denied", add(TEAM_NS), add(TEAM_DENY), add(GATEWAY_STYLE)
    ),
    sc_bad(
        "namespace-network-default-deny",
        "no-deny",
        add(TEAM_NS),
        urn=urn(c.NAMESPACE, "team-namespace"),
    ),
    sc_bad(
        "namespace-network-default-deny",
        "allow-all-egress",
        add(TEAM_NS),
        add(TEAM_DENY),
        add(ALL_EGRESS),
        urn=urn(NETPOL, "team-netpol-allow-all"),
    ),
    sc_bad(
        "namespace-network-default-deny",
        "every-namespace",
        add(TEAM_NS),
        add(TEAM_DENY),
        add(EVERY_NAMESPACE),
        urn=urn(NETPOL, "team-netpol-allow-namespaces"),
    ),
    sc_bad(
        "namespace-network-default-deny",
        "airflow-chart-namespace",
        add(AIRFLOW_CHART_ELSEWHERE),
        urn=urn("kubernetes:helm.sh/v4:Chart", "other-airflow"),
    ),
    sc_ok(
        "namespace-network-default-deny",
        "airflow-chart-namespace-denied",
        add(AIRFLOW_CHART_ELSEWHERE),
        add(
            netpol("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, "byo")
        ),
    ),
    sc_ok("mesh-app-namespaces-injected", "good"),
    sc_ok("mesh-app-namespaces-injected", "no-mesh", no_mesh, set_in("airflow-ns", ANN, {})),
    sc_ok("mesh-app-namespaces-injected", "kuma", to_kuma),
    sc_bad(
        "mesh-app-namespaces-injected",
        "not-injected",
        set_in("airflow-ns", ANN, {}),
        urn=urn(c.NAMESPACE, "airflow-ns"),
    ),
    sc_bad(
        "mesh-app-namespaces-injected",
        "disabled",
        set_in("airflow-ns", ANN, {"linkerd.io/inject": "disabled"}),
    ),
    sc_bad(
        "mesh-app-namespaces-injected",
        "new-app-ns",
        add(res(c.NAMESPACE, "team-ns", {"metadata": {"name": "team-a"}})),
        urn=urn(c.NAMESPACE, "team-ns"),
    ),
    sc_ok("mesh-mtls-strict", "linkerd"),
    sc_ok("mesh-mtls-strict", "kuma-strict", to_kuma),
    sc_bad("mesh-mtls-strict", "kuma-no-mesh-object", to_kuma, drop("kuma-mesh")),
    sc_bad(
        "mesh-mtls-strict",
        "kuma-permissive",
        to_kuma,
        set_in(
            "kuma-mesh",
            "inputs.spec.mtls.backends",
            [{"name": "ca-1", "type": "builtin", "mode": "PERMISSIVE"}],
        ),
        urn=urn(c.CUSTOM_RESOURCE, "kuma-mesh"),
    ),
    sc_ok("mesh-jobs-can-finish", "native-annotation"),
    sc_ok(
        "mesh-jobs-can-finish", "global-native", set_in("seed", "inputs.spec.template.metadata", {})
    ),
    sc_ok(
        "mesh-jobs-can-finish",
        "inject-disabled",
        set_in("mesh-control-plane", "inputs.values.proxy", {}),
        set_in(
            "seed",
            "inputs.spec.template.metadata",
            {"annotations": {"linkerd.io/inject": "disabled"}},
        ),
        set_in(
            "airflow",
            "inputs.values.airflowPodAnnotations",
            {"config.linkerd.io/proxy-enable-native-sidecar": "true"},
        ),
    ),
    sc_ok(
        "mesh-jobs-can-finish",
        "kuma-2.14-default",
        to_kuma,
        set_in("seed", "inputs.spec.template.metadata", {}),
    ),
    sc_bad(
        "mesh-jobs-can-finish",
        "classic-sidecar-job",
        set_in("mesh-control-plane", "inputs.values.proxy", {}),
        set_in("seed", "inputs.spec.template.metadata", {}),
        urn=urn(c.JOB, "seed"),
    ),
    sc_bad(
        "mesh-jobs-can-finish",
        "pod-opts-out-of-native",
        set_in(
            "seed",
            "inputs.spec.template.metadata",
            {"annotations": {"config.linkerd.io/proxy-enable-native-sidecar": "false"}},
        ),
    ),
    sc_bad(
        "mesh-jobs-can-finish",
        "airflow-task-pods",
        set_in("mesh-control-plane", "inputs.values.proxy", {}),
        set_in(
            "seed",
            "inputs.spec.template.metadata",
            {"annotations": {"linkerd.io/inject": "disabled"}},
        ),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "mesh-jobs-can-finish",
        "kuma-old-no-native",
        to_kuma,
        set_in("kuma", "inputs.version", "2.9.0"),
        set_in("seed", "inputs.spec.template.metadata", {}),
    ),
    sc_ok("stack-federated-subject-has-serviceaccount", "good"),
    sc_ok(
        "stack-federated-subject-has-serviceaccount",
        "sa-from-chart",
        set_in("airflow", "inputs.values.workers.serviceAccount.create", True),
        # the chart creates its worker ServiceAccount in the release namespace
        set_in(
            "airflow-id-airflow-worker",
            "inputs.subject",
            "system:serviceaccount:airflow:airflow-worker",
        ),
        lambda rs: rs.remove(next(r for r in rs if r["type"] == c.SERVICE_ACCOUNT)),
    ),
    sc_bad(
        "stack-federated-subject-has-serviceaccount",
        "no-such-sa",
        set_in(
            "airflow-id-airflow-worker", "inputs.subject", "system:serviceaccount:airflow:ghost"
        ),
    ),
    sc_bad(
        "stack-federated-subject-has-serviceaccount",
        "sa-removed",
        lambda rs: rs.remove(next(r for r in rs if r["type"] == c.SERVICE_ACCOUNT)),
        urn=urn(c.FEDERATED_CREDENTIAL, "airflow-id-airflow-worker"),
    ),
    sc_ok("stack-serviceaccount-client-id", "derived-unknown"),
    sc_ok(
        "stack-serviceaccount-client-id",
        "equal-literal",
        set_in("airflow-id", "outputs", {"clientId": "1111"}),
        lambda rs: find_sa(rs)["inputs"]["metadata"]["annotations"].update({CID: "1111"}),
        lambda rs: find_sa(rs).update(propertyDependencies={}),
    ),
    sc_bad(
        "stack-serviceaccount-client-id",
        "missing-annotation",
        lambda rs: find_sa(rs)["inputs"]["metadata"].pop("annotations"),
        urn=SA_URN,
    ),
    sc_bad(
        "stack-serviceaccount-client-id",
        "not-derived",
        lambda rs: find_sa(rs).update(propertyDependencies={}),
        urn=SA_URN,
    ),
    sc_bad(
        "stack-serviceaccount-client-id",
        "other-identity",
        set_in("airflow-id", "outputs", {"clientId": "1111"}),
        lambda rs: find_sa(rs)["inputs"]["metadata"]["annotations"].update({CID: "2222"}),
    ),
    sc_bad(
        "stack-serviceaccount-client-id",
        "no-identity",
        set_in("airflow-id-airflow-worker", "inputs.resourceName", "id-elsewhere"),
        set_in("airflow-id-airflow-worker", "dependencies", []),
    ),
    # ------------------------------------ areas that had no mandatory rule before
    sc_ok("mesh-linkerd-default-deny", "namespace-deny"),
    sc_ok("mesh-linkerd-default-deny", "kuma-not-applicable", to_kuma),
    sc_ok(
        "mesh-linkerd-default-deny",
        "cluster-default-deny",
        set_in("airflow-ns", ANN, {"linkerd.io/inject": "enabled"}),
        set_in("mesh-control-plane", "inputs.values.proxy.defaultInboundPolicy", "deny"),
    ),
    sc_bad(
        "mesh-linkerd-default-deny",
        "annotation-removed",
        set_in("airflow-ns", ANN, {"linkerd.io/inject": "enabled"}),
        urn=urn(c.NAMESPACE, "airflow-ns"),
    ),
    sc_bad(
        "mesh-linkerd-default-deny",
        "namespace-all-authenticated",
        set_in("airflow-ns", (*ANN, POLICY), "all-authenticated"),
        urn=urn(c.NAMESPACE, "airflow-ns"),
    ),
    sc_bad(
        "mesh-linkerd-default-deny",
        "chart-pod-override",
        set_in(
            "airflow", "inputs.values.apiServer.podAnnotations", {POLICY: "all-unauthenticated"}
        ),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "mesh-linkerd-default-deny",
        "job-pod-override",
        set_in("seed", "inputs.spec.template.metadata", {"annotations": {POLICY: "audit"}}),
        urn=urn(c.JOB, "seed"),
    ),
    sc_ok("mesh-kuma-default-deny", "deny-all", to_kuma),
    sc_ok("mesh-kuma-default-deny", "linkerd-not-applicable"),
    sc_bad(
        "mesh-kuma-default-deny",
        "no-deny-all",
        to_kuma,
        drop(DENY),
        urn=urn(c.CUSTOM_RESOURCE, "kuma-mesh"),
    ),
    sc_bad(
        "mesh-kuma-default-deny",
        "allow-all",
        to_kuma,
        set_in(
            DENY,
            "inputs.spec.from",
            [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
        ),
    ),
    sc_bad(
        "mesh-kuma-default-deny",
        "app-namespace-only",
        to_kuma,
        set_in(DENY, "inputs.metadata.namespace", "airflow"),
    ),
    sc_bad(
        "mesh-kuma-default-deny",
        "other-mesh",
        to_kuma,
        set_in(DENY, ("inputs", "metadata", "labels", "kuma.io/mesh"), "other"),
    ),
    sc_ok("airflow-api-token-only-where-needed", "good"),
    sc_ok(
        "airflow-api-token-only-where-needed",
        "kuma-statsd-mounts-for-its-sidecar",
        to_kuma,
        set_in("airflow", "inputs.values.statsd.labels", {"kuma.io/sidecar-injection": "enabled"}),
        set_in("airflow", "inputs.values.statsd.serviceAccount.automountServiceAccountToken", True),
    ),
    sc_ok("k8s-crds-before-custom-resources", "good"),
    sc_bad(
        "k8s-crds-before-custom-resources",
        "gateway-without-crds",
        add_res(c.CUSTOM_RESOURCE, "gw", GATEWAY),
        add_res(c.MANAGED_CLUSTER, "aks", {}),
        urn=urn(c.CUSTOM_RESOURCE, "gw"),
    ),
    sc_ok(
        "k8s-crds-before-custom-resources",
        "cluster-planned-elsewhere",  # a consumer stack on the platform's cluster
        add_res(c.CUSTOM_RESOURCE, "gw", GATEWAY),
    ),
    sc_ok(
        "k8s-crds-before-custom-resources",
        "gateway-after-post-create-step",
        add_res(c.CUSTOM_RESOURCE, "gw", GATEWAY),
        add_res(c.MANAGED_CLUSTER, "aks", {"tags": {POST_CREATE: GATEWAY_STEP}}),
    ),
    sc_ok(
        "k8s-crds-before-custom-resources",
        "gateway-with-managed-gateway-api",
        add_res(c.CUSTOM_RESOURCE, "gw", GATEWAY),
        add_res(
            c.MANAGED_CLUSTER,
            "aks",
            {"ingressProfile": {"gatewayAPI": {"installation": "Standard"}}},
        ),
    ),
    sc_bad(
        "k8s-crds-before-custom-resources",
        "gateway-api-not-installed-by-linkerd-crds",
        add_res(c.CUSTOM_RESOURCE, "gw", GATEWAY),
        add_res(c.MANAGED_CLUSTER, "aks", {}),
        add_res(
            c.HELM_CHART,
            "mesh-crds",
            {"chart": "linkerd-crds", "values": {"installGatewayAPI": False}},
        ),
    ),
    sc_bad(
        "k8s-crds-before-custom-resources",
        "cr-not-waiting-for-its-chart",
        add_res(c.HELM_CHART, "tm", {"chart": "trust-manager", "values": {}}),
        add_res(c.CUSTOM_RESOURCE, "bundle", BUNDLE),
        urn=urn(c.CUSTOM_RESOURCE, "bundle"),
    ),
    sc_ok(
        "k8s-crds-before-custom-resources",
        "cr-waiting-for-its-chart",
        add_res(c.HELM_CHART, "tm", {"chart": "trust-manager", "values": {}}),
        add_res(c.CUSTOM_RESOURCE, "bundle", BUNDLE, deps=(urn(c.HELM_CHART, "tm"),)),
    ),
    sc_ok("load-balancer-paths-admitted", "no-load-balancer"),
    sc_bad(
        "load-balancer-paths-admitted",
        "service-port-denied",
        add_res(SERVICE, "lb", LB_SERVICE),
        urn=urn(SERVICE, "lb"),
    ),
    sc_ok(
        "load-balancer-paths-admitted",
        "service-port-admitted",
        add_res(SERVICE, "lb", LB_SERVICE),
        add_res(NETPOL, "airflow-netpol-allow-lb", LB_INGRESS),
    ),
    sc_bad(
        "load-balancer-paths-admitted",
        "public-service-behind-closed-nsg",
        add_res(SERVICE, "lb", {**LB_SERVICE, "metadata": {"namespace": "airflow"}}),
        add_res(NETPOL, "airflow-netpol-allow-lb", LB_INGRESS),
        *node_subnet(rules=[]),
    ),
    sc_ok(
        "load-balancer-paths-admitted",
        "public-service-nsg-allows",
        add_res(SERVICE, "lb", {**LB_SERVICE, "metadata": {"namespace": "airflow"}}),
        add_res(NETPOL, "airflow-netpol-allow-lb", LB_INGRESS),
        *node_subnet(rules=[NSG_ALLOW_8080]),
    ),
    sc_ok("cilium-api-server-egress", "not-cilium"),
    sc_bad(
        "cilium-api-server-egress",
        "cilium-without-cnp",
        add_res(c.MANAGED_CLUSTER, "aks", {"networkProfile": {"networkPolicy": "cilium"}}),
        add_res(NETPOL, "airflow-netpol-https", HTTPS_OUT),
        urn=urn(NETPOL, "airflow-netpol-default-deny"),
    ),
    sc_ok(
        "cilium-api-server-egress",
        "cilium-with-cnp",
        add_res(c.MANAGED_CLUSTER, "aks", {"networkProfile": {"networkPolicy": "cilium"}}),
        add_res(NETPOL, "airflow-netpol-https", HTTPS_OUT),
        add_res("kubernetes:cilium.io/v2:CiliumNetworkPolicy", "cnp", CNP),
    ),
    sc_ok("mesh-trace-collector-reachable", "no-trace"),
    sc_bad(
        "mesh-trace-collector-reachable",
        "trace-without-egress",
        add_res(c.CUSTOM_RESOURCE, "mesh-trace", MESH_TRACE),
        urn=urn(c.CUSTOM_RESOURCE, "mesh-trace"),
    ),
    sc_ok(
        "mesh-trace-collector-reachable",
        "trace-with-egress",
        add_res(c.CUSTOM_RESOURCE, "mesh-trace", MESH_TRACE),
        add_res(NETPOL, "airflow-netpol-allow-mesh-telemetry", TELEMETRY_EGRESS),
    ),
    sc_bad(
        "mesh-trace-collector-reachable",
        "short-collector-name",
        add_res(
            c.CUSTOM_RESOURCE,
            "mesh-trace",
            {
                **MESH_TRACE,
                "spec": {
                    "default": {
                        "backends": [
                            {"type": "OpenTelemetry", "openTelemetry": {"endpoint": "otel:4317"}}
                        ]
                    }
                },
            },
        ),
        add_res(NETPOL, "airflow-netpol-allow-mesh-telemetry", TELEMETRY_EGRESS),
    ),
    # Linkerd's injector brings its own token volume (edge-26.8.3 _volumes.tpl)
    sc_ok("mesh-sidecar-can-authenticate", "linkerd-needs-nothing"),
    sc_bad(
        "mesh-sidecar-can-authenticate",
        "kuma-pods-without-token",
        to_kuma,
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_ok("mesh-sidecar-can-authenticate", "kuma-pods-with-token-volume", to_kuma, *KUMA_TOKENS),
    sc_bad(
        "mesh-sidecar-can-authenticate",
        "kuma-volume-named-but-absent",
        to_kuma,
        *KUMA_TOKENS,
        set_in("airflow", "inputs.values.dagProcessor.extraVolumes", []),
    ),
    sc_bad(
        "mesh-sidecar-can-authenticate",
        "kuma-own-workload-without-token",
        to_kuma,
        *KUMA_TOKENS,
        set_in("seed", "inputs.spec.template.spec.automountServiceAccountToken", False),
        urn=urn(c.JOB, "seed"),
    ),
    sc_ok(
        "airflow-api-token-only-where-needed",
        "statsd-disabled",
        set_in("airflow", "inputs.values.statsd", {"enabled": False}),
    ),
    sc_bad(
        "k8s-user-code-rbac",
        "api-server-without-token",
        set_in("airflow-api-server", "inputs.automountServiceAccountToken", False),
        urn=urn(c.SERVICE_ACCOUNT, "airflow-api-server"),
    ),
    sc_bad(
        "airflow-api-token-only-where-needed",
        "chart-statsd-default",
        set_in("airflow", "inputs.values.statsd", {}),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "airflow-api-token-only-where-needed",
        "chart-dag-processor-true",
        set_in(
            "airflow",
            "inputs.values.dagProcessor.serviceAccount.automountServiceAccountToken",
            True,
        ),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    # references resolve where the pod runs
    sc_ok("k8s-pod-references-resolve", "good"),
    sc_bad(
        "k8s-pod-references-resolve",
        "executor-config-map-missing",
        drop("airflow-config-airflow-tasks"),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "k8s-pod-references-resolve",
        "short-execution-api-url",
        set_in(
            "airflow",
            "inputs.values.config.core.execution_api_server_url",
            "http://airflow-api-server:8080/execution/",
        ),
    ),
    sc_bad(
        "k8s-pod-references-resolve",
        "statsd-host-chart-default",
        lambda rs: find(rs, "airflow")["inputs"]["values"]["config"]["metrics"].clear(),
    ),
    sc_bad(
        "k8s-pod-references-resolve",
        "task-secret-provider-class-only-in-airflow",
        set_in(
            "airflow",
            "inputs.values.workers.extraVolumes",
            [
                {
                    "name": "kv",
                    "csi": {
                        "driver": "secrets-store.csi.k8s.io",
                        "volumeAttributes": {"secretProviderClass": "airflow-tasks-kv"},
                    },
                }
            ],
        ),
    ),
    sc_bad(
        "k8s-pod-references-resolve",
        "domain-service-account-missing",
        set_in(
            "airflow",
            "inputs.values.env",
            [
                {
                    "name": "AIRFLOW_AKS_DOMAINS",
                    "value": json.dumps(
                        {"finance": {"namespace": "finance", "service_account": "finance-tasks"}}
                    ),
                }
            ],
        ),
    ),
    # who may do what in Kubernetes
    sc_ok("k8s-user-code-rbac", "good"),
    sc_bad(
        "k8s-user-code-rbac",
        "tasks-beside-the-scheduler-with-chart-rbac",
        set_in("airflow", "inputs.values.allowPodLaunching", True),
        set_in("airflow", "inputs.values.config.kubernetes_executor.namespace", "airflow"),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "k8s-user-code-rbac",
        "launch-rights-missing",
        drop("tasks-pods"),
        urn=urn(c.HELM_CHART, "airflow"),
    ),
    sc_bad(
        "k8s-user-code-rbac",
        "task-sa-may-read-secrets-in-airflow",
        add(
            res(
                _RB + "Role",
                "read-secrets",
                {
                    "metadata": {"name": "read-secrets", "namespace": "airflow"},
                    "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
                },
            )
        ),
        add(
            res(
                _RB + "RoleBinding",
                "read-secrets",
                {
                    "metadata": {"name": "read-secrets", "namespace": "airflow"},
                    "roleRef": {"kind": "Role", "name": "read-secrets"},
                    "subjects": [
                        {
                            "kind": "ServiceAccount",
                            "name": "airflow-worker",
                            "namespace": "airflow-tasks",
                        }
                    ],
                },
            )
        ),
        urn=urn(_RB + "RoleBinding", "read-secrets"),
    ),
    # rotation, credentials for absent pods, reachable quotas
    sc_ok("airflow-secret-rotation-restarts", "good"),
    sc_bad(
        "airflow-secret-rotation-restarts",
        "scheduler-not-restarted",
        set_in("airflow", "inputs.values.scheduler.podAnnotations", {}),
    ),
    sc_ok("identity-no-credential-for-absent-pods", "good"),
    sc_bad(
        "identity-no-credential-for-absent-pods",
        "create-user-job-off-but-trusted",
        add(
            res(
                c.FEDERATED_CREDENTIAL,
                "create-user",
                {"subject": "system:serviceaccount:airflow:airflow-create-user-job"},
            )
        ),
        urn=urn(c.FEDERATED_CREDENTIAL, "create-user"),
    ),
    sc_ok(
        "k8s-task-quota-reachable",
        "quota-fits",
        set_in("airflow", "inputs.values.workers.resources.limits", {"cpu": "2", "memory": "2Gi"}),
        add(tasks_quota(pods="4")),
    ),
    sc_bad(
        "k8s-task-quota-reachable",
        "pods-beyond-the-cpu-limit",
        set_in("airflow", "inputs.values.workers.resources.limits", {"cpu": "2", "memory": "2Gi"}),
        add(tasks_quota(pods="40")),
        urn=urn("kubernetes:core/v1:ResourceQuota", "tasks-quota"),
    ),
    sc_ok("stack-protect-stateful-in-prod", "prod-protected", add(VAULT_RES), production=True),
    sc_ok(
        "stack-protect-stateful-in-prod",
        "dev-unprotected",
        add(VAULT_RES),
        set_in("vault", "protect", False),
    ),
    sc_bad(
        "stack-protect-stateful-in-prod",
        "prod-unprotected",
        add(VAULT_RES),
        set_in("vault", "protect", False),
        urn=urn(c.VAULT, "vault"),
        production=True,
    ),
    sc_bad(
        "stack-protect-stateful-in-prod",
        "prod-database-no-flag",
        add(res(c.PG_SERVER, "pg", {})),
        urn=urn(c.PG_SERVER, "pg"),
        production=True,
    ),
    sc_ok("policy-exception-not-expired", "valid", exceptions=(VALID,)),
    sc_bad("policy-exception-not-expired", "expired", exceptions=(EXPIRED,), urn=f"{STACK}*"),
]


def find_sa(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in resources if r["type"] == c.SERVICE_ACCOUNT)


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda s: f"{s.rule}-{s.id}")
def test_stack_case(case: StackCase) -> None:
    rule = RULES_BY_NAME[case.rule]
    assert rule.stack_check is not None
    ctx = Context(
        stack="prod" if case.production else "dev",
        production=case.production,
        today=TODAY,
        exceptions=case.exceptions,
    )
    found = rule.stack_check(case.resources(), ctx)
    if case.violates:
        assert found, f"{case.rule}/{case.id} should report a violation"
        if case.rule in FIX_HINT_RULES:
            assert all("fix:" in m for _, m in found), found
        if case.urn is not None:
            assert case.urn in [u for u, _ in found], found
    else:
        assert found == [], f"{case.rule}/{case.id} reported {found}"


def test_good_stack_passes_every_rule() -> None:
    from airflow_aks.policies.rules import evaluate

    results = evaluate(good_stack(), "dev", [], today=TODAY)
    stack_rules = {r.name for r in RULES_BY_NAME.values() if r.kind == "stack"}
    assert [v for v in results.violations if v.rule in stack_rules] == []
