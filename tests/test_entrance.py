"""The entrance: pure Gateway / HTTPRoute / Certificate builders, config defaults, and the
mesh side (gateway pods meshed, admitted to the API server, nobody from elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.components import entrance as E
from airflow_aks.components.airflow.mesh_paths import allow_rules
from airflow_aks.components.airflow.values import ServiceAccountNames
from airflow_aks.components.mesh import kuma, linkerd
from airflow_aks.components.mesh.base import Client
from airflow_aks.config.base import ConfigError
from airflow_aks.config.stack import load
from tests.test_config import base

HOST = "airflow.example.com"
ISSUER: E.IssuerRef = {"name": "letsencrypt-dns01", "kind": "ClusterIssuer"}


def listeners(gw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lst["name"]: lst for lst in gw["spec"]["listeners"]}


def test_gateway_https_listener_terminates_tls_with_the_certificate_secret() -> None:
    gw = E.gateway_manifest("airflow", HOST)
    https = listeners(gw)["https"]
    assert gw["spec"]["gatewayClassName"] == "approuting-istio"
    assert (https["protocol"], https["port"], https["hostname"]) == ("HTTPS", 443, HOST)
    assert https["tls"]["mode"] == "Terminate"
    assert https["tls"]["certificateRefs"] == [
        {"group": "", "kind": "Secret", "name": "airflow-gateway-tls"}
    ]
    cert = E.certificate_manifest("airflow", HOST, ISSUER)
    assert cert["spec"]["secretName"] == https["tls"]["certificateRefs"][0]["name"]
    assert cert["spec"]["dnsNames"] == [HOST]
    assert cert["spec"]["issuerRef"] == {"group": "cert-manager.io", **ISSUER}
    assert {lst["allowedRoutes"]["namespaces"]["from"] for lst in listeners(gw).values()} == {
        "Same"
    }


def test_only_tls12_plus_cipher_suites() -> None:
    """Every listed suite is an ECDHE AEAD suite, which TLS 1.0/1.1 cannot negotiate."""
    suites = listeners(E.gateway_manifest("airflow", HOST))["https"]["tls"]["options"][
        E.CIPHER_OPTION
    ].split(",")
    assert suites and all(s.startswith("ECDHE-") for s in suites)
    assert all(("GCM" in s) or ("CHACHA20-POLY1305" in s) for s in suites)
    assert not any(w in s for s in suites for w in ("CBC", "SHA1", "RC4", "3DES"))


def test_http_only_redirects_and_https_only_reaches_the_api_server() -> None:
    redirect = E.redirect_route_manifest("airflow", HOST)
    (rule,) = redirect["spec"]["rules"]
    assert "backendRefs" not in rule
    assert rule["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]
    assert redirect["spec"]["parentRefs"] == [{"name": "airflow", "sectionName": "http"}]
    route = E.https_route_manifest("airflow", HOST, release="af")
    assert route["spec"]["parentRefs"] == [{"name": "airflow", "sectionName": "https"}]
    assert [r["backendRefs"] for r in route["spec"]["rules"]] == [
        [{"name": "af-api-server", "port": 8080}]
    ]


@pytest.mark.parametrize(
    ("mesh", "internal", "expected"),
    [
        ({}, False, {}),
        ({}, True, {"annotations": {E.INTERNAL_LB_ANNOTATION: "true"}}),
        (
            {"annotations": {"linkerd.io/inject": "enabled"}},
            True,
            {"annotations": {"linkerd.io/inject": "enabled", E.INTERNAL_LB_ANNOTATION: "true"}},
        ),
        (
            {"labels": {"kuma.io/sidecar-injection": "enabled"}},
            False,
            {"labels": {"kuma.io/sidecar-injection": "enabled"}},
        ),
    ],
)
def test_infrastructure_carries_mesh_and_internal_lb(
    mesh: E.GatewayPodSettings, internal: bool, expected: dict[str, Any]
) -> None:
    assert E.infrastructure(mesh, internal) == expected
    gw = E.gateway_manifest("airflow", HOST, mesh=mesh, internal=internal)
    assert gw["spec"].get("infrastructure", {}) == expected


@pytest.mark.parametrize(
    "host", ["Airflow.example.com", "airflow", "-a.example.com", "a_b.example.com", ""]
)
def test_bad_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="DNS name"):
        E.gateway_manifest("airflow", host)


def test_issuer_kind_checked() -> None:
    with pytest.raises(ValueError, match="Issuer or ClusterIssuer"):
        E.certificate_manifest("airflow", HOST, {"name": "x", "kind": "Vault"})  # type: ignore[typeddict-item]


def test_gateway_identity_follows_istio_naming() -> None:
    assert E.gateway_service_account("airflow") == "airflow-approuting-istio"
    assert E.gateway_client("airflow", "airflow") == Client(
        "airflow", "airflow-approuting-istio", {E.GATEWAY_NAME_LABEL: "airflow"}
    )


# ------------------------------------------------------------------------------- mesh


@pytest.mark.parametrize(
    ("module", "labels", "annotations"),
    [
        (
            linkerd,
            {},
            {
                "linkerd.io/inject": "enabled",
                "config.linkerd.io/default-inbound-policy": "all-unauthenticated",
            },
        ),
        (
            kuma,
            {"kuma.io/sidecar-injection": "enabled", "kuma.io/mesh": "default"},
            {"kuma.io/gateway": "enabled"},
        ),
    ],
)
def test_gateway_pods_are_meshed_as_the_boundary(
    module: Any, labels: dict[str, str], annotations: dict[str, str]
) -> None:
    assert module.pod_labels("gateway") == labels
    assert module.pod_annotations("gateway") == annotations
    # only the gateway accepts unauthenticated inbound traffic; services keep default deny
    assert "config.linkerd.io/default-inbound-policy" not in module.pod_annotations("service")
    assert "kuma.io/gateway" not in module.pod_annotations("service")


def test_api_server_admits_the_gateway_and_only_airflow_namespace_clients() -> None:
    sas = ServiceAccountNames()
    gw = E.gateway_client("airflow", "airflow")
    rules = {r.name: r for r in allow_rules("airflow", "airflow", sas, gw)}
    api = rules["airflow-api-server"]
    assert gw in api.clients
    assert {c.namespace for r in rules.values() for c in r.clients} == {"airflow"}
    without = {r.name: r for r in allow_rules("airflow", "airflow", sas)}
    assert gw not in without["airflow-api-server"].clients
    # the gateway is the only client added by the entrance
    assert [c for c in api.clients if c not in without["airflow-api-server"].clients] == [gw]


def test_gateway_outside_the_airflow_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="Airflow namespace"):
        allow_rules("airflow", "airflow", ServiceAccountNames(), E.gateway_client("edge", "gw"))


@pytest.mark.parametrize("module", [linkerd, kuma])
def test_allow_manifests_name_the_gateway_identity(module: Any) -> None:
    gw = E.gateway_client("airflow", "airflow")
    rule = next(
        r
        for r in allow_rules("airflow", "airflow", ServiceAccountNames(), gw)
        if r.name == "airflow-api-server"
    )
    text = repr(module.allow_manifests(rule))
    key = "airflow-approuting-istio" if module is linkerd else E.GATEWAY_NAME_LABEL
    assert key in text


# ----------------------------------------------------------------------------- config

ENTRANCE = {"host": HOST, "issuer": {"name": "letsencrypt-dns01"}}
GROUP = "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"


@pytest.mark.parametrize(
    ("stack", "entrance", "on"),
    [
        ("dev", None, False),
        ("dev", {"host": HOST, "issuer": {"name": "x"}}, True),
        ("dev", {"enabled": False, "host": HOST}, False),
        ("prod", {**ENTRANCE, "signIn": {"groups": {"Admin": [GROUP]}}}, True),
        ("prod", {**ENTRANCE, "enabled": False}, False),
    ],
)
def test_entrance_default_off_in_dev_unless_host_on_in_prod(
    stack: str, entrance: dict[str, Any] | None, on: bool
) -> None:
    raw = base()
    if entrance is not None:
        raw["airflow-aks:entrance"] = entrance
    assert load(raw, stack).entrance_on is on


@pytest.mark.parametrize(
    ("stack", "entrance", "path"),
    [
        ("prod", {}, "entrance.host"),
        ("prod", {"host": HOST}, "entrance.issuer"),
        ("prod", {**ENTRANCE, "signIn": {"groups": {}}}, "entrance.signIn.groups"),
        ("prod", {**ENTRANCE, "signIn": {"groups": {"Admin": []}}}, "entrance.signIn.groups"),
        ("dev", {"enabled": True}, "needs host"),
        ("dev", {"host": "Not A Host"}, "airflow-aks:entrance.host"),
        ("dev", {**ENTRANCE, "signIn": {"groups": {"Owner": []}}}, "unknown roles ['Owner']"),
        ("dev", {**ENTRANCE, "signIn": {"groups": {"Admin": ["nope"]}}}, "not an Entra object"),
        ("dev", {**ENTRANCE, "issuer": {"name": "x", "kind": "Vault"}}, "entrance.issuer.kind"),
        ("dev", {**ENTRANCE, "hots": "x"}, "did you mean 'host'"),
    ],
)
def test_entrance_config_errors_name_the_key(
    stack: str, entrance: dict[str, Any], path: str
) -> None:
    raw = {**base(), "airflow-aks:entrance": entrance}
    with pytest.raises(ConfigError) as err:
        load(raw, stack)
    assert any(path in str(i) for i in err.value.issues), err.value.issues


def test_linkerd_must_not_install_gateway_api_crds_with_the_entrance() -> None:
    raw = {
        **base(),
        "airflow-aks:entrance": ENTRANCE,
        "airflow-aks:mesh": {"installGatewayApi": True},
    }
    with pytest.raises(ConfigError, match=r"mesh\.installGatewayApi"):
        load(raw, "dev")
    raw["airflow-aks:mesh"] = {"provider": "kuma", "installGatewayApi": True}
    assert load(raw, "dev").entrance_on  # Kuma installs no Gateway API CRDs: no conflict


def test_new_components_are_analysable_for_other_languages() -> None:
    """Pulumi's component analyzer reads the arg TypedDicts at run time (real annotations)."""
    from pulumi.provider.experimental.analyzer import Analyzer

    from airflow_aks.components.signin import EntraSignIn

    Analyzer("airflow-aks").analyze([E.Entrance, EntraSignIn])
