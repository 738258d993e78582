"""The identities a delivery pipeline deploys with: one environment, no stored secret.

Created once per environment by an administrator (the bootstrap project in ``delivery/``),
never by the stack they deploy: a stack that managed its own deployer could lock CI out
with one bad change, and its first ``pulumi up`` would need the identity it creates.

Per environment: the resource group the platform stack lives in, and two Entra
applications federated with GitHub Actions OIDC:

- **deploy** (``repo:ORG/REPO:environment:<env>``): the grants ``pulumi up`` needs, each at
  the resource group only; role assignments only for the roles the stack itself assigns
  (an ABAC condition), so the identity cannot grant itself or anyone else more;
- **preview** (``repo:ORG/REPO:environment:<env>-preview``): read-only, for pull requests.

The grants are computed from the platform stack's offline plan by
``airflow_aks.delivery.pipeline.derive_grants``; this component only creates them.
"""

import re
from collections.abc import Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, resources

from airflow_aks.components.tokens import type_token

from .naming import FEDERATED_AUDIENCE

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def github_subject(
    repository: str,
    *,
    environment: str | None = None,
    branch: str | None = None,
    pull_request: bool = False,
    owner_id: int | None = None,
    repository_id: int | None = None,
) -> str:
    """The ``sub`` claim GitHub Actions presents, for exactly one trigger.

    With ``owner_id`` and ``repository_id``: GitHub's immutable form,
    ``repo:<owner>@<owner_id>/<repo>@<repo_id>:...`` (entra-docs
    workload-identities-github-immutable-subjects.md, read 2026-12-07: the default for
    repositories created, renamed or transferred since 2026-07-15, opt-in before). Without
    them, the name form ``repo:<owner>/<repo>:...``, which a renamed or recreated repository
    of the same name would also present.

    An environment is the tightest (it can require reviewers); a branch is next; pull
    requests are opt-in because forks can open them.
    """
    if not _REPO.match(repository):
        raise ValueError(f"githubRepository {repository!r} must look like 'org/repo'")
    chosen = [x for x in (environment, branch) if x] + (["pr"] if pull_request else [])
    if len(chosen) != 1:
        raise ValueError("choose exactly one of environment, branch or pull_request")
    if (owner_id is None) != (repository_id is None):
        raise ValueError("give both owner_id and repository_id (immutable subject) or neither")
    repo = repository
    if owner_id is not None:
        owner, name = repository.split("/")
        repo = f"{owner}@{owner_id}/{name}@{repository_id}"
    if environment:
        return f"repo:{repo}:environment:{environment}"
    if branch:
        return f"repo:{repo}:ref:refs/heads/{branch}"
    return f"repo:{repo}:pull_request"


class GrantArgs(TypedDict, total=False):
    """One role held at the environment's resource group or its subscription."""

    role: Required[str]
    """Role display name (for descriptions; a custom role's key in ``custom_roles``)."""
    role_guid: str
    """Built-in role definition GUID; empty for a custom role of ``custom_roles``."""
    condition: str
    """ABAC condition (version 2.0) that limits the grant."""
    scope: str
    """``resourceGroup`` (default) or ``subscription``."""


class CustomRoleArgs(TypedDict, total=False):
    """A custom role the bootstrap defines, assignable only where it is granted."""

    name: Required[str]
    """Role name (the stack name is appended: role names are unique per tenant)."""
    actions: Sequence[str]
    """Control-plane actions."""
    data_actions: Sequence[str]
    """Data-plane actions (e.g. Kubernetes reads through the API server)."""
    not_data_actions: Sequence[str]
    """Data actions subtracted (e.g. Kubernetes Secrets)."""
    scope: str
    """``resourceGroup`` (default) or ``subscription``."""


class PipelineIdentityArgs(TypedDict, total=False):
    """Arguments of :class:`PipelineIdentity`."""

    stack: Required[str]
    """Platform stack these identities deploy (``dev``, ``prod``)."""
    name_prefix: Required[str]
    """Prefix of Entra display names, e.g. ``airflow-aks-prod``."""
    resource_group_name: Required[str]
    """Resource group the platform stack uses (``resourceGroup.existing: true``)."""
    location: Required[str]
    """Azure region of the resource group."""
    deploy_subjects: Required[Sequence[str]]
    """OIDC subjects the ``pulumi up`` job may present (one federated credential each)."""
    preview_subjects: Required[Sequence[str]]
    """OIDC subjects the ``pulumi preview`` job may present."""
    deploy_grants: Required[Sequence[GrantArgs]]
    """What ``pulumi up`` needs, at the resource group."""
    preview_grants: Required[Sequence[GrantArgs]]
    """What ``pulumi preview`` needs, at the resource group."""
    custom_roles: Sequence[CustomRoleArgs]
    """Custom roles the grants without ``role_guid`` name."""
    graph_app_roles: Sequence[str]
    """Microsoft Graph application permission ids for the deploy identity."""
    preview_graph_app_roles: Sequence[str]
    """Microsoft Graph application permission ids for the preview identity (reads)."""
    tags: pulumi.Input[dict[str, str]]
    """Azure tags of the resource group."""


def _scope(rg: resources.ResourceGroup, scope: str) -> pulumi.Output[str]:
    if scope == "resourceGroup":
        return rg.id
    if scope == "subscription":
        return rg.id.apply(lambda i: i.split("/resourceGroups/")[0])
    raise ValueError(f"scope {scope!r}: one of resourceGroup, subscription")


class PipelineIdentity(pulumi.ComponentResource):
    """Resource group + deploy and preview identities of one pipeline environment."""

    resource_group_name: pulumi.Output[str]
    """Name of the environment's resource group."""
    deploy_client_id: pulumi.Output[str]
    """``AZURE_CLIENT_ID`` of the deploy environment (a GitHub environment variable)."""
    preview_client_id: pulumi.Output[str]
    """``AZURE_CLIENT_ID`` of the preview environment."""

    def __init__(
        self,
        name: str,
        args: PipelineIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token(PipelineIdentity), name, {}, opts)
        for key in ("deploy_subjects", "preview_subjects"):
            subs = list(args.get(key, ()))
            if not subs or not all(str(x).startswith("repo:") for x in subs):
                raise ValueError(f"PipelineIdentity {name}: {key} must be GitHub subjects")
        if set(args["deploy_subjects"]) & set(args["preview_subjects"]):
            raise ValueError(f"PipelineIdentity {name}: preview and deploy share a subject")
        self._child = pulumi.ResourceOptions(parent=self)
        rg = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            tags=args.get("tags", {}),
            # The environment's data lives here: deleting the bootstrap must not delete it.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        custom = self._custom_roles(name, args, rg)
        deploy = self._identity(f"{name}-deploy", args, "deploy", args["deploy_grants"], rg, custom)
        preview = self._identity(
            f"{name}-preview", args, "preview", args["preview_grants"], rg, custom
        )
        self._graph_permissions(f"{name}-deploy", deploy, args.get("graph_app_roles", ()))
        self._graph_permissions(f"{name}-preview", preview, args.get("preview_graph_app_roles", ()))
        self.resource_group_name = rg.name
        self.deploy_client_id = deploy.client_id
        self.preview_client_id = preview.client_id
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "deploy_client_id": self.deploy_client_id,
                "preview_client_id": self.preview_client_id,
            }
        )

    def _custom_roles(
        self, name: str, args: PipelineIdentityArgs, rg: resources.ResourceGroup
    ) -> dict[str, authorization.RoleDefinition]:
        wanted = {
            g["role"]
            for g in (*args["deploy_grants"], *args["preview_grants"])
            if not g.get("role_guid")
        }
        defined = {c["name"]: c for c in args.get("custom_roles", ())}
        if missing := sorted(wanted - set(defined)):
            raise ValueError(f"PipelineIdentity {name}: no custom role definition for {missing}")
        out: dict[str, authorization.RoleDefinition] = {}
        for role in sorted(wanted):
            c = defined[role]
            scope = _scope(rg, c.get("scope", "resourceGroup"))
            slug = "".join(ch for ch in role.lower() if ch.isalnum())[:40]
            out[role] = authorization.RoleDefinition(
                f"{name}-{slug}",
                role_name=f"{role} ({args['stack']})",
                description="airflow-aks pipeline: what no built-in role covers",
                scope=scope,
                assignable_scopes=[scope],
                permissions=[
                    {
                        "actions": list(c.get("actions", ())),
                        "data_actions": list(c.get("data_actions", ())),
                        "not_data_actions": list(c.get("not_data_actions", ())),
                    }
                ],
                opts=self._child,
            )
        return out

    def _identity(
        self,
        name: str,
        args: PipelineIdentityArgs,
        kind: str,
        grants: Sequence[GrantArgs],
        rg: resources.ResourceGroup,
        custom: dict[str, authorization.RoleDefinition],
    ) -> azuread.ServicePrincipal:
        app = azuread.Application(
            name,
            display_name=f"{args['name_prefix']}-ci-{kind}",
            sign_in_audience="AzureADMyOrg",
            opts=self._child,
        )
        sp = azuread.ServicePrincipal(name, client_id=app.client_id, opts=self._child)
        previous: list[pulumi.Resource] = []
        subjects: Sequence[str] = args[f"{kind}_subjects"]
        for i, subject in enumerate(subjects):
            # One at a time: writes to one application's credentials are not made in
            # parallel (the managed-identity API refuses them: pulumi-azure-native#4343).
            previous = [
                azuread.ApplicationFederatedIdentityCredential(
                    f"{name}-github" if i == 0 else f"{name}-github-{i}",
                    application_id=app.id,
                    display_name=f"github-{kind}" if i == 0 else f"github-{kind}-{i}",
                    issuer=GITHUB_ISSUER,
                    subject=subject,
                    audiences=[FEDERATED_AUDIENCE],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
                )
            ]
        for grant in grants:
            guid = grant.get("role_guid")
            role_def: pulumi.Input[str]
            if guid:
                role_def = rg.id.apply(
                    lambda i, g=guid: (
                        i.split("/resourceGroups/")[0]
                        + f"/providers/Microsoft.Authorization/roleDefinitions/{g}"
                    )
                )
            else:
                role_def = custom[grant["role"]].id
            slug = "".join(ch for ch in grant["role"].lower() if ch.isalnum())[:40]
            condition = grant.get("condition")
            authorization.RoleAssignment(
                f"{name}-{slug}",
                principal_id=sp.object_id,
                principal_type="ServicePrincipal",
                role_definition_id=role_def,
                # Pipeline identities are the one place a resource-group scope is right:
                # creating resources needs write on their group. The subscription only for
                # the reads the program's preflight makes there (a custom role).
                scope=_scope(rg, grant.get("scope", "resourceGroup")),
                description=f"airflow-aks pipeline ({kind}): {grant['role']}",
                condition=condition,
                condition_version="2.0" if condition else None,
                opts=self._child,
            )
        return sp

    def _graph_permissions(
        self, name: str, sp: azuread.ServicePrincipal, app_roles: Sequence[str]
    ) -> None:
        if not app_roles:
            return
        graph = azuread.get_service_principal_output(client_id=MICROSOFT_GRAPH_APP_ID)
        for role_id in app_roles:
            azuread.AppRoleAssignment(
                f"{name}-graph-{role_id[:8]}",
                app_role_id=role_id,
                principal_object_id=sp.object_id,
                resource_object_id=graph.object_id,
                opts=self._child,
            )
