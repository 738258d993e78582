"""``airflow-aks:index:EntraSignIn`` — the Entra ID app registration people sign in with.

Children: an ``azuread.Application`` (web platform, one HTTPS redirect URI on the configured
host, the four Airflow app roles, ID-token optional claims), its service principal with
*assignment required* (only people holding an app role, through one of the configured
groups, can sign in at all), one ``AppRoleAssignment`` per (role, group), and a federated
identity credential trusting the API server's Kubernetes ServiceAccount — the app's only
credential, so no client secret exists anywhere (not in Key Vault, state or values).

Decisions are pure functions (role ids, assignments, claims), tested table-driven in
``tests/test_signin.py``; pulumi-azuread 6.11.1 argument names checked against the
installed SDK (2026-12-02).
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_azuread as azuread

from airflow_aks.components.airflow.signin_config import APP_ROLES, ROLE_VALUES, redirect_uri
from airflow_aks.components.tokens import type_token

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
"""Audience of the projected token the workload-identity webhook writes (AKS default)."""

MICROSOFT_GRAPH = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph delegated permission ids (Graph permissions reference; the same ids appear
# in many public app-registration templates, seen 2026-12-02).
GRAPH_SCOPES: dict[str, str] = {
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}

ID_TOKEN_CLAIMS = ("email", "upn", "given_name", "family_name")
"""Optional ID-token claims FAB's azure provider reads (email, else upn; names). The
``roles`` claim needs no optional claim: Entra emits it for assigned app roles."""

_ROLE_NAMESPACE = uuid.UUID("5f0c8b1e-6a0e-4b55-9d0e-8b7c1a2f3e40")


class SignInArgs(TypedDict, total=False):
    """Arguments of :class:`EntraSignIn`."""

    display_name: Required[str]
    """Display name of the app registration (e.g. ``airflow-prod-ui``)."""
    host: Required[str]
    """Host name of the Airflow UI; the redirect URI is ``https://<host>/auth/...``."""
    oidc_issuer_url: Required[pulumi.Input[str]]
    """The cluster's OIDC issuer (the federated credential trusts its tokens)."""
    namespace: Required[str]
    """Namespace of the API server's ServiceAccount."""
    service_account: Required[str]
    """The API server's ServiceAccount (subject of the federated credential)."""
    group_assignments: Mapping[str, Sequence[str]]
    """App role value (``Admin``/``Op``/``User``/``Viewer``) -> existing Entra group object
    ids whose members get that role."""
    owners: Sequence[str]
    """Object ids of the app registration's owners (optional)."""


def app_role_id(value: str) -> str:
    """A stable id per app role value (uuid5): the same stack always registers the same
    ids, so role assignments never depend on a value only Entra knows."""
    if value not in ROLE_VALUES:
        raise ValueError(f"unknown app role {value!r}; expected one of {list(ROLE_VALUES)}")
    return str(uuid.uuid5(_ROLE_NAMESPACE, f"airflow-aks/app-role/{value}"))


def app_roles() -> list[azuread.ApplicationAppRoleArgsDict]:
    """The four Airflow roles as Entra app roles assignable to users and groups."""
    return [
        {
            "allowed_member_types": ["User"],
            "description": description,
            "display_name": f"Airflow {value}",
            "enabled": True,
            "id": app_role_id(value),
            "value": value,
        }
        for value, description in APP_ROLES
    ]


def optional_claims() -> azuread.ApplicationOptionalClaimsArgsDict:
    return {"id_tokens": [{"name": c, "essential": False} for c in ID_TOKEN_CLAIMS]}


def role_assignments(groups: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """``(logical suffix, app role id, group object id)`` per configured assignment, in a
    stable order; unknown roles and malformed ids are errors."""
    out: list[tuple[str, str, str]] = []
    for value in ROLE_VALUES:
        for group in groups.get(value, ()):
            try:
                uuid.UUID(group)
            except ValueError:
                raise ValueError(f"group {group!r} for role {value} is not an object id") from None
            out.append((f"{value.lower()}-{group[:8]}", app_role_id(value), group))
    unknown = sorted(set(groups) - set(ROLE_VALUES))
    if unknown:
        raise ValueError(f"unknown app roles {unknown}; expected {list(ROLE_VALUES)}")
    return out


def federated_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


class EntraSignIn(pulumi.ComponentResource):
    """App registration + service principal + role assignments + federated credential."""

    client_id: pulumi.Output[str]
    """Client (application) id people sign in to."""
    application_object_id: pulumi.Output[str]
    """Object id of the app registration."""
    service_principal_object_id: pulumi.Output[str]
    """Object id of the enterprise application (role assignments hang off it)."""
    redirect_uri: str
    """The registered redirect URI."""

    def __init__(
        self, name: str, args: SignInArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        assignments = role_assignments(args.get("group_assignments", {}))  # validate first
        uri = redirect_uri(args["host"])
        super().__init__(type_token(EntraSignIn), name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        owners = list(args.get("owners", ()))
        app = azuread.Application(
            f"{name}-app",
            display_name=args["display_name"],
            sign_in_audience="AzureADMyOrg",
            web={
                "redirect_uris": [uri],
                "homepage_url": f"https://{args['host']}/",
                "implicit_grant": {
                    "access_token_issuance_enabled": False,
                    "id_token_issuance_enabled": False,
                },
            },
            app_roles=app_roles(),
            optional_claims=optional_claims(),
            required_resource_accesses=[
                {
                    "resource_app_id": MICROSOFT_GRAPH,
                    "resource_accesses": [
                        {"id": GRAPH_SCOPES[s], "type": "Scope"} for s in GRAPH_SCOPES
                    ],
                }
            ],
            owners=owners or None,
            prevent_duplicate_names=True,
            opts=child,
        )
        sp = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=app.client_id,
            app_role_assignment_required=True,
            owners=owners or None,
            opts=child,
        )
        for suffix, role_id, group in assignments:
            azuread.AppRoleAssignment(
                f"{name}-{suffix}",
                app_role_id=role_id,
                principal_object_id=group,
                resource_object_id=sp.object_id,
                opts=child,
            )
        azuread.ApplicationFederatedIdentityCredential(
            f"{name}-api-server",
            application_id=app.id,
            display_name="airflow-api-server",
            description="Airflow API server ServiceAccount (workload identity federation)",
            issuer=args["oidc_issuer_url"],
            subject=federated_subject(args["namespace"], args["service_account"]),
            audiences=[FEDERATED_AUDIENCE],
            opts=child,
        )
        self.client_id = app.client_id
        self.application_object_id = app.object_id
        self.service_principal_object_id = sp.object_id
        self.redirect_uri = uri
        self.register_outputs(
            {
                "client_id": self.client_id,
                "application_object_id": self.application_object_id,
                "service_principal_object_id": self.service_principal_object_id,
                "redirect_uri": self.redirect_uri,
            }
        )
