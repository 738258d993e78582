"""Workload identity: a user-assigned identity trusted by Kubernetes ServiceAccounts.

The ServiceAccounts and the federated credentials are built from the same
``(namespace, name)`` pairs, so a subject can never be typed twice and drift. Role
assignments go through :func:`role_assignment`, which refuses broad roles and
subscription-wide scopes before anything is registered.
"""

import re
import uuid
from collections.abc import Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, managedidentity

from airflow_aks.components.tokens import type_token

from .naming import CLIENT_ID_ANNOTATION, FEDERATED_AUDIENCE, federated_subject

# Built-in role definition GUIDs (stable across clouds) for the roles this project grants.
# Checked 2026-12-02 against Azure's built-in role lists (learn.microsoft.com "Azure built-in
# roles"; Azure/ResourceModules role maps): Contributor and User Access Administrator were
# wrong here before, so refusing them by GUID silently did nothing.
BUILTIN_ROLES: dict[str, str] = {
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    # Azure built-in roles page, Containers table (read 2026-12-02).
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
}
# Roles that can rewrite access or everything: never granted by this project.
FORBIDDEN_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
}

_SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)
_RESOURCE_GROUP_SCOPE = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/?$", re.IGNORECASE)
_SCOPE_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)


def role_guid(role: str) -> str:
    """GUID of a built-in role given by name or GUID; broad roles are refused."""
    if role in FORBIDDEN_ROLES or role.lower() in FORBIDDEN_ROLES.values():
        raise ValueError(f"role {role!r} is too broad: grant a data-plane role instead")
    if role in BUILTIN_ROLES:
        return BUILTIN_ROLES[role]
    try:
        return str(uuid.UUID(role))
    except ValueError:
        known = ", ".join(sorted(BUILTIN_ROLES))
        raise ValueError(f"unknown role {role!r}; use a role GUID or one of: {known}") from None


def check_scope(scope: str) -> str:
    """Least privilege: a scope must sit below a resource group, on a resource."""
    if scope in ("", "/") or _SUBSCRIPTION_SCOPE.match(scope):
        raise ValueError(f"scope {scope!r} is subscription-wide: scope to a resource instead")
    if _RESOURCE_GROUP_SCOPE.match(scope):
        raise ValueError(f"scope {scope!r} is a whole resource group: scope to a resource instead")
    if scope.startswith("/providers/Microsoft.Management/managementGroups"):
        raise ValueError(f"scope {scope!r} is a management group: scope to a resource instead")
    return scope


def role_definition_id(scope: str, role: str) -> str:
    """Subscription-qualified role definition id, taking the subscription from the scope."""
    m = _SCOPE_SUBSCRIPTION.match(scope)
    if not m:
        raise ValueError(
            f"scope {scope!r} is not an ARM resource id (/subscriptions/<id>/resourceGroups/"
            "<rg>/providers/...); unit-test mocks must answer ARM ids for Azure resources "
            "(airflow_aks.offline.testing.run_program does)"
        )
    sub = m.group(1)
    return (
        f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid(role)}"
    )


def assignment_name(*parts: str) -> str:
    """Deterministic GUID for a role assignment, so re-runs never duplicate grants."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "airflow-aks/" + "/".join(parts)))


def role_assignment(
    name: str,
    *,
    principal_id: pulumi.Input[str],
    role: str,
    scope: pulumi.Input[str],
    principal_type: str = "ServicePrincipal",
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.RoleAssignment:
    """Grant ``role`` on ``scope`` to a service principal, least privilege enforced.

    The role is checked now (nothing registers on a bad role); the scope is checked when
    known, and a subscription or resource-group scope fails the deployment.
    """
    role_guid(role)
    scope_out = pulumi.Output.from_input(scope).apply(check_scope)
    return authorization.RoleAssignment(
        name,
        role_assignment_name=assignment_name(pulumi.get_project(), pulumi.get_stack(), name),
        principal_id=principal_id,
        # Stating the type avoids the replication-delay failure of fresh principals.
        principal_type=principal_type,
        role_definition_id=scope_out.apply(lambda s: role_definition_id(s, role)),
        scope=scope_out,
        description=f"airflow-aks: {role} for {name}",
        opts=opts,
    )


class WorkloadIdentityArgs(TypedDict, total=False):
    """Arguments of :class:`WorkloadIdentity`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group that holds the user-assigned identity."""
    location: Required[pulumi.Input[str]]
    """Azure region of the identity."""
    identity_name: Required[str]
    """Azure name of the user-assigned identity."""
    oidc_issuer_url: Required[pulumi.Input[str]]
    """The AKS cluster's OIDC issuer URL (``oidcIssuerProfile.issuerURL``)."""
    namespace: Required[str]
    """Kubernetes namespace of the ServiceAccounts."""
    service_accounts: Required[Sequence[str]]
    """ServiceAccount names trusted by this identity; one federated credential each."""
    create_service_accounts: bool
    """Create the ServiceAccounts here (default True). False when another owner creates
    them with the ``client_id`` annotation, e.g. a chart."""
    labels: dict[str, str]
    """Extra labels for the ServiceAccounts."""
    automount_token_for: Sequence[str]
    """ServiceAccounts whose pods need the Kubernetes API (e.g. the scheduler launching
    task pods). All others get ``automountServiceAccountToken: false``; the Azure token is
    projected by the workload-identity webhook either way."""
    tags: dict[str, str]
    """Azure tags for the identity."""


class WorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned identity, its ServiceAccounts and one federated credential per SA."""

    client_id: pulumi.Output[str]
    """Client (application) id of the identity: the ServiceAccount annotation value."""
    principal_id: pulumi.Output[str]
    """Object id of the identity's service principal, for role assignments."""
    identity_id: pulumi.Output[str]
    """ARM id of the user-assigned identity."""
    subjects: list[str]
    """Federated subjects, ``system:serviceaccount:<ns>:<sa>``."""
    service_account_names: list[str]
    """Names of the ServiceAccounts created here (empty when ``create_service_accounts``
    is False)."""
    _service_accounts: list[k8s.core.v1.ServiceAccount]

    @property
    def service_accounts(self) -> list[k8s.core.v1.ServiceAccount]:
        """The ServiceAccount resources created here (Python only)."""
        return self._service_accounts

    def __init__(
        self,
        name: str,
        args: WorkloadIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        wait_for: Sequence[pulumi.Resource] = (),
    ) -> None:
        """``wait_for``: resources the ServiceAccounts are created after, e.g. the Namespace
        (Python callers; from other languages give the component ``dependsOn``)."""
        super().__init__(type_token(WorkloadIdentity), name, {}, opts)
        namespace = args["namespace"]
        sa_names = list(args["service_accounts"])
        if not sa_names:
            raise ValueError(f"{name}: service_accounts must name at least one ServiceAccount")
        if len(set(sa_names)) != len(sa_names):
            raise ValueError(f"{name}: service_accounts has duplicates: {sa_names}")
        # Validate every subject before registering anything.
        self.subjects = [federated_subject(namespace, sa) for sa in sa_names]

        identity = managedidentity.UserAssignedIdentity(
            name,
            resource_name_=args["identity_name"],
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            tags=args.get("tags"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.identity_id = identity.id

        # Azure rejects parallel credential writes on one identity (azure-native #4343),
        # so each credential waits for the previous one.
        previous: pulumi.Resource | None = None
        for sa, subject in zip(sa_names, self.subjects, strict=True):
            cred = managedidentity.FederatedIdentityCredential(
                f"{name}-{sa}",
                federated_identity_credential_resource_name=f"{namespace}-{sa}"[:120],
                resource_name_=identity.name,
                resource_group_name=args["resource_group_name"],
                issuer=args["oidc_issuer_url"],
                subject=subject,
                audiences=[FEDERATED_AUDIENCE],
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[identity, *([previous] if previous else [])]
                ),
            )
            previous = cred

        self._service_accounts = []
        if args.get("create_service_accounts", True):
            automount = set(args.get("automount_token_for", ()))
            ns_dep = list(wait_for)
            for sa in sa_names:
                self._service_accounts.append(
                    k8s.core.v1.ServiceAccount(
                        f"{name}-{sa}",
                        metadata=k8s.meta.v1.ObjectMetaArgs(
                            name=sa,
                            namespace=namespace,
                            labels={
                                "app.kubernetes.io/managed-by": "pulumi",
                                **args.get("labels", {}),
                            },
                            annotations={CLIENT_ID_ANNOTATION: identity.client_id},
                        ),
                        automount_service_account_token=sa in automount,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=ns_dep),
                    )
                )

        self.service_account_names = list(sa_names) if self._service_accounts else []
        self.register_outputs(
            {
                "client_id": self.client_id,
                "principal_id": self.principal_id,
                "identity_id": self.identity_id,
                "subjects": self.subjects,
            }
        )
