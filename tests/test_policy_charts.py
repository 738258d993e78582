"""Chart-value rules (Kuma namespace check, mesh webhook certificates), both ways, table-driven."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_aks.components.mesh import kuma, linkerd
from airflow_aks.policies.rules import RULES_BY_NAME, Context
from airflow_aks.policies.rules import _core as c

STACK = "urn:pulumi:dev::airflow-aks::"
CERTS = "mesh-webhook-certs-stable"
KUMA_NS = "kuma-system-namespace-ready"


def res(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"urn": f"{STACK}{typ}::{name}", "type": typ, "name": name, "inputs": inputs}


def chart(name: str, ns: str, values: dict[str, Any]) -> dict[str, Any]:
    return res(c.HELM_CHART, f"mesh-{name}", {"chart": name, "namespace": ns, "values": values})


def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return res(c.NAMESPACE, f"{name}-ns", {"metadata": {"name": name, "labels": labels}})


L5D = linkerd.control_plane_values(ha=False, cni=False)
KUMA = kuma.chart_values(ha=False)


def edited(values: dict[str, Any], *path: str, value: Any = None) -> dict[str, Any]:
    out = copy.deepcopy(values)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    if value is None:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return out


# (id, rule, props, violates)
CERT_CASES = [
    ("linkerd-shipped", chart("linkerd-control-plane", "linkerd", L5D), False),
    ("kuma-shipped", chart("kuma", "kuma-system", KUMA), False),
    ("other-chart", chart("cert-manager", "cert-manager", {}), False),
    (
        "linkerd-injector-generated",
        chart("linkerd-control-plane", "linkerd", edited(L5D, "proxyInjector")),
        True,
    ),
    (
        "linkerd-external-secret-without-ca",
        chart(
            "linkerd-control-plane",
            "linkerd",
            edited(L5D, "policyValidator", value={"externalSecret": True}),
        ),
        True,
    ),
    (
        "linkerd-heartbeat-at-render-time",
        chart("linkerd-control-plane", "linkerd", edited(L5D, "disableHeartBeat")),
        True,
    ),
    (
        "linkerd-fixed-heartbeat-schedule",
        chart(
            "linkerd-control-plane",
            "linkerd",
            {**edited(L5D, "disableHeartBeat"), "heartbeatSchedule": "4 15 * * *"},
        ),
        False,
    ),
    ("kuma-ca-generated", chart("kuma", "kuma-system", edited(KUMA, "controlPlane", "tls")), True),
    (
        "kuma-own-secret",
        chart(
            "kuma",
            "kuma-system",
            edited(KUMA, "controlPlane", "tls", value={"general": {"secretName": "kuma-tls"}}),
        ),
        False,
    ),
]

NS_OK = namespace("kuma-system", {"kuma.io/sidecar-injection": "false"})
NS_CASES = [
    ("shipped", [NS_OK, chart("kuma", "kuma-system", KUMA)], False),
    ("no-kuma-no-opinion", [namespace("kuma-system", {})], False),
    ("no-helm-hooks", [NS_OK, chart("kuma", "kuma-system", {**KUMA, "noHelmHooks": True})], True),
    (
        "the-label-that-exists-nowhere",
        [
            namespace("kuma-system", {"kuma.io/system-namespace": "true"}),
            chart("kuma", "kuma-system", KUMA),
        ],
        True,
    ),
    ("namespace-not-created", [chart("kuma", "kuma-system", KUMA)], True),
    # pulumi preview before the Namespace exists: its output name is unknown, not missing
    ("namespace-name-unknown-in-preview", [NS_OK, chart("kuma", "[unknown]", KUMA)], False),
]

COVERAGE = {(CERTS, v) for _, _, v in CERT_CASES} | {(KUMA_NS, v) for _, _, v in NS_CASES}
"""(rule, violates) pairs these cases exercise (read by test_every_rule_has_both_cases)."""


@pytest.mark.parametrize(
    ("resource", "violates"), [(r, v) for _, r, v in CERT_CASES], ids=[i for i, _, _ in CERT_CASES]
)
def test_webhook_certs_stable(resource: dict[str, Any], violates: bool) -> None:
    rule = RULES_BY_NAME[CERTS]
    assert rule.check is not None and rule.applies_to(resource["type"], resource["inputs"])
    found = rule.check(resource["inputs"], Context())
    assert bool(found) is violates, found


@pytest.mark.parametrize(
    ("resources", "violates"), [(r, v) for _, r, v in NS_CASES], ids=[i for i, _, _ in NS_CASES]
)
def test_kuma_system_namespace_ready(resources: list[dict[str, Any]], violates: bool) -> None:
    rule = RULES_BY_NAME[KUMA_NS]
    assert rule.stack_check is not None
    found = rule.stack_check(copy.deepcopy(resources), Context())
    assert bool(found) is violates, found
