"""Policy rules are filed by area: a rule's module (its reported ``area``) is the area its
name says, so the rule listing, the README tables and the weakening figures group a rule
where a reader looks for it. (``deploy.py`` and ``mesh_airflow.py`` used to hold rules of
five and three areas.)"""

from __future__ import annotations

from airflow_aks.policies.rules import ALL_RULES

# name prefix -> module (area) of the rules named so
AREA_OF_PREFIX = {
    "aks": "aks",
    "keyvault": "keyvault",
    "storage": "storage",
    "postgres": "postgres",
    "identity": "identity",
    "k8s": "kubernetes",
    "mesh": "mesh",
    "airflow": "airflow",
    "helm": "charts",
    "flux": "gitops",
    "pods": "scheduling",
    "stack": "stack",
    "entrance": "entrance",
    "domain": "domains",
}
# Rules whose name is not their area's prefix, each with why.
FILED_ELSEWHERE = {
    "mesh-webhook-certs-stable": "charts",  # a finding over rendered chart objects
    "kuma-system-namespace-ready": "charts",  # idem
    "policy-exception-not-expired": "stack",  # about the stack's exceptions file
    "namespace-network-default-deny": "network",
    # NetworkPolicy / NSG checks, filed with the other network rules
    "load-balancer-paths-admitted": "network",
    "cilium-api-server-egress": "network",
    "mesh-trace-collector-reachable": "network",
}


def expected_area(name: str) -> str:
    return FILED_ELSEWHERE.get(name) or AREA_OF_PREFIX[name.split("-", 1)[0]]


def test_every_rule_is_filed_in_the_module_of_its_area() -> None:
    misfiled = {r.name: r.area for r in ALL_RULES if r.area != expected_area(r.name)}
    assert misfiled == {}


def test_no_grab_bag_module_is_left() -> None:
    areas = {r.area for r in ALL_RULES}
    assert areas <= set(AREA_OF_PREFIX.values()) | set(FILED_ELSEWHERE.values())
