"""Data domains: config (errors name domain and key), pure decisions, and the prod plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_aks.components import domains as D
from airflow_aks.components import netpol
from airflow_aks.config.base import ConfigError
from airflow_aks.config.stack import load, read_stack_file
from airflow_aks.offline import plan
from airflow_aks.program import stack as program
from tests.conftest import ROOT, by_type

GROUP = "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"


def stack(*domains: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "airflow-aks:location": "westeurope",
        "airflow-aks:aks": {
            "adminGroupObjectIds": [GROUP],
            "authorizedIpRanges": ["203.0.113.0/24"],
        },
        "airflow-aks:domains": list(domains),
        **extra,
    }


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(raw, "dev")
    return [str(i) for i in err.value.issues]


# ------------------------------------------------------------------------- config


def test_minimal_domain_defaults():
    cfg = load(stack({"name": "finance"}), "dev")
    (d,) = cfg.domains
    assert d.effective_namespace == "finance" and d.pool == "tasks"
    # pods: what the default limits admit
    assert d.quota.pods == 5 and d.secrets == [] and d.hosts == []


@pytest.mark.parametrize(
    ("domains", "path", "fragment"),
    [
        (
            [{"name": "finance"}, {"name": "finance", "namespace": "fin2"}],
            "airflow-aks:domains[1].name",
            "domain 'finance': duplicate domain name",
        ),
        (
            [{"name": "finance", "namespace": "airflow"}],
            "airflow-aks:domains[0].namespace",
            "domain 'finance': namespace 'airflow' belongs to the platform",
        ),
        (
            [{"name": "finance", "namespace": "linkerd"}],
            "airflow-aks:domains[0].namespace",
            "belongs to the platform",
        ),
        (
            [{"name": "finance"}, {"name": "ops", "namespace": "finance"}],
            "airflow-aks:domains[1].namespace",
            "domain 'ops': namespace 'finance' is already domain 'finance'",
        ),
        (
            [{"name": "finance", "pool": "system"}],
            "airflow-aks:domains[0].pool",
            "unknown pool 'system'; allowed: tasks, workload",
        ),
        (
            [{"name": "finance", "pool": "gpu"}],
            "airflow-aks:domains[0].pool",
            "domain 'finance': unknown pool 'gpu'; allowed: tasks, workload",
        ),
        (
            [
                {"name": "finance", "secrets": [{"name": "shared-dsn", "access": "write"}]},
                {"name": "ops", "secrets": [{"name": "shared-dsn", "access": "write"}]},
            ],
            "airflow-aks:domains[1].secrets[0].name",
            "domain 'ops': 'shared-dsn' is claimed for write by domain 'finance' too",
        ),
        (
            [
                {"name": "finance", "containers": [{"name": "landing", "access": "write"}]},
                {"name": "ops", "containers": [{"name": "landing", "access": "write"}]},
            ],
            "airflow-aks:domains[1].containers[0].name",
            "claimed for write by domain 'finance'",
        ),
        (
            [{"name": "finance", "secrets": [{"name": "airflow-fernet-key"}]}],
            "airflow-aks:domains[0].secrets[0].name",
            "belongs to the platform",
        ),
        (
            [{"name": "finance", "containers": [{"name": "airflow-logs"}]}],
            "airflow-aks:domains[0].containers[0].name",
            "belongs to the platform",
        ),
        (
            [
                {
                    "name": "finance",
                    "meshCalls": [{"domain": "hr", "labels": {"a": "b"}, "port": 80}],
                }
            ],
            "airflow-aks:domains[0].meshCalls[0].domain",
            "domain 'finance': unknown domain 'hr'; allowed: finance",
        ),
        (
            [{"name": "finance", "hosts": ["api.example.com"]}],
            "airflow-aks:domains[0].hosts",
            "domain 'finance': hosts[0]: 'api.example.com' is not host:port",
        ),
        (
            [{"name": "Finance"}],
            "airflow-aks:domains[0].name",
            "domain 'Finance': String should match pattern",
        ),
        (
            [{"name": "finance", "quota": {"pods": 0}}],
            "airflow-aks:domains[0].quota.pods",
            "domain 'finance':",
        ),
        (
            [{"name": "finance", "secrets": [{"name": "x", "acess": "read"}]}],
            "airflow-aks:domains[0].secrets[0].acess",
            "did you mean 'access'",
        ),
    ],
)
def test_misconfiguration_names_domain_and_key(domains, path, fragment):
    found = problems(stack(*domains))
    assert any(p.startswith(path + ":") and fragment in p for p in found), found


def test_a_second_reader_is_fine_and_creation_has_one_owner():
    ok = stack(
        {"name": "finance", "containers": [{"name": "landing", "create": True, "access": "write"}]},
        {"name": "ops", "containers": [{"name": "landing"}]},
    )
    assert len(load(ok, "dev").domains) == 2
    twice = stack(
        {"name": "finance", "containers": [{"name": "landing", "create": True}]},
        {"name": "ops", "containers": [{"name": "landing", "create": True}]},
    )
    assert any("containers[0].create" in p and "'finance' already" in p for p in problems(twice))


def test_invalid_domain_registers_nothing():
    raw = read_stack_file(ROOT / "Pulumi.prod.yaml")
    raw = {**raw, "airflow-aks:domains": [{"name": "finance", "namespace": "kube-system"}]}
    seen: list[str] = []

    def probe() -> None:
        try:
            program.main()
        finally:
            import pulumi.runtime.settings as s

            seen.extend(r.urn for r in s.SETTINGS.monitor.registrations)  # type: ignore[attr-defined]

    with pytest.raises(Exception, match=r"domains\[0\]\.namespace"):
        plan.run(probe, stack="prod", config=raw)
    assert seen == []


# ------------------------------------------------------------------ pure decisions

AIRFLOW = D.AirflowPeerArgs(
    namespace="airflow",
    release="airflow",
    scheduler_service_account="airflow-scheduler",
    api_server_service_account="airflow-api-server",
    api_server_labels={"component": "api-server", "release": "airflow"},
    api_server_port=8080,
    worker_labels={"component": "worker", "release": "airflow"},
    worker_logs_port=8793,
)
QUOTA = D.QuotaArgs(
    requests_cpu="4",
    requests_memory="8Gi",
    limits_cpu="8",
    limits_memory="16Gi",
    pods=50,
    default_request_cpu="100m",
    default_request_memory="256Mi",
    default_limit_cpu="1",
    default_limit_memory="1Gi",
)


def domain_args(**over: Any) -> D.DataDomainArgs:
    args: dict[str, Any] = {
        "domain": "finance",
        "namespace": "finance",
        "service_account": "finance-tasks",
        "resource_group_name": "rg",
        "location": "westeurope",
        "identity_name": "id-finance",
        "oidc_issuer_url": "https://issuer",
        "key_vault_id": "/v",
        "storage_account_id": "/sa",
        "storage_account_name": "sa",
        "logs_container": "airflow-logs",
        "airflow": AIRFLOW,
        "quota": QUOTA,
        "cluster_cidrs": ["192.168.0.0/16", "172.16.0.0/16", "10.42.0.0/16"],
        **over,
    }
    return D.DataDomainArgs(**args)  # type: ignore[typeddict-item]


def test_grant_plan_is_exactly_the_declared_scope():
    args = domain_args(
        secrets=[{"name": "dsn", "access": "read"}, {"name": "token", "access": "write"}],
        containers=[{"name": "landing", "access": "write", "create": True}],
    )
    assert D.grant_plan(args) == [
        ("kv-dsn", "Key Vault Secrets User", "secret", "dsn"),
        ("kv-token", "Key Vault Secrets Officer", "secret", "token"),
        ("blob-landing", "Storage Blob Data Contributor", "container", "landing"),
        ("logs", "Storage Blob Data Contributor", "container", "airflow-logs"),
    ]
    assert D.declared_scope(args) == {
        "secrets": {"dsn": "read", "token": "write"},
        "containers": {"landing": "write"},
        "logs": "airflow-logs",
    }


def _egress(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (allow,) = [p for p in policies if p["metadata"]["name"] == "allow-egress"]
    return allow["spec"]["egress"]


def test_network_policies_default_deny_and_only_declared_egress():
    args = domain_args(
        hosts=[{"host": "api.example.com", "port": 8443}, {"host": "203.0.113.7", "port": 5432}],
        outbound=[{"namespace": "marketing", "labels": {"app": "segments"}, "port": 8080}],
    )
    policies = D.network_policies(args, "linkerd", (8080, 8086, 8090), (4143,))
    deny = policies[0]
    assert deny["metadata"] == {"name": "default-deny", "namespace": "finance"}
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress = _egress(policies)
    assert egress[0] == netpol.dns_rule()
    ports = [[p["port"] for p in rule["ports"]] for rule in egress]
    # DNS, API server, execution API (+ proxy port), mesh control plane, call, hosts
    assert ports == [
        [53, 53],
        [443],
        [4143, 8080],
        [8080, 8086, 8090],
        [4143, 8080],
        [8443],
        [5432],
    ]
    assert egress[2]["to"][0]["podSelector"] == {"matchLabels": AIRFLOW["api_server_labels"]}
    assert egress[4]["to"][0]["namespaceSelector"]["matchLabels"] == {
        netpol.NS_NAME_LABEL: "marketing"
    }
    assert egress[5]["to"][0]["ipBlock"]["except"] == sorted(args["cluster_cidrs"])
    assert egress[6]["to"][0]["ipBlock"] == {"cidr": "203.0.113.7/32"}


def test_network_policies_without_mesh_open_no_mesh_ports():
    egress = _egress(D.network_policies(domain_args()))
    assert [[p["port"] for p in rule["ports"]] for rule in egress] == [[53, 53], [443], [8080]]


def test_ingress_only_from_api_server_logs_and_declared_callers():
    inbound = [
        {
            "labels": {"app": "segments"},
            "port": 8080,
            "callers": [{"namespace": "finance", "service_account": "finance-tasks"}],
        }
    ]
    policies = D.network_policies(domain_args(namespace="marketing", inbound=inbound))
    (ingress,) = [p for p in policies if p["metadata"]["name"] == "allow-ingress"]
    rules = ingress["spec"]["ingress"]
    assert rules[0]["from"][0]["podSelector"] == {"matchLabels": AIRFLOW["api_server_labels"]}
    assert rules[0]["ports"] == [{"protocol": "TCP", "port": 8793}]
    assert rules[1]["from"] == [
        {"namespaceSelector": {"matchLabels": {netpol.NS_NAME_LABEL: "finance"}}}
    ]


def test_inbound_calls_grouped_per_target_port():
    calls = D.inbound_calls(
        [
            ("finance", "finance", "finance-tasks", [("marketing", {"app": "seg"}, 8080)]),
            (
                "ops",
                "ops",
                "ops-tasks",
                [("marketing", {"app": "seg"}, 8080), ("finance", {"a": "b"}, 9)],
            ),
            ("marketing", "marketing", "marketing-tasks", []),
        ]
    )
    assert sorted(calls) == ["finance", "marketing"]
    (seg,) = calls["marketing"]
    assert seg["callers"] == [
        {"namespace": "finance", "service_account": "finance-tasks"},
        {"namespace": "ops", "service_account": "ops-tasks"},
    ]


def test_mesh_rules_admit_only_api_server_and_declared_callers():
    inbound = [
        {
            "labels": {"app": "seg"},
            "port": 8080,
            "callers": [{"namespace": "finance", "service_account": "finance-tasks"}],
        }
    ]
    rules = D.mesh_rules(domain_args(inbound=inbound))
    assert [(n, t.port, [c.service_account for c in cs]) for n, t, cs in rules] == [
        ("airflow-worker-logs", 8793, ["airflow-api-server"]),
        ("domain-inbound-0", 8080, ["finance-tasks"]),
    ]


def test_quota_and_limit_range():
    assert D.quota_spec(QUOTA)["hard"] == {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "pods": "50",
    }
    (limit,) = D.limit_range_spec(QUOTA)["limits"]
    assert limit["default"] == {"cpu": "1", "memory": "1Gi"}


def test_rbac_tables_have_no_wildcards_or_escalation():
    for rule in (*D.POD_LAUNCHER_RULES, *D.POD_LOG_READER_RULES):
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


# --------------------------------------------------------------------- the prod plan


def _in_ns(export: dict[str, Any], typ: str, ns: str) -> list[dict[str, Any]]:
    return [
        r
        for r in by_type(export, typ)
        if (r["inputs"].get("metadata") or {}).get("namespace") == ns
    ]


@pytest.mark.parametrize("domain", ["finance", "marketing"])
def test_prod_plan_shows_each_domain(prod_plan, domain):
    res = [r for r in prod_plan["resources"] if f"domain-{domain}" in r["urn"]]
    types = {r["type"].rsplit(":", 1)[-1] for r in res}
    assert {
        "DataDomain",
        "Namespace",
        "UserAssignedIdentity",
        "FederatedIdentityCredential",
        "ServiceAccount",
        "RoleAssignment",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "Role",
        "RoleBinding",
    } <= types
    (cred,) = [r for r in res if r["type"].endswith("FederatedIdentityCredential")]
    assert cred["inputs"]["subject"] == f"system:serviceaccount:{domain}:{domain}-tasks"
    servers = _in_ns(prod_plan, "kubernetes:policy.linkerd.io/v1beta3:Server", domain)
    assert servers, "mesh authorization in the domain namespace"
    (ns,) = [r for r in res if r["type"] == "kubernetes:core/v1:Namespace"]
    assert (
        ns["inputs"]["metadata"]["annotations"]["config.linkerd.io/default-inbound-policy"]
        == "deny"
    )
    launcher = [r for r in res if r["type"].endswith("RoleBinding") and "pod-launcher" in r["name"]]
    subjects = launcher[0]["inputs"]["subjects"]
    assert {
        "kind": "ServiceAccount",
        "name": "airflow-scheduler",
        "namespace": "airflow",
    } in subjects


def test_prod_domain_grants_are_scoped_to_exactly_its_secrets(prod_plan):
    scopes = sorted(
        r["inputs"]["scope"].split("/providers/", 1)[1]
        for r in by_type(prod_plan, "azure-native:authorization:RoleAssignment")
        if "domain-finance" in r["urn"]
    )
    assert scopes == [
        "Microsoft.KeyVault/vaults/kv-airflow-prod-weu-fb47/secrets/finance-warehouse-dsn",
        "Microsoft.Storage/storageAccounts/stairflowprodweufb47/blobServices/default/containers/airflow-logs",
        "Microsoft.Storage/storageAccounts/stairflowprodweufb47/blobServices/default/containers/finance-landing",
    ]


def test_prod_airflow_launches_only_the_declared_namespaces(prod_plan):
    (chart,) = [
        r for r in by_type(prod_plan, "kubernetes:helm.sh/v4:Chart") if r["name"] == "airflow-chart"
    ]
    values = chart["inputs"]["values"]
    kx = values["config"]["kubernetes_executor"]
    assert kx["multi_namespace_mode"] == "True"
    assert kx["multi_namespace_mode_namespace_list"] == "airflow-tasks,finance,marketing"
    assert values.get("multiNamespaceMode") in (None, False)  # no ClusterRole
    env = {e["name"]: e["value"] for e in values["env"]}
    domains = json.loads(env["AIRFLOW_AKS_DOMAINS"])
    assert domains["finance"]["service_account"] == "finance-tasks"
    assert domains["finance"]["labels"][D.DOMAIN_LABEL] == "finance"
    # the execution API admits the domains' task ServiceAccounts
    auth = [
        r
        for r in _in_ns(
            prod_plan, "kubernetes:policy.linkerd.io/v1alpha1:MeshTLSAuthentication", "airflow"
        )
        if r["inputs"]["metadata"]["name"] == "airflow-api-server"
    ]
    refs = auth[0]["inputs"]["spec"]["identityRefs"]
    assert {"kind": "ServiceAccount", "name": "finance-tasks", "namespace": "finance"} in refs


def test_finance_may_call_marketing_only_where_declared(prod_plan):
    servers = _in_ns(prod_plan, "kubernetes:policy.linkerd.io/v1beta3:Server", "marketing")
    inbound = [s for s in servers if s["inputs"]["metadata"]["name"].startswith("domain-inbound")]
    assert [s["inputs"]["spec"]["port"] for s in inbound] == [8080]
    auth = _in_ns(
        prod_plan, "kubernetes:policy.linkerd.io/v1alpha1:MeshTLSAuthentication", "marketing"
    )
    refs = {a["inputs"]["metadata"]["name"]: a["inputs"]["spec"]["identityRefs"] for a in auth}
    assert refs["domain-inbound-0"] == [
        {"kind": "ServiceAccount", "name": "finance-tasks", "namespace": "finance"}
    ]
    assert not _in_ns(prod_plan, "kubernetes:policy.linkerd.io/v1beta3:Server", "finance")[1:]
