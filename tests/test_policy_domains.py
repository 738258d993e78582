"""Data-domain policy rules, each passing on the shipped prod plan and failing on an edit."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from airflow_aks.policies.rules import RULES_BY_NAME, evaluate
from airflow_aks.policies.rules import domains as R
from airflow_aks.policies.rules._core import Context

SCOPE = "domain-identity-declared-scope"
DENY = "domain-namespace-default-deny"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


def run(rule: str, resources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    check = RULES_BY_NAME[rule].stack_check
    assert check is not None
    return check(resources, Context(stack="prod", production=True))


def edited(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return copy.deepcopy(plan["resources"])


def find(resources: list[dict[str, Any]], typ: str, fragment: str) -> dict[str, Any]:
    (r,) = [r for r in resources if r["type"].endswith(typ) and fragment in r["urn"]]
    return r


def test_rules_are_mandatory_and_pass_on_prod(prod_plan):
    for rule in (SCOPE, DENY):
        assert RULES_BY_NAME[rule].level == "mandatory"
        assert run(rule, prod_plan["resources"]) == []


def test_reading_another_domains_secret_fails_a_mandatory_rule(prod_plan):
    res = edited(prod_plan)
    grant = find(res, ":RoleAssignment", "domain-finance-kv-finance-warehouse-dsn")
    grant["inputs"]["scope"] = grant["inputs"]["scope"].replace(
        "finance-warehouse-dsn", "marketing-crm-token"
    )
    found = run(SCOPE, res)
    assert found == [
        (
            grant["urn"],
            "domain 'finance': secret 'marketing-crm-token' is not declared by the domain",
        )
    ]
    results = evaluate(res, "prod", [])
    assert not results.ok and SCOPE in {v.rule for v in results.open}


def test_a_stronger_role_than_declared_fails(prod_plan):
    res = edited(prod_plan)
    grant = find(res, ":RoleAssignment", "domain-finance-kv-finance-warehouse-dsn")
    rid = grant["inputs"]["roleDefinitionId"]
    grant["inputs"]["roleDefinitionId"] = rid.rsplit("/", 1)[0] + "/" + SECRETS_OFFICER
    (only,) = run(SCOPE, res)
    assert "exceeds declared 'read' access" in only[1]


def test_a_grant_on_the_whole_vault_fails(prod_plan):
    res = edited(prod_plan)
    grant = find(res, ":RoleAssignment", "domain-marketing-kv-marketing-crm-token")
    grant["inputs"]["scope"] = grant["inputs"]["scope"].rsplit("/secrets/", 1)[0]
    (only,) = run(SCOPE, res)
    assert "neither a declared secret nor a declared container" in only[1]


def test_a_credential_for_another_namespace_fails(prod_plan):
    res = edited(prod_plan)
    cred = find(res, ":FederatedIdentityCredential", "domain-finance-identity")
    cred["inputs"]["subject"] = "system:serviceaccount:marketing:marketing-tasks"
    (only,) = run(SCOPE, res)
    assert only[0] == cred["urn"] and "outside system:serviceaccount:finance:*" in only[1]


def test_an_undeclared_scope_annotation_fails(prod_plan):
    res = edited(prod_plan)
    ns = find(res, ":Namespace", "domain-finance-namespace")
    del ns["inputs"]["metadata"]["annotations"][R.SCOPE_ANNOTATION]
    found = run(SCOPE, res)
    assert found and all("namespace declares no scope" in m for _, m in found)


def test_missing_network_default_deny_fails(prod_plan):
    res = [
        r
        for r in edited(prod_plan)
        if not (r["type"] == R.NETWORK_POLICY and "domain-finance-netpol-default-deny" in r["urn"])
    ]
    ns = find(res, ":Namespace", "domain-finance-namespace")
    assert run(DENY, res) == [
        (ns["urn"], "domain 'finance': namespace finance has no default-deny NetworkPolicy")
    ]


def test_a_deny_policy_with_rules_is_not_default_deny(prod_plan):
    res = edited(prod_plan)
    deny = find(res, ":NetworkPolicy", "domain-marketing-netpol-default-deny")
    deny["inputs"]["spec"]["egress"] = [{}]  # allow-all egress
    (only,) = run(DENY, res)
    assert "marketing" in only[1]


def test_linkerd_namespace_without_deny_annotation_fails(prod_plan):
    res = edited(prod_plan)
    ns = find(res, ":Namespace", "domain-finance-namespace")
    ns["inputs"]["metadata"]["annotations"][R.LINKERD_DEFAULT_POLICY] = "all-unauthenticated"
    (only,) = run(DENY, res)
    assert only == (
        ns["urn"],
        f"domain 'finance': namespace finance lacks {R.LINKERD_DEFAULT_POLICY}: deny",
    )


def _kuma_stack(deny: bool, injected: bool) -> list[dict[str, Any]]:
    labels = {R.DOMAIN_LABEL: "finance"}
    if injected:
        labels["kuma.io/sidecar-injection"] = "enabled"
    out: list[dict[str, Any]] = [
        {"urn": "urn:mesh", "type": "airflow-aks:index:Kuma", "inputs": {}},
        {
            "urn": "urn:ns",
            "type": "kubernetes:core/v1:Namespace",
            "inputs": {"metadata": {"name": "finance", "labels": labels}},
        },
        {
            "urn": "urn:deny",
            "type": R.NETWORK_POLICY,
            "inputs": {
                "metadata": {"name": "default-deny", "namespace": "finance"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        },
    ]
    if deny:
        spec = {
            "targetRef": {"kind": "Mesh"},
            "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}],
        }
        out.append(
            {
                "urn": "urn:mtp",
                "type": "kubernetes:apiextensions.k8s.io:CustomResource",
                "inputs": {"kind": "MeshTrafficPermission", "spec": spec},
            }
        )
    return out


@pytest.mark.parametrize(
    ("deny", "injected", "violations"), [(True, True, 0), (False, True, 1), (True, False, 1)]
)
def test_kuma_domain_namespace_needs_injection_and_mesh_deny(deny, injected, violations):
    assert len(run(DENY, _kuma_stack(deny, injected))) == violations


def test_without_a_mesh_only_network_policy_counts():
    res = [r for r in _kuma_stack(False, False) if r["urn"] != "urn:mesh"]
    assert run(DENY, res) == []
    assert len(run(DENY, [r for r in res if r["urn"] != "urn:deny"])) == 1


@pytest.mark.parametrize(
    ("scope", "role", "ok"),
    [
        (".../secrets/a", "4633458b-17de-408a-b874-0445c86b69e6", True),
        (".../secrets/w", SECRETS_OFFICER, True),
        (".../secrets/a", SECRETS_OFFICER, False),
        (".../containers/logs", "ba92f5b4-2d11-453d-a403-e96b0029c9fe", True),
        (".../containers/c", "ba92f5b4-2d11-453d-a403-e96b0029c9fe", False),
        (".../containers/other", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", False),
    ],
)
def test_allowed_table(scope, role, ok):
    declared = json.loads(
        '{"secrets": {"a": "read", "w": "write"}, "containers": {"c": "read"}, "logs": "logs"}'
    )
    assert (R.allowed(scope, role, declared) is None) is ok
