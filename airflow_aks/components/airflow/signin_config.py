"""Pure builder of Airflow's Entra ID sign-in: the FAB auth manager's ``webserver_config.py``.

Airflow 3 signs people in through its *auth manager*. The default SimpleAuthManager knows
only static users; the FAB auth manager (``apache-airflow-providers-fab``, shipped in the
``apache/airflow`` image: its Dockerfile's default ``AIRFLOW_EXTRAS`` include ``fab``, seen
2026-12-02) speaks OAuth 2.0 / OpenID Connect through Flask-AppBuilder and authlib and has a
built-in ``azure`` provider: it validates the ID token against the tenant's signing keys
(issuer and audience checked) and reads the ``roles`` claim (``AUTH_OAUTH_ROLE_KEYS``
default) as *role keys*, which ``AUTH_ROLES_MAPPING`` maps onto FAB roles.

So the chain is: Entra app role (``Admin``/``Op``/``User``/``Viewer``, assigned to groups) ->
``roles`` claim in the ID token -> :data:`ROLE_MAPPING` -> the FAB role of the same name,
re-evaluated at every login (``AUTH_ROLES_SYNC_AT_LOGIN``). A person with no app role gets
``Public`` (no access).

No client secret: the token request is authenticated with a *federated client assertion*
(RFC 7523 ``client_assertion``), the API server pod's projected ServiceAccount token that
the AKS workload-identity webhook writes to ``AZURE_FEDERATED_TOKEN_FILE``. The app
registration trusts exactly that ServiceAccount through a federated identity credential
(see :mod:`airflow_aks.components.signin`). authlib accepts a callable as
``token_endpoint_auth_method`` (``authlib.oauth2.auth.ClientAuth``), which is how the
generated file plugs the assertion in (checked against authlib 1.9.9 and FAB provider
3.10.2, 2026-12-02).

The chart mounts ``apiServer.apiServerConfig`` as ``webserver_config.py`` and renders it
through Helm's ``tpl``: the generated source never contains ``{{``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
"""``[core] auth_manager`` for the FAB auth manager (provider 3.10.2)."""

APP_ROLES: tuple[tuple[str, str], ...] = (
    ("Admin", "Full control of Airflow, including users, roles and connections."),
    ("Op", "Operates Airflow: DAG runs, connections, pools, variables; no user admin."),
    ("User", "Runs and edits DAGs, sees their logs."),
    ("Viewer", "Reads DAGs, runs and logs."),
)
"""The Entra app roles (value, description) and — by the same names — the FAB roles Airflow
ships (``Admin``, ``Op``, ``User``, ``Viewer``)."""

ROLE_VALUES: tuple[str, ...] = tuple(v for v, _ in APP_ROLES)

PROVIDER = "azure"
"""FAB's provider name: the redirect path is ``/auth/oauth-authorized/azure``."""

REDIRECT_PATH = f"/auth/oauth-authorized/{PROVIDER}"
"""Airflow 3 mounts the auth manager's app at ``/auth`` (``airflow/api_fastapi/app.py``);
FAB's OAuth callback view is ``/oauth-authorized/<provider>``."""

REGISTRATION_ROLE = "Public"
"""What a signed-in person without any app role gets: FAB's ``Public`` role, no access."""

FEDERATED_TOKEN_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"
"""Where the AKS workload-identity webhook projects the token (``AZURE_FEDERATED_TOKEN_FILE``
is read first; this is the webhook's default path)."""

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

SCOPES = ("openid", "profile", "email")

SESSION_MAX_MINUTES = 720
"""A UI session lasts at most 12 h from sign-in, whatever the activity."""

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"^@@[a-z-]+@@$")


CLIENT_ID_ENV = "AIRFLOW_AKS_SIGN_IN_CLIENT_ID"
TENANT_ID_ENV = "AIRFLOW_AKS_SIGN_IN_TENANT_ID"
"""The generated file reads the app's client id and tenant from these env vars (set on the
API server from the app registration's outputs), so the file itself is fully known at plan
time and reviewable in the plan export."""


@dataclass(frozen=True)
class SignInSettings:
    """What the generated configuration depends on (plain data)."""

    host: str
    """Public host name of the UI (the redirect URI's host)."""
    client_id: str
    """The app registration's client id (GUID, or a placeholder the component replaces
    with an Output); becomes the :data:`CLIENT_ID_ENV` env var."""
    tenant_id: str
    """Entra tenant (GUID or placeholder); becomes :data:`TENANT_ID_ENV`."""
    authority_host: str = "login.microsoftonline.com"
    """Microsoft identity platform host (the commercial cloud)."""


def role_mapping() -> dict[str, list[str]]:
    """``AUTH_ROLES_MAPPING``: each Entra app role value -> the FAB role of the same name."""
    return {value: [value] for value in ROLE_VALUES}


def redirect_uri(host: str) -> str:
    """The one redirect URI registered on the app: HTTPS on the configured host."""
    return f"https://{host}{REDIRECT_PATH}"


def _check_id(value: str, what: str) -> str:
    if not (_GUID.match(value) or _PLACEHOLDER.match(value)):
        raise ValueError(f"{what} {value!r} is not a GUID")
    return value


def sign_in_env(s: SignInSettings) -> list[dict[str, str]]:
    """The API server env vars the generated file reads."""
    return [
        {"name": CLIENT_ID_ENV, "value": _check_id(s.client_id, "client id")},
        {"name": TENANT_ID_ENV, "value": _check_id(s.tenant_id, "tenant id")},
    ]


_TEMPLATE = '''\
"""Airflow UI sign-in with Entra ID (FAB auth manager). Generated by airflow-aks: do not edit.

No client secret exists: the token request carries the API server pod's projected
ServiceAccount token as a federated client assertion (workload identity federation).
"""

import os
import uuid
from pathlib import Path

from flask_appbuilder.const import AUTH_OAUTH

AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = __REGISTRATION_ROLE__
AUTH_ROLES_SYNC_AT_LOGIN = True
AUTH_ROLES_MAPPING = __ROLE_MAPPING__
WTF_CSRF_ENABLED = True

CLIENT_ID = str(uuid.UUID(os.environ[__CLIENT_ID_ENV__]))
TENANT_ID = str(uuid.UUID(os.environ[__TENANT_ID_ENV__]))
AUTHORITY = "https://" + __AUTHORITY_HOST__ + "/" + TENANT_ID
FEDERATED_TOKEN_FILE = os.environ.get("AZURE_FEDERATED_TOKEN_FILE", __TOKEN_FILE__)
CLIENT_ASSERTION_TYPE = __ASSERTION_TYPE__


def federated_client_assertion(client, method, uri, headers, body):
    """authlib token-endpoint auth: client_id + the pod's federated token as assertion."""
    from authlib.common.urls import add_params_to_qs

    assertion = Path(FEDERATED_TOKEN_FILE).read_text().strip()
    body = add_params_to_qs(
        body or "",
        [
            ("client_id", client.client_id),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    return uri, headers, body


OAUTH_PROVIDERS = [
    dict(
        name=__PROVIDER__,
        icon="fa-windows",
        token_key="access_token",
        remote_app=dict(
            client_id=CLIENT_ID,
            api_base_url=AUTHORITY + "/oauth2",
            access_token_url=AUTHORITY + "/oauth2/v2.0/token",
            authorize_url=AUTHORITY + "/oauth2/v2.0/authorize",
            request_token_url=None,
            client_kwargs=dict(
                scope=__SCOPE__,
                tenant_id=TENANT_ID,
                token_endpoint_auth_method=federated_client_assertion,
            ),
        ),
    )
]
'''


def webserver_config(s: SignInSettings) -> str:
    """The ``webserver_config.py`` source for the API server (``apiServer.apiServerConfig``);
    string literals are rendered with :func:`json.dumps` (valid Python for plain strings)."""
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", s.host):
        raise ValueError(f"host {s.host!r} is not a DNS name")
    if not re.fullmatch(r"[a-z0-9.-]+", s.authority_host):
        raise ValueError(f"authority host {s.authority_host!r} is not a host name")
    fills = {
        "__REGISTRATION_ROLE__": json.dumps(REGISTRATION_ROLE),
        "__ROLE_MAPPING__": json.dumps(role_mapping()),
        "__CLIENT_ID_ENV__": json.dumps(CLIENT_ID_ENV),
        "__TENANT_ID_ENV__": json.dumps(TENANT_ID_ENV),
        "__AUTHORITY_HOST__": json.dumps(s.authority_host),
        "__TOKEN_FILE__": json.dumps(FEDERATED_TOKEN_FILE),
        "__ASSERTION_TYPE__": json.dumps(CLIENT_ASSERTION_TYPE),
        "__PROVIDER__": json.dumps(PROVIDER),
        "__SCOPE__": json.dumps(" ".join(SCOPES)),
    }
    text = _TEMPLATE
    for placeholder, value in fills.items():
        text = text.replace(placeholder, value)
    if "{{" in text or "}}" in text:  # the chart renders apiServerConfig through tpl
        raise ValueError("generated webserver_config.py must not contain '{{' or '}}'")
    return text


def airflow_auth_config(s: SignInSettings) -> dict[str, dict[str, str]]:
    """``airflow.cfg`` sections for SSO: the FAB auth manager, the public base URL (the
    auth manager builds login/logout and OAuth redirect URLs from ``[api] base_url``),
    secure cookies behind the TLS-terminating gateway, and a fixed session lifetime: roles
    are re-read from Entra only at login, and an open UI tab keeps an idle-based session
    alive forever (FAB provider 3.10.2 ``[fab] session_lifetime_minutes`` docs), so
    ``session_max_lifetime_minutes`` forces a fresh sign-in — and fresh roles — daily."""
    return {
        "core": {"auth_manager": FAB_AUTH_MANAGER},
        "api": {"base_url": f"https://{s.host}/"},
        "fab": {
            "cookie_secure": "True",
            "cookie_samesite": "Lax",
            "session_max_lifetime_minutes": str(SESSION_MAX_MINUTES),
        },
    }
