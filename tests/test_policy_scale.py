"""The policy pack grows linearly in data domains, checked by counting, not timing.

A synthetic plan is the prod plan plus k clones of one domain's resources (renamed, so
every clone is a distinct domain with its own namespace, identity, credential, grants and
mesh objects). Each rule is run over k and 2k clones while a profile hook counts the
function calls it makes (Python and builtin): for a linear rule the second k clones cost
what the first k did; a rule that scans every resource for each resource costs more.
"""

from __future__ import annotations

import gc
import json
import sys
from typing import Any

import pytest

from airflow_aks.policies.rules import ALL_RULES, Rule, evaluate

DOMAIN = "finance"  # a domain of Pulumi.prod.yaml with a secret, a container and mesh calls
K = 12


def synthetic(plan: dict[str, Any], clones: int) -> list[dict[str, Any]]:
    resources = plan["resources"]
    one = json.dumps([r for r in resources if DOMAIN in r["urn"]])
    extra = [r for i in range(clones) for r in json.loads(one.replace(DOMAIN, f"{DOMAIN}{i}"))]
    return resources + extra


def calls(resources: list[dict[str, Any]], rule: Rule) -> int:
    """Calls the rule makes over ``resources``, in isolation. The profile hook counts every
    call in the thread: a garbage collection during the count would add the finalizers of
    whatever earlier tests left behind. That is the likely cause of a failure seen once on
    a fresh clone (identity-principal-type-set, a one-line rule: +1068 calls for 12
    domains, +11078 for 12 more), not reproduced since. So the collector stays off while
    counting, and the least of two counts drops anything else that happened to run.
    """

    def once() -> int:
        n = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal n
            if event in ("call", "c_call"):
                n += 1

        enabled = gc.isenabled()
        gc.disable()
        sys.setprofile(count)
        try:
            evaluate(resources, "prod", [], rules=[rule])
        finally:
            sys.setprofile(None)
            if enabled:
                gc.enable()
        return n

    return min(once(), once())


@pytest.fixture(scope="module")
def plans(prod_plan: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [synthetic(prod_plan, k) for k in (0, K, 2 * K)]


def test_the_synthetic_plan_adds_whole_domains(prod_plan, plans):
    per_domain = len(plans[1]) - len(plans[0])
    assert (
        per_domain
        == len(plans[2]) - len(plans[1])
        == K * sum(DOMAIN in r["urn"] for r in prod_plan["resources"])
    )
    types = {r["type"] for r in plans[2][len(plans[0]) :]}
    assert {
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:managedidentity:UserAssignedIdentity",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:core/v1:Namespace",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    } <= types


def test_every_rule_grows_linearly_in_domains(plans):
    superlinear = []
    for rule in ALL_RULES:
        calls(plans[0], rule)  # first-call work (lazy imports, caches) out of the count
        base, one, two = (calls(p, rule) for p in plans)
        first, second = one - base, two - one
        # Linear: the second K domains cost what the first K did (slack for set order).
        if second > 1.2 * first + 50:
            superlinear.append(
                f"{rule.name}: +{first} calls for {K} domains, +{second} for {K} more"
            )
    assert not superlinear, "\n".join(superlinear)
