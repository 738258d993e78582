"""Azure identity rules: role assignments and workload-identity federated credentials."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._core import (
    ADVISORY,
    FEDERATED_CREDENTIAL,
    MANDATORY,
    ROLE_ASSIGNMENT,
    UNKNOWN,
    Context,
    Rule,
    as_list,
    is_unknown,
    resource_rule,
    show,
)

RULES: list[Rule] = []

# Built-in role GUIDs, checked 2026-12-02 against Azure's built-in role lists (learn.microsoft.com
# "Azure built-in roles"; Azure/ResourceModules role maps).
PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
# AKS OIDC issuers: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/ (sovereign
# clouds use other hosts under the same pattern).
AKS_ISSUER = re.compile(r"^https://[a-z0-9-]+\.oic\.prod-aks\.azure\.(com|us|cn)/", re.IGNORECASE)
SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
)


@resource_rule(
    RULES,
    name="identity-no-privileged-role",
    level=MANDATORY,
    mirrors="MCSB PA-7 (least privilege); Azure Policy: limit Owner assignments",
    types=(ROLE_ASSIGNMENT,),
    description="""No Owner, Contributor, User Access Administrator or Role Based Access
    Control Administrator assignment: these roles can rewrite access or every resource,
    so a compromised pod identity would own the environment. Grant data-plane roles (Key
    Vault Secrets User, Storage Blob Data Contributor) instead.""",
)
def no_privileged_role(props: Mapping[str, Any], ctx: Context) -> list[str]:
    role = str(props.get("roleDefinitionId", "")).lower().rstrip("/")
    guid = role.rsplit("/", 1)[-1]
    if guid in PRIVILEGED_ROLES:
        return [f"role assignment grants {PRIVILEGED_ROLES[guid]} ({guid})"]
    return []


@resource_rule(
    RULES,
    name="identity-no-subscription-scope",
    level=MANDATORY,
    mirrors="MCSB PA-7; Azure Policy: audit subscription-scope role assignments",
    types=(ROLE_ASSIGNMENT,),
    description="""No role assignment at subscription scope (or above): scope every grant to
    the one resource that needs it, so a leaked identity reaches one vault or one account,
    not the subscription.""",
)
def no_subscription_scope(props: Mapping[str, Any], ctx: Context) -> list[str]:
    scope = props.get("scope")
    if scope is None or scope == "":
        return ["role assignment has no scope"]
    if is_unknown(scope):
        return []  # a computed resource id, never a bare subscription literal
    s = str(scope)
    if s == "/" or SUBSCRIPTION_SCOPE.match(s) or "/managementgroups/" in s.lower():
        return [f"role assignment at subscription or management-group scope: {s}"]
    return []


@resource_rule(
    RULES,
    name="identity-principal-type-set",
    level=ADVISORY,
    mirrors="azure-native guidance (PrincipalNotFound on new identities)",
    types=(ROLE_ASSIGNMENT,),
    description="""Role assignments should set principalType (ServicePrincipal for managed
    identities): without it ARM looks the principal up in Entra ID and fails with
    PrincipalNotFound while a freshly created identity is still replicating.""",
)
def principal_type_set(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not props.get("principalType"):
        return ["principalType is not set"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-audience",
    level=MANDATORY,
    mirrors="Microsoft Entra workload identity federation requirements",
    types=(FEDERATED_CREDENTIAL,),
    description="""Federated credentials must accept exactly the api://AzureADTokenExchange
    audience: any other audience lets tokens minted for another service be exchanged for
    Azure tokens.""",
)
def federated_audience(props: Mapping[str, Any], ctx: Context) -> list[str]:
    audiences = props.get("audiences")
    if as_list(audiences) != [FEDERATED_AUDIENCE]:
        return [f"audiences must be ['{FEDERATED_AUDIENCE}'] (is {show(audiences)})"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-issuer-aks",
    level=MANDATORY,
    mirrors="AKS workload identity (issuer = oidcIssuerProfile.issuerURL)",
    types=(FEDERATED_CREDENTIAL,),
    description=f"""Federated credentials must trust the AKS cluster's OIDC issuer: taken from
    the cluster output (shown as {UNKNOWN} in a plan) or an AKS issuer URL. An empty or
    foreign issuer (e.g. a CI provider) lets other token issuers act as the identity.""",
)
def federated_issuer_aks(props: Mapping[str, Any], ctx: Context) -> list[str]:
    issuer = props.get("issuer")
    if is_unknown(issuer):
        return []
    if not isinstance(issuer, str) or not issuer:
        return ["issuer is missing: it must be the cluster's oidcIssuerProfile.issuerURL"]
    if not AKS_ISSUER.match(issuer):
        return [f"issuer {issuer!r} is not an AKS OIDC issuer"]
    return []


@resource_rule(
    RULES,
    name="identity-federated-subject-serviceaccount",
    level=MANDATORY,
    mirrors="AKS workload identity (subject = system:serviceaccount:<ns>:<sa>)",
    types=(FEDERATED_CREDENTIAL,),
    description="""The subject must name exactly one Kubernetes ServiceAccount
    (system:serviceaccount:<namespace>:<name>, no wildcards), so one identity is trusted by
    one ServiceAccount and nothing else.""",
)
def federated_subject_serviceaccount(props: Mapping[str, Any], ctx: Context) -> list[str]:
    subject = props.get("subject")
    if is_unknown(subject):
        return []
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        return [f"subject {show(subject)} is not system:serviceaccount:<namespace>:<name>"]
    return []
