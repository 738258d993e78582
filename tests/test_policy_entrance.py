"""Entrance rules both ways, on a stack built with the real entrance builders, and the
plan-level guarantee: the entrance on with sign-in off fails a mandatory rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_aks.components import entrance as E
from airflow_aks.components.airflow import signin_config as S
from airflow_aks.policies.rules import RULES_BY_NAME, Context
from airflow_aks.policies.rules import _core as c
from tests.conftest import ROOT, plan_export
from tests.test_policy_stack import TODAY, Edit, StackCase, find, res, sc_bad, sc_ok, urn

SSO = "entrance-requires-sso-and-tls"
ROUTE = "entrance-route-api-server-only"
HOST = "airflow.example.com"
SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def _cr(m: dict[str, Any], name: str) -> dict[str, Any]:
    return res(f"kubernetes:{m['apiVersion']}:{m['kind']}", name, m)


GATEWAY = _cr(E.gateway_manifest("airflow", HOST), "entrance-gateway")
ROUTE_RES = _cr(E.https_route_manifest("airflow", HOST), "entrance-route")
REDIRECT = _cr(E.redirect_route_manifest("airflow", HOST), "entrance-redirect")
GW_URN = GATEWAY["urn"]
ROUTE_URN = ROUTE_RES["urn"]
CHART_URN = urn(c.HELM_CHART, "airflow")


def entrance(resources: list[dict[str, Any]]) -> None:
    """The entrance as the stack builds it, and the chart's SSO values."""
    resources += [copy.deepcopy(r) for r in (GATEWAY, ROUTE_RES, REDIRECT)]
    values = find(resources, "airflow")["inputs"]["values"]
    settings = S.SignInSettings(HOST, "@@c@@", "@@t@@")
    values["config"] = S.airflow_auth_config(settings)
    values["apiServer"] = {"apiServerConfig": S.webserver_config(settings)}
    values["createUserJob"] = {"enabled": False}


def edit_in(name: str, fn: Any) -> Edit:
    def edit(resources: list[dict[str, Any]]) -> None:
        fn(find(resources, name)["inputs"])

    return edit


def values(fn: Any) -> Edit:
    return edit_in("airflow", lambda inp: fn(inp["values"]))


def http_listener_routes_to_backend(inp: dict[str, Any]) -> None:
    inp["spec"]["rules"] = [{"backendRefs": [{"name": "airflow-api-server", "port": 8080}]}]


ENTRANCE_CASES: list[StackCase] = [
    # --- SSO and TLS
    sc_ok(SSO, "no-entrance-no-requirement"),
    sc_ok(SSO, "entrance-with-sso-and-tls", entrance),
    sc_bad(
        SSO,
        "simple-auth-manager",
        entrance,
        values(lambda v: v["config"]["core"].update(auth_manager=SIMPLE)),
        urn=CHART_URN,
    ),
    sc_ok(
        SSO,
        "chart-default-fab-with-oauth",
        entrance,
        values(lambda v: v["config"]["core"].pop("auth_manager")),
    ),
    sc_bad(
        SSO,
        "chart-default-fab-database-logins",
        entrance,
        values(lambda v: v["config"]["core"].pop("auth_manager")),
        values(lambda v: v.pop("apiServer")),
        urn=CHART_URN,
    ),
    sc_bad(
        SSO,
        "fab-without-oauth",
        entrance,
        values(lambda v: v["apiServer"].pop("apiServerConfig")),
        urn=CHART_URN,
    ),
    sc_bad(
        SSO,
        "builtin-admin",
        entrance,
        values(lambda v: v.pop("createUserJob")),
        urn=CHART_URN,
    ),
    sc_bad(
        SSO,
        "http-serves-the-api",
        entrance,
        edit_in("entrance-redirect", http_listener_routes_to_backend),
        urn=GW_URN,
    ),
    sc_bad(
        SSO,
        "https-without-certificate",
        entrance,
        edit_in(
            "entrance-gateway", lambda i: i["spec"]["listeners"][0]["tls"].pop("certificateRefs")
        ),
        urn=GW_URN,
    ),
    sc_bad(
        SSO,
        "api-server-as-load-balancer",
        values(lambda v: v.update(apiServer={"service": {"type": "LoadBalancer"}})),
        urn=CHART_URN,
    ),
    sc_bad(
        SSO,
        "load-balancer-service",
        lambda rs: rs.append(
            res(
                "kubernetes:core/v1:Service",
                "ui",
                {
                    "metadata": {"name": "ui", "namespace": "airflow"},
                    "spec": {"type": "LoadBalancer"},
                },
            )
        ),
    ),
    sc_bad(
        SSO,
        "generic-custom-resource-gateway",
        entrance,
        values(lambda v: v.pop("createUserJob")),
        lambda rs: find(rs, "entrance-gateway").update(type=c.CUSTOM_RESOURCE),
        urn=CHART_URN,
    ),
    # --- routes only to the API server
    sc_ok(ROUTE, "no-routes"),
    sc_ok(ROUTE, "api-server-and-redirect", entrance),
    sc_bad(
        ROUTE,
        "other-backend",
        entrance,
        edit_in(
            "entrance-route",
            lambda i: i["spec"]["rules"][0]["backendRefs"].append({"name": "flower", "port": 5555}),
        ),
        urn=ROUTE_URN,
    ),
    sc_bad(
        ROUTE,
        "cross-namespace",
        entrance,
        edit_in(
            "entrance-route",
            lambda i: i["spec"]["rules"][0]["backendRefs"][0].update(namespace="kube-system"),
        ),
        urn=ROUTE_URN,
    ),
    sc_bad(
        ROUTE,
        "wrong-port",
        entrance,
        edit_in(
            "entrance-route", lambda i: i["spec"]["rules"][0]["backendRefs"][0].update(port=8793)
        ),
        urn=ROUTE_URN,
    ),
    sc_bad(
        ROUTE,
        "mirror",
        entrance,
        edit_in(
            "entrance-route",
            lambda i: i["spec"]["rules"][0].update(
                filters=[{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "x"}}}]
            ),
        ),
        urn=ROUTE_URN,
    ),
    sc_bad(ROUTE, "no-airflow-chart", entrance, lambda rs: rs.remove(find(rs, "airflow"))),
]


@pytest.mark.parametrize("case", ENTRANCE_CASES, ids=lambda s: f"{s.rule}-{s.id}")
def test_entrance_case(case: StackCase) -> None:
    rule = RULES_BY_NAME[case.rule]
    assert rule.stack_check is not None
    found = rule.stack_check(case.resources(), Context(stack="dev", today=TODAY))
    if case.violates:
        assert found, f"{case.rule}/{case.id} should report a violation"
        if case.urn is not None:
            assert case.urn in [u for u, _ in found], found
    else:
        assert found == [], f"{case.rule}/{case.id} reported {found}"


# ---------------------------------------------------------------- the plan, both ways


def test_prod_plan_entrance_passes_both_rules(prod_plan: dict[str, Any]) -> None:
    from airflow_aks.policies.rules import evaluate

    results = evaluate(prod_plan["resources"], "prod", [], today=TODAY)
    assert not [v for v in results.violations if v.rule in (SSO, ROUTE)]


def test_plan_with_entrance_on_and_sso_off_fails_a_mandatory_rule(tmp_path: Path) -> None:
    from airflow_aks.policies.rules import evaluate

    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack["config"]["airflow-aks:entrance"]["signIn"] = {"enabled": False}
    path = tmp_path / "Pulumi.prod-nosso.yaml"
    path.write_text(yaml.safe_dump(stack))
    export = plan_export("prod", str(path))
    assert [r for r in export["resources"] if r["type"].endswith(":Gateway")]
    assert not [r for r in export["resources"] if r["type"] == "airflow-aks:index:EntraSignIn"]
    results = evaluate(export["resources"], "prod", [], today=TODAY)
    hits = [v for v in results.violations if v.rule == SSO]
    assert hits and all(v.level == "mandatory" for v in hits)
    assert any("auth manager" in v.message for v in hits)
    assert any("built-in admin" in v.message for v in hits)
