"""The generated ``webserver_config.py`` in the installed Airflow + FAB auth manager.

Not string matching: the file is loaded the way the FAB provider's ``create_app`` loads it
(``flask_app.config.from_pyfile``), its provider is registered with authlib exactly as FAB's
security manager does (``OAuth(app).register(name, **remote_app)``), the token request goes
through authlib's real client (HTTP intercepted), and an ID token signed by a test key is
validated and mapped to roles by FAB's own security-manager code (issuer, audience, the
``roles`` claim, ``AUTH_ROLES_MAPPING``). Only the network edges are stubbed: the token
endpoint's reply and Microsoft's key set.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.providers.fab")

import flask
import requests
from authlib.integrations.flask_client import OAuth
from authlib.jose import JsonWebKey, jwt
from flask_appbuilder.const import AUTH_OAUTH

from airflow_aks.components.airflow import signin_config as S

TENANT = "0b5c9d2e-8f41-4a6b-9c3d-2e1f0a9b8c7d"
CLIENT = "6f2e1d0c-3b4a-4c5d-8e9f-a0b1c2d3e4f5"
HOST = "airflow.example.com"
FEDERATED_TOKEN = "eyJ.k8s-projected-serviceaccount-token.sig"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> flask.Flask:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(FEDERATED_TOKEN + "\n")
    monkeypatch.setenv(S.CLIENT_ID_ENV, CLIENT)
    monkeypatch.setenv(S.TENANT_ID_ENV, TENANT)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    path = tmp_path / "webserver_config.py"
    path.write_text(
        S.webserver_config(S.SignInSettings(host=HOST, client_id="@@c@@", tenant_id="@@t@@"))
    )
    flask_app = flask.Flask("signin-test")
    assert flask_app.config.from_pyfile(str(path))  # what airflow.providers.fab.www.app does
    return flask_app


def remote(app: flask.Flask) -> Any:
    (provider,) = app.config["OAUTH_PROVIDERS"]
    return OAuth(app).register(provider["name"], **provider["remote_app"])


def test_config_selects_oauth_with_roles_from_app_roles(app: flask.Flask) -> None:
    c = app.config
    assert c["AUTH_TYPE"] == AUTH_OAUTH
    assert c["AUTH_ROLES_MAPPING"] == {r: [r] for r in ("Admin", "Op", "User", "Viewer")}
    assert c["AUTH_ROLES_SYNC_AT_LOGIN"] is True
    assert c["AUTH_USER_REGISTRATION_ROLE"] == "Public"
    (provider,) = c["OAUTH_PROVIDERS"]
    assert provider["name"] == "azure"
    ra = provider["remote_app"]
    assert ra["client_id"] == CLIENT
    assert ra["access_token_url"] == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert "client_secret" not in ra


def test_missing_or_malformed_ids_fail_at_load(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "webserver_config.py"
    path.write_text(S.webserver_config(S.SignInSettings(HOST, "@@c@@", "@@t@@")))
    monkeypatch.setenv(S.CLIENT_ID_ENV, "not-a-guid")
    monkeypatch.setenv(S.TENANT_ID_ENV, TENANT)
    with pytest.raises(ValueError):
        flask.Flask("bad").config.from_pyfile(str(path))


def test_token_request_uses_the_federated_assertion_not_a_secret(
    app: flask.Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[requests.PreparedRequest] = []

    def fake_send(self: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        sent.append(request)
        resp = requests.Response()
        resp.status_code = 200
        resp.headers["Content-Type"] = "application/json"
        resp._content = json.dumps(
            {"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": "x"}
        ).encode()
        resp.request = request
        return resp

    monkeypatch.setattr(requests.Session, "send", fake_send)
    az = remote(app)
    with app.test_request_context("/auth/oauth-authorized/azure?code=abc&state=s"):
        client = az._get_oauth_client()
        token = client.fetch_token(
            az.access_token_url,
            grant_type="authorization_code",
            code="abc",
            redirect_uri=S.redirect_uri(HOST),
        )
    assert token["access_token"] == "at"
    (req,) = sent
    assert req.url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    form = dict(urllib.parse.parse_qsl(str(req.body)))
    assert form["client_assertion"] == FEDERATED_TOKEN
    assert form["client_assertion_type"] == S.CLIENT_ASSERTION_TYPE
    assert form["client_id"] == CLIENT
    assert form["redirect_uri"] == f"https://{HOST}/auth/oauth-authorized/azure"
    assert "client_secret" not in form and "Authorization" not in req.headers
    assert req.headers["Content-Length"] == str(len(str(req.body)))


def _id_token(key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "aud": CLIENT,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "oid": "11111111-2222-3333-4444-555555555555",
        "upn": "ada@example.com",
        "given_name": "Ada",
        "family_name": "Lovelace",
        **claims,
    }
    return jwt.encode({"alg": "RS256", "kid": "test"}, body, key).decode()


@pytest.fixture
def security_manager(app: flask.Flask) -> Any:
    """FAB's real security-manager class, without its database-backed constructor."""
    from airflow.providers.fab.auth_manager.security_manager.override import (
        FabAirflowSecurityManagerOverride as SM,
    )

    key = JsonWebKey.generate_key("RSA", 2048, {"kid": "test"}, is_private=True)
    sm = SM.__new__(SM)
    sm.oauth_remotes = {"azure": remote(app)}
    sm._azure_tenant_guid_cache = {}
    sm._azure_tenant_metadata_cache = {}
    sm._get_microsoft_jwks = lambda jwks_uri=None: {"keys": [key.as_dict(is_private=False)]}
    sm.find_role = lambda name: f"role:{name}"
    sm.test_key = key
    return sm


@pytest.mark.parametrize(
    ("roles", "fab_roles"),
    [
        (["Op"], {"role:Op"}),
        (["Viewer", "User"], {"role:Viewer", "role:User"}),
        (["Admin"], {"role:Admin"}),
        ([], set()),
        (["Owner"], set()),  # not an app role we define: no FAB role (Public at registration)
    ],
)
def test_id_token_roles_map_to_fab_roles(
    app: flask.Flask, security_manager: Any, roles: list[str], fab_roles: set[str]
) -> None:
    token = _id_token(security_manager.test_key, roles=roles)
    with app.app_context():
        info = security_manager.get_oauth_user_info("azure", {"id_token": token})
        assert info["role_keys"] == roles
        assert info["email"] == "ada@example.com"  # upn when no email claim
        assert info["username"] == "11111111-2222-3333-4444-555555555555"
        assert security_manager.get_roles_from_keys(info["role_keys"]) == fab_roles


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "99999999-0000-0000-0000-000000000000"}, "aud"),
        ({"iss": "https://login.microsoftonline.com/other-tenant/v2.0"}, "iss"),
    ],
)
def test_tokens_for_another_app_or_tenant_are_refused(
    app: flask.Flask, security_manager: Any, claims: dict[str, str], error: str
) -> None:
    token = _id_token(security_manager.test_key, roles=["Admin"], **claims)
    with app.app_context(), pytest.raises(Exception, match=error):
        security_manager.get_oauth_user_info("azure", {"id_token": token})
