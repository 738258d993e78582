"""Every mandatory rule names where the fact it enforces comes from.

A mandatory rule blocks a deployment; the rule that forced ``automountServiceAccountToken:
false`` onto pods whose Kuma sidecar needs the token cited only a generic benchmark id. So
each mandatory rule's ``mirrors`` or description must name a source a reader can open: a
benchmark control (Checkov ``CKV_*``, Microsoft cloud security benchmark ``MCSB``, Azure
Policy, CIS), a vendor document (Microsoft Learn / aks-docs page, Kubernetes, Linkerd, Kuma,
Airflow, Entra documentation), an issue or pull request (``#1234``), or a source file read
at a date. This checks that a citation is there, not that it is right: the citations of the
class-check rules name the template or source file and the date read.
"""

from __future__ import annotations

import re

from airflow_aks.policies.rules import ALL_RULES, MANDATORY

SOURCE = re.compile(
    r"CKV2?_|MCSB|Azure Policy|\bCIS\b"
    r"|Microsoft|Learn|aks-docs|Azure|AKS|Entra|Key Vault|Kubernetes|Linkerd|linkerd|Kuma|"
    r"Airflow|cert-manager|Flux|GitHub|Postgre"
    r"|#\d+|\.(?:py|yaml|md|go)\b|read 20\d\d-\d\d-\d\d|https?://"
)


def test_every_mandatory_rule_cites_a_source() -> None:
    unsourced = [
        r.name
        for r in ALL_RULES
        if r.level == MANDATORY and not SOURCE.search(f"{r.mirrors} {r.description}")
    ]
    assert unsourced == []


def test_issue_21_rules_name_what_they_read_and_when() -> None:
    """The class checks model other systems' behaviour: each names its sources with a date."""
    names = {
        "k8s-pod-references-resolve",
        "k8s-user-code-rbac",
        "airflow-secret-rotation-restarts",
        "identity-no-credential-for-absent-pods",
        "k8s-task-quota-reachable",
        "airflow-workload-identity-label",
        "airflow-api-token-only-where-needed",
    }
    rules = {r.name: r for r in ALL_RULES if r.name in names}
    assert set(rules) == names
    dated = {"k8s-pod-references-resolve", "k8s-user-code-rbac", "airflow-workload-identity-label"}
    for name in dated:
        assert re.search(r"read 20\d\d-\d\d-\d\d", rules[name].description), name


def test_the_check_can_fail() -> None:
    assert not SOURCE.search("Tasks must not do bad things.")
