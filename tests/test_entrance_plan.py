"""The prod plan shows the entrance and the sign-in chain; dev has none; Kuma works too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from airflow_aks.components.airflow import signin_config as S
from airflow_aks.components.signin import app_role_id
from tests.conftest import ROOT, by_type, plan_export

GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
CERT = "kubernetes:cert-manager.io/v1:Certificate"
APP = "azuread:index/application:Application"
ASSIGN = "azuread:index/appRoleAssignment:AppRoleAssignment"
FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"


def one(export: dict[str, Any], typ: str, name: str) -> dict[str, Any]:
    (r,) = [r for r in by_type(export, typ) if r["name"] == name]
    return r


def airflow_values(export: dict[str, Any]) -> dict[str, Any]:
    return one(export, "kubernetes:helm.sh/v4:Chart", "airflow-chart")["inputs"]["values"]


def prod_entrance_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]["airflow-aks:entrance"]


def test_prod_plan_has_gateway_routes_and_certificate(prod_plan: dict[str, Any]) -> None:
    host = prod_entrance_config()["host"]
    gw = one(prod_plan, GATEWAY, "entrance-gateway")["inputs"]
    assert gw["spec"]["gatewayClassName"] == "approuting-istio"
    assert {lst["protocol"] for lst in gw["spec"]["listeners"]} == {"HTTP", "HTTPS"}
    assert gw["spec"]["infrastructure"]["annotations"]["linkerd.io/inject"] == "enabled"
    routes = {r["name"]: r["inputs"] for r in by_type(prod_plan, ROUTE)}
    assert set(routes) == {"entrance-route", "entrance-redirect"}
    assert routes["entrance-route"]["spec"]["rules"][0]["backendRefs"] == [
        {"name": "airflow-api-server", "port": 8080}
    ]
    cert = one(prod_plan, CERT, "entrance-certificate")["inputs"]
    assert cert["spec"]["dnsNames"] == [host]
    assert prod_plan["outputs"]["airflowUrl"] == f"https://{host}/"


def test_prod_plan_has_app_registration_roles_and_group_assignments(
    prod_plan: dict[str, Any],
) -> None:
    cfg = prod_entrance_config()
    host, groups = cfg["host"], cfg["signIn"]["groups"]
    app = one(prod_plan, APP, "signin-app")["inputs"]
    assert [r["value"] for r in app["appRoles"]] == ["Admin", "Op", "User", "Viewer"]
    assert app["web"]["redirectUris"] == [S.redirect_uri(host)]
    assert {c["name"] for c in app["optionalClaims"]["idTokens"]} >= {"email", "upn"}
    assert app["signInAudience"] == "AzureADMyOrg"
    sp = one(prod_plan, "azuread:index/servicePrincipal:ServicePrincipal", "signin-sp")
    assert sp["inputs"]["appRoleAssignmentRequired"] is True
    got = {
        (a["inputs"]["appRoleId"], a["inputs"]["principalObjectId"])
        for a in by_type(prod_plan, ASSIGN)
    }
    want = {(app_role_id(role), g) for role, ids in groups.items() for g in ids}
    assert got == want
    fic = one(prod_plan, FIC, "signin-api-server")["inputs"]
    assert fic["subject"] == "system:serviceaccount:airflow:airflow-api-server"
    assert fic["audiences"] == ["api://AzureADTokenExchange"]


def test_prod_airflow_auth_configuration_points_at_the_app(prod_plan: dict[str, Any]) -> None:
    values = airflow_values(prod_plan)
    assert values["config"]["core"]["auth_manager"] == S.FAB_AUTH_MANAGER
    assert values["createUserJob"]["enabled"] is False
    config = values["apiServer"]["apiServerConfig"]
    assert config == S.webserver_config(
        S.SignInSettings(prod_entrance_config()["host"], "@@c@@", "@@t@@")
    )
    env = {e["name"]: e["value"] for e in values["apiServer"]["env"]}
    assert env[S.CLIENT_ID_ENV] == "[unknown]"  # the app's client id, known after deploy
    chart = one(prod_plan, "kubernetes:helm.sh/v4:Chart", "airflow-chart")
    app_urn = one(prod_plan, APP, "signin-app")["urn"]
    assert app_urn in chart["propertyDependencies"]["values"]
    assert prod_plan["outputs"]["signInClientId"] == "[unknown]"


def test_api_server_admits_the_gateway_in_the_prod_plan(prod_plan: dict[str, Any]) -> None:
    auth = one(
        prod_plan,
        "kubernetes:policy.linkerd.io/v1alpha1:MeshTLSAuthentication",
        "airflow-airflow-api-server-meshtlsauthentication",
    )["inputs"]["spec"]["identityRefs"]
    assert {
        "kind": "ServiceAccount",
        "name": "airflow-approuting-istio",
        "namespace": "airflow",
    } in (auth)
    # Airflow's namespace, plus exactly the task namespaces: the default one and the declared
    # data domains' (execution API)
    domains = set(prod_plan["outputs"].get("domainNamespaces", {}).values())
    assert {ref["namespace"] for ref in auth} == {"airflow", "airflow-tasks"} | domains
    domain_refs = [ref for ref in auth if ref["namespace"] != "airflow"]
    assert all(ref["name"].endswith("-tasks") for ref in domain_refs), domain_refs
    mesh = one(prod_plan, "kubernetes:helm.sh/v4:Chart", "mesh-crds")["inputs"]["values"]
    assert mesh["installGatewayAPI"] is False  # AKS managed Gateway API CRDs instead


def test_no_credential_for_sign_in_exists(prod_plan: dict[str, Any]) -> None:
    """Secretless: no app password, no client secret in any value, nothing sign-in in Key Vault."""
    types = {r["type"] for r in prod_plan["resources"]}
    assert not {t for t in types if t.startswith("azuread:") and ("Password" in t or "Cert" in t)}
    app = one(prod_plan, APP, "signin-app")["inputs"]
    assert "password" not in app
    text = json.dumps(prod_plan)
    assert "client_secret" not in text.replace("no client secret", "")
    kv_names = {
        r["inputs"].get("secretName") for r in by_type(prod_plan, "azure-native:keyvault:Secret")
    }
    assert not {n for n in kv_names if n and "sign" in n}


def test_dev_plan_has_no_entrance(dev_plan: dict[str, Any]) -> None:
    assert not by_type(dev_plan, GATEWAY)
    assert not [r for r in dev_plan["resources"] if r["type"] == "airflow-aks:index:EntraSignIn"]
    values = airflow_values(dev_plan)
    assert "auth_manager" not in values["config"]["core"]
    assert values["createUserJob"]["enabled"] is True


def test_kuma_entrance_uses_the_mesh_cert_manager_and_delegates_the_gateway(
    tmp_path: Path,
) -> None:
    """Kuma's component installs cert-manager (its webhook certificate), so the entrance
    installs no second one (two charts would both own the ``cert-manager`` namespace and
    its objects); the entrance waits for the mesh, cert-manager before it."""
    stack = yaml.safe_load((ROOT / "examples/Pulumi.dev-kuma.yaml").read_text())
    stack["config"]["airflow-aks:entrance"] = {
        "host": "airflow.dev.example.com",
        "internal": True,
        "issuer": {"name": "internal-ca", "kind": "ClusterIssuer"},
    }
    path = tmp_path / "Pulumi.dev-kuma-entrance.yaml"
    path.write_text(yaml.safe_dump(stack))
    export = plan_export("dev", str(path))
    gw = one(export, GATEWAY, "entrance-gateway")["inputs"]["spec"]["infrastructure"]
    assert gw["annotations"] == {
        "kuma.io/gateway": "enabled",
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    }
    assert gw["labels"]["kuma.io/sidecar-injection"] == "enabled"
    charts = {r["name"]: r for r in by_type(export, "kubernetes:helm.sh/v4:Chart")}
    assert [n for n in charts if "cert-manager" in n] == ["mesh-cert-manager"]
    (entrance,) = by_type(export, "airflow-aks:index:Entrance")
    assert charts["mesh-control-plane"]["urn"] in entrance["dependencies"]
    one(export, CERT, "entrance-certificate")
    perms = [
        r["inputs"]["spec"]
        for r in export["resources"]
        if r["type"].endswith(":MeshTrafficPermission") and "api-server" in r["name"]
    ]
    assert any(
        f["targetRef"]["tags"].get("gateway.networking.k8s.io/gateway-name") == "airflow"
        for p in perms
        for f in p["from"]
    )
