"""Entrance rules: what may be reachable from outside the cluster, and how.

A Gateway, an Ingress or a LoadBalancer Service puts the Airflow UI in front of people —
and scanners. Exposed, it must speak TLS only (HTTP listeners may only redirect) and sign
people in through an identity provider: Airflow's default auth manager and the chart's
built-in ``admin`` user are a password on the internet. And a Gateway route may only lead to
the Airflow API server: a second backend on the same host is an unreviewed way in.

Both are stack rules: exposure, routes and the Airflow chart's auth settings are separate
resources. Kubernetes custom resources are matched by type ``kubernetes:<group>/<v>:<Kind>``
(real preview and offline plan alike) or by ``kind`` on a generic ``CustomResource``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import (
    CUSTOM_RESOURCE,
    HELM_TYPES,
    MANDATORY,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    is_false,
    stack_rule,
)
from .mesh import chart_name

RULES: list[Rule] = []

GATEWAY_GROUP = "gateway.networking.k8s.io"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"

OAUTH_AUTH_MANAGERS = {
    # FAB auth manager signs people in over OAuth/OIDC when its webserver_config.py sets
    # AUTH_TYPE = AUTH_OAUTH (provider 3.10.2); Keycloak's auth manager is OIDC only.
    "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager": "fab",
    "airflow.providers.keycloak.auth_manager.keycloak_auth_manager.KeycloakAuthManager": "oidc",
}
CHART_DEFAULT_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
"""The official chart's ``config.core.auth_manager`` default (values.yaml after 1.22, seen
2026-12-02): FAB with database logins unless webserver_config.py says AUTH_OAUTH."""
API_SERVER_SUFFIX = "-api-server"  # chart: <release>-api-server (useStandardNaming false)
API_SERVER_PORT = 8080  # chart ports.apiServer


def _kind_of(r: Mapping[str, Any]) -> tuple[str, str]:
    """``(api group, Kind)`` of a Kubernetes resource, plain or custom."""
    t = str(r.get("type", ""))
    props = as_dict(r.get("inputs"))
    if t == CUSTOM_RESOURCE:
        api = str(props.get("apiVersion", ""))
        return api.rsplit("/", 1)[0] if "/" in api else "", str(props.get("kind", ""))
    if t.startswith("kubernetes:") and t.count(":") == 2:
        _, gv, kind = t.split(":")
        return gv.rsplit("/", 1)[0] if "/" in gv else "", kind
    return "", ""


def _of_kind(resources: list[dict[str, Any]], kind: str) -> Iterator[dict[str, Any]]:
    for r in resources:
        if _kind_of(r) == (GATEWAY_GROUP, kind):
            yield r


def _name_ns(r: Mapping[str, Any]) -> tuple[str, str]:
    meta = as_dict(get(r.get("inputs"), "metadata"))
    return str(meta.get("name") or r.get("name")), str(meta.get("namespace") or "default")


def _airflow_charts(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in resources
        if r.get("type") in HELM_TYPES and chart_name(as_dict(r.get("inputs"))) == "airflow"
    ]


def _redirects_to_https(route: Mapping[str, Any]) -> bool:
    """Every rule of an HTTPRoute only redirects to https and has no backend."""
    rules = as_list(get(route.get("inputs"), "spec.rules"))
    if not rules:
        return False
    for rule in rules:
        rule = as_dict(rule)
        if as_list(rule.get("backendRefs")):
            return False
        filters = [as_dict(f) for f in as_list(rule.get("filters"))]
        if not any(
            f.get("type") == "RequestRedirect" and get(f, "requestRedirect.scheme") == "https"
            for f in filters
        ):
            return False
    return True


def _attached(route: Mapping[str, Any], gateway: str, ns: str, listener: str) -> bool:
    route_ns = _name_ns(route)[1]
    for ref in as_list(get(route.get("inputs"), "spec.parentRefs")):
        ref = as_dict(ref)
        if ref.get("name") != gateway or str(ref.get("namespace") or route_ns) != ns:
            continue
        if ref.get("sectionName") in (None, listener):
            return True
    return False


def tls_problems(resources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Exposures that are not TLS-only: plain HTTP listeners that do more than redirect,
    HTTPS listeners without a certificate, Ingresses without ``tls``, LoadBalancer Services."""
    out: list[tuple[str, str]] = []
    routes = list(_of_kind(resources, "HTTPRoute"))
    for gw in _of_kind(resources, "Gateway"):
        name, ns = _name_ns(gw)
        urn = str(gw.get("urn"))
        for listener in as_list(get(gw.get("inputs"), "spec.listeners")):
            listener = as_dict(listener)
            proto, lname = str(listener.get("protocol", "")), str(listener.get("name", ""))
            if proto == "HTTPS":
                tls = as_dict(listener.get("tls"))
                if tls.get("mode", "Terminate") != "Terminate" or not as_list(
                    tls.get("certificateRefs")
                ):
                    out.append((urn, f"listener {lname!r}: HTTPS without a certificate"))
            elif proto == "HTTP":
                bad = [
                    _name_ns(r)[0]
                    for r in routes
                    if _attached(r, name, ns, lname) and not _redirects_to_https(r)
                ]
                if bad:
                    out.append(
                        (urn, f"listener {lname!r} serves plain HTTP (routes {sorted(bad)})")
                    )
            elif proto not in ("TLS",):
                out.append((urn, f"listener {lname!r}: protocol {proto!r} is not TLS"))
    for r in resources:
        t = r.get("type")
        props = as_dict(r.get("inputs"))
        if t == INGRESS and not as_list(get(props, "spec.tls")):
            out.append((str(r.get("urn")), "Ingress without spec.tls"))
        if t == SERVICE and get(props, "spec.type") == "LoadBalancer":
            out.append((str(r.get("urn")), "a LoadBalancer Service exposes a port without TLS"))
    for chart in _airflow_charts(resources):
        if get(chart.get("inputs"), "values.apiServer.service.type") == "LoadBalancer":
            out.append((str(chart.get("urn")), "apiServer.service.type LoadBalancer: plain HTTP"))
    return out


def exposed(resources: list[dict[str, Any]]) -> bool:
    """Anything reachable from outside the cluster: a Gateway, an Ingress, a LoadBalancer
    Service, or the Airflow chart's API server Service as a LoadBalancer."""
    if any(True for _ in _of_kind(resources, "Gateway")):
        return True
    for r in resources:
        props = as_dict(r.get("inputs"))
        if r.get("type") == INGRESS:
            return True
        if r.get("type") == SERVICE and get(props, "spec.type") == "LoadBalancer":
            return True
    return any(
        get(c.get("inputs"), "values.apiServer.service.type") == "LoadBalancer"
        for c in _airflow_charts(resources)
    )


def sso_problems(chart: Mapping[str, Any]) -> list[str]:
    """Why an Airflow chart does not sign people in through an identity provider."""
    values = as_dict(get(chart.get("inputs"), "values"))
    manager = str(get(values, "config.core.auth_manager") or CHART_DEFAULT_AUTH_MANAGER)
    out: list[str] = []
    kind = OAUTH_AUTH_MANAGERS.get(manager)
    if kind is None:
        out.append(f"auth manager {manager!r} does not sign people in through an identity provider")
    elif kind == "fab":
        config = str(get(values, "apiServer.apiServerConfig") or "")
        if "AUTH_TYPE = AUTH_OAUTH" not in config:
            out.append("FAB auth manager without AUTH_TYPE = AUTH_OAUTH in apiServerConfig")
    # The chart creates the built-in admin unless createUserJob.enabled is false.
    if not is_false(get(values, "createUserJob.enabled")):
        out.append("the built-in admin user is created (createUserJob.enabled is not false)")
    return out


@stack_rule(
    RULES,
    name="entrance-requires-sso-and-tls",
    level=MANDATORY,
    mirrors="OWASP ASVS V2/V9; Airflow security model (UI access)",
    description="""A UI exposed outside the cluster (Gateway, Ingress or LoadBalancer
    Service) must speak TLS only (HTTP listeners may only redirect to HTTPS) and sign
    people in through an identity provider (an OAuth/OIDC auth manager, no built-in admin
    user): otherwise Airflow's login page, or a default password, faces the internet.""",
)
def requires_sso_and_tls(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    if not exposed(resources):
        return []
    out = tls_problems(resources)
    for chart in _airflow_charts(resources):
        out += [(str(chart.get("urn")), m) for m in sso_problems(chart)]
    return out


def _allowed_backends(resources: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(namespace, Service)`` of every Airflow API server the stack installs."""
    out = set()
    for chart in _airflow_charts(resources):
        props = as_dict(chart.get("inputs"))
        release = str(props.get("name") or chart.get("name"))
        out.add((str(props.get("namespace") or "default"), f"{release}{API_SERVER_SUFFIX}"))
    return out


@stack_rule(
    RULES,
    name="entrance-route-api-server-only",
    level=MANDATORY,
    mirrors="Gateway API security model (route attachment)",
    description="""Every HTTPRoute must send traffic only to the Airflow API server Service
    (<release>-api-server, port 8080) in its own namespace, or only redirect: a second
    backend behind the entrance, a cross-namespace reference or a mirror filter is an
    unreviewed way into the cluster.""",
)
def route_api_server_only(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    allowed = _allowed_backends(resources)
    out: list[tuple[str, str]] = []
    for route in _of_kind(resources, "HTTPRoute"):
        name, ns = _name_ns(route)
        urn = str(route.get("urn"))
        for rule in as_list(get(route.get("inputs"), "spec.rules")):
            rule = as_dict(rule)
            for f in as_list(rule.get("filters")):
                ftype = as_dict(f).get("type")
                if ftype not in (
                    "RequestRedirect",
                    "RequestHeaderModifier",
                    "ResponseHeaderModifier",
                ):
                    out.append((urn, f"route {name!r}: filter {ftype!r} is not allowed"))
            for ref in as_list(rule.get("backendRefs")):
                ref = as_dict(ref)
                kind = ref.get("kind", "Service")
                target = (str(ref.get("namespace") or ns), str(ref.get("name")))
                if kind != "Service" or ref.get("group") not in (None, ""):
                    out.append((urn, f"route {name!r}: backend kind {kind!r} is not a Service"))
                elif target not in allowed:
                    out.append(
                        (
                            urn,
                            f"route {name!r}: backend {target[0]}/{target[1]} is not the "
                            "Airflow API server",
                        )
                    )
                elif ref.get("port") != API_SERVER_PORT:
                    out.append(
                        (urn, f"route {name!r}: port {ref.get('port')!r} is not {API_SERVER_PORT}")
                    )
    return out
