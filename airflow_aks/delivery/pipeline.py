"""The delivery pipeline, from one definition (``delivery.yaml``).

- :func:`subjects` — the OIDC ``sub`` each GitHub job presents: a job that declares
  ``environment: X`` presents ``repo:ORG/REPO:environment:X`` whatever its trigger (GitHub
  "OpenID Connect reference: example subject claims"), so previews on pull requests use a
  ``<stack>-preview`` environment and ``pulumi up`` uses ``<stack>``.
- :func:`render_workflows` — ``.github/workflows/pull-request.yml`` and ``deploy.yml``;
  ``airflow-aks pipeline --check`` fails when the checked-in files differ.
- :func:`derive_grants` — what the deploy and preview identities must hold to run
  ``pulumi up`` / ``pulumi preview`` of a stack, derived from the resource types in that
  stack's offline plan: one built-in role per Azure resource provider the stack writes, at
  the stack's resource group only (nothing across environments). A new resource type with
  no known role fails the check instead of silently failing the first CI deployment.

The identities themselves are created by the bootstrap project in ``delivery/``
(component ``airflow-aks:index:PipelineIdentity``), once per environment, by an
administrator: the identity that deploys a stack is not managed by that stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from airflow_aks.components.delivery import github_subject
from airflow_aks.components.identity import BUILTIN_ROLES
from airflow_aks.config.delivery import PipelineConfig, StageConfig

# Built-in role GUIDs, checked 2026-12-02 against Azure's built-in role lists
# (learn.microsoft.com "Azure built-in roles"; role maps in Azure/ResourceModules).
ROLES: dict[str, str] = {
    # Roles the stack itself grants keep one source: components/identity.py.
    **{
        r: BUILTIN_ROLES[r]
        for r in (
            "Azure Kubernetes Service Cluster User Role",
            "Azure Kubernetes Service RBAC Reader",
            "Azure Kubernetes Service RBAC Cluster Admin",
            "Network Contributor",
        )
    },
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Azure Kubernetes Service Contributor Role": "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
    "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "Managed Identity Contributor": "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
    "Log Analytics Contributor": "92aaf0da-9dab-42b6-94a3-d43ce8d16293",
    "Monitoring Contributor": "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
    "Kubernetes Extension Contributor": "85cb6faf-e071-4c9b-8136-154b5a04f717",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
}
# No built-in control-plane role for Azure Database for PostgreSQL flexible servers was
# found (searched 2026-12-02); the bootstrap creates this custom role, assignable only at
# the environment's resource group.
POSTGRES_DEPLOYER = "airflow-aks PostgreSQL deployer"
POSTGRES_ACTIONS = ("Microsoft.DBforPostgreSQL/flexibleServers/*",)
# Microsoft Graph application permissions (app role ids, Microsoft Graph permissions
# reference, checked 2026-12-02) for the Entra objects a stack creates (groups, app
# registrations): OwnedBy limits the deploy identity to the applications it created.
GRAPH_APP_ROLES: dict[str, str] = {
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
}
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

# azure-native module -> (role, why). Role names must be keys of ROLES or POSTGRES_DEPLOYER.
DEPLOY_ROLE_BY_MODULE: dict[str, tuple[str, str]] = {
    "containerservice": ("Azure Kubernetes Service Contributor Role", "cluster and node pools"),
    "keyvault": ("Key Vault Contributor", "vault and its secrets (ARM control plane)"),
    "network": ("Network Contributor", "VNet, subnets, NSGs, private endpoints"),
    "privatedns": ("Private DNS Zone Contributor", "private-link DNS zones and links"),
    "storage": ("Storage Account Contributor", "log storage account and containers"),
    "managedidentity": ("Managed Identity Contributor", "workload identities, credentials"),
    "operationalinsights": ("Log Analytics Contributor", "Log Analytics workspace"),
    "insights": ("Monitoring Contributor", "diagnostic settings, data collection rules"),
    "monitor": ("Monitoring Contributor", "diagnostic settings, data collection rules"),
    "kubernetesconfiguration": ("Kubernetes Extension Contributor", "Flux extension, config"),
    "dbforpostgresql": (POSTGRES_DEPLOYER, "metadata database server"),
    "authorization": (
        "Role Based Access Control Administrator",
        "the stack's role assignments, constrained to the roles it assigns",
    ),
}
# Types the deploy identity never writes: the bootstrap owns the resource group (and
# subscription features); random/tls are local providers.
NOT_GRANTED_MODULES = {"resources", "features"}
LOCAL_PROVIDERS = ("random:", "tls:", "pulumi:")
KUBERNETES_GRANTS = (
    ("Azure Kubernetes Service Cluster User Role", "fetch the user kubeconfig (exec format)"),
    ("Azure Kubernetes Service RBAC Cluster Admin", "charts create CRDs, webhooks, RBAC"),
)
PREVIEW_GRANTS = (
    ("Reader", "read every resource of the environment"),
    ("Azure Kubernetes Service Cluster User Role", "fetch the user kubeconfig (exec format)"),
    ("Azure Kubernetes Service RBAC Reader", "read Kubernetes objects for the diff"),
)

_ROLE_DEF_GUID = re.compile(r"roleDefinitions/([0-9a-fA-F-]{36})$")


@dataclass(frozen=True)
class Grant:
    """One role the identity holds at the environment's resource group."""

    role: str
    why: str
    role_guid: str | None
    """Built-in role GUID; None for the custom PostgreSQL role the bootstrap defines."""
    condition: str | None = None
    """ABAC condition (version 2.0) limiting the grant, e.g. which roles it may assign."""


@dataclass(frozen=True)
class StackGrants:
    stack: str
    deploy: tuple[Grant, ...]
    preview: tuple[Grant, ...]
    graph_app_roles: tuple[str, ...]
    assignable_roles: tuple[str, ...]
    """Role GUIDs the stack itself assigns: all the deploy identity may hand out."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def subjects(repository: str, stage: StageConfig) -> dict[str, str]:
    """The OIDC subjects of the stage's preview and deploy jobs."""
    return {
        "preview": github_subject(repository, environment=stage.preview_env),
        "deploy": github_subject(repository, environment=stage.deploy_env),
    }


def constrain_role_assignments(role_guids: Sequence[str]) -> str:
    """ABAC condition: role assignments may be written/deleted only for these roles.

    The shape of Microsoft's "Constrain roles" example (Azure docs: "Delegate Azure role
    assignment management to others with conditions", examples page), one clause per action
    because write and delete read the role from different attribute sources.
    """
    if not role_guids:
        raise ValueError("no role to delegate: the stack assigns no role")
    guids = ", ".join(sorted(set(role_guids)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def derive_grants(export: Mapping[str, Any]) -> StackGrants:
    """Least-privilege deploy/preview grants for the stack whose plan export this is.

    Raises ValueError naming every resource type no role covers, and when the stack would
    create its own resource group (the bootstrap owns it: set ``resourceGroup.existing``).
    """
    modules: dict[str, None] = {}
    unknown: set[str] = set()
    k8s = azuread = False
    assignable: set[str] = set()
    for r in export["resources"]:
        typ: str = r["type"]
        if not r.get("custom", True) or typ.startswith(LOCAL_PROVIDERS):
            continue
        if typ.startswith("kubernetes:"):
            k8s = True
        elif typ.startswith("azuread:"):
            azuread = True
        elif typ.startswith("azure-native:"):
            module = typ.split(":")[1]
            if module == "resources" and typ.endswith(":ResourceGroup"):
                raise ValueError(
                    f"stack {export['stack']!r} creates its resource group: a pipeline stack "
                    "uses the one the bootstrap made (airflow-aks:resourceGroup.existing: true)"
                )
            if module in NOT_GRANTED_MODULES:
                continue
            if module not in DEPLOY_ROLE_BY_MODULE:
                unknown.add(typ)
            modules.setdefault(module)
            if typ == "azure-native:authorization:RoleAssignment":
                m = _ROLE_DEF_GUID.search(str(r["inputs"].get("roleDefinitionId", "")))
                if not m:
                    raise ValueError(f"{r['urn']}: roleDefinitionId is not a role definition id")
                assignable.add(m.group(1).lower())
        else:
            unknown.add(typ)
    if unknown:
        raise ValueError(
            "no deploy role is known for "
            + ", ".join(sorted(unknown))
            + ": add its provider to DEPLOY_ROLE_BY_MODULE in airflow_aks/delivery.py"
        )
    deploy: dict[str, Grant] = {}
    for module in sorted(modules):
        role, why = DEPLOY_ROLE_BY_MODULE[module]
        if role in deploy:
            continue
        condition = (
            constrain_role_assignments(sorted(assignable)) if module == "authorization" else None
        )
        deploy[role] = Grant(role, why, ROLES.get(role), condition)
    if k8s:
        for role, why in KUBERNETES_GRANTS:
            deploy[role] = Grant(role, why, ROLES[role])
    preview = tuple(Grant(role, why, ROLES[role]) for role, why in PREVIEW_GRANTS)
    graph = tuple(sorted(GRAPH_APP_ROLES)) if azuread else ()
    return StackGrants(
        export["stack"], tuple(deploy.values()), preview, graph, tuple(sorted(assignable))
    )


def grants_markdown(grants: Sequence[StackGrants]) -> str:
    """One table of every identity's grants (README)."""
    lines = [
        "| stack | identity | grant (at the stack's resource group) | why |",
        "|---|---|---|---|",
    ]
    for g in grants:
        for who, items in (("deploy", g.deploy), ("preview", g.preview)):
            for x in items:
                role = x.role + (
                    " (condition: only the roles the stack assigns)" if x.condition else ""
                )
                lines.append(f"| {g.stack} | {who} | {role} | {x.why} |")
        for perm in g.graph_app_roles:
            lines.append(f"| {g.stack} | deploy | Microsoft Graph `{perm}` | Entra objects |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- workflows
# Action pins: the newest release tags seen in each action's repository (fetched
# 2026-12-02; snapshots of 2026-08), pinned by commit so a moved tag changes nothing.
ACTIONS: dict[str, tuple[str, str]] = {
    "checkout": ("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"),
    "setup-python": (
        "actions/setup-python",
        "5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0",
    ),
    "github-script": (
        "actions/github-script",
        "ed597411d8f924073f98dfc5c65a23a2325f34cd # v8.0.0",
    ),
    "upload-artifact": (
        "actions/upload-artifact",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
    ),
    "azure-login": ("azure/login", "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca # v3.0.1"),
    "pulumi": ("pulumi/actions", "8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0"),
    "pulumi-auth": ("pulumi/auth-actions", "141415910c3beb54e03b48e9057c204c97b956f2 # v2.1.0"),
}
_COMMENT = "__COMMENT__"  # replaced by the pin's version comment after YAML dumping


def _uses(key: str) -> str:
    repo, ref = ACTIONS[key]
    sha, _, version = ref.partition(" # ")
    return f"{repo}@{sha}{_COMMENT}{version}"


OFFLINE_STACKS: tuple[tuple[str, str | None], ...] = (
    ("dev", None),
    ("prod", None),
    ("dev", "examples/Pulumi.dev-kuma.yaml"),
)
"""Stacks the offline plan checks on every pull request: (stack, stack file or default)."""


def _setup(cfg: PipelineConfig, *, fetch_depth: int | None = None) -> list[dict[str, Any]]:
    checkout: dict[str, Any] = {"uses": _uses("checkout"), "with": {"persist-credentials": False}}
    if fetch_depth is not None:
        checkout["with"]["fetch-depth"] = fetch_depth
    return [
        checkout,
        {"uses": _uses("setup-python"), "with": {"python-version": cfg.python_version}},
        {"name": "Project virtualenv from requirements.lock", "run": "make venv"},
    ]


def _cloud_login(cfg: PipelineConfig) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [
        {
            "name": "Azure login (OIDC, no secret)",
            "uses": _uses("azure-login"),
            "with": {
                "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
            },
        }
    ]
    if cfg.pulumi_organization:
        steps.append(
            {
                "name": "Pulumi Cloud token by OIDC exchange (no stored token)",
                "uses": _uses("pulumi-auth"),
                "with": {
                    "organization": cfg.pulumi_organization,
                    "requested-token-type": "urn:pulumi:token-type:access_token:organization",
                },
            }
        )
    return steps


def _azure_env(cfg: PipelineConfig) -> dict[str, str]:
    env = {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
        "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
        "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }
    if cfg.backend_url:
        env["PULUMI_BACKEND_URL"] = cfg.backend_url
    return env


def _stack_ref(cfg: PipelineConfig, stack: str) -> str:
    return f"{cfg.pulumi_organization}/{stack}" if cfg.pulumi_organization else stack


def _pulumi(cfg: PipelineConfig, command: str, stack: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"pulumi {command} --policy-pack airflow_aks/policies ({stack})",
        "uses": _uses("pulumi"),
        "with": {
            "command": command,
            "stack-name": _stack_ref(cfg, stack),
            "policyPacks": "airflow_aks/policies",
            "diff": True,
            **extra,
        },
    }


def pull_request_workflow(cfg: PipelineConfig) -> dict[str, Any]:
    offline = [
        {"stack": s, "config": c or f"Pulumi.{s}.yaml", "label": _label(s, c)}
        for s, c in OFFLINE_STACKS
    ]
    comment_script = (
        "const fs = require('fs');\n"
        "const body = `<!-- airflow-aks-plan:${process.env.LABEL} -->\\n` + "
        "fs.readFileSync('diff.md', 'utf8');\n"
        "const {owner, repo} = context.repo;\n"
        "const issue_number = context.issue.number;\n"
        "const comments = await github.paginate(github.rest.issues.listComments, "
        "{owner, repo, issue_number});\n"
        "const mine = comments.find(c => c.body.startsWith("
        "`<!-- airflow-aks-plan:${process.env.LABEL} -->`));\n"
        "if (mine) await github.rest.issues.updateComment("
        "{owner, repo, comment_id: mine.id, body});\n"
        "else await github.rest.issues.createComment({owner, repo, issue_number, body});\n"
    )
    base_plan = (
        'git worktree add ../base "$BASE_SHA"\n'
        'if (cd ../base && make venv && .venv/bin/airflow-aks plan --stack "$STACK" '
        '--config "$CONFIG" --json ../base.json); then echo "base planned"; '
        'else echo \'{"stack": "\'"$STACK"\'", "resources": [], "outputs": {}}\' > ../base.json; fi'
    )
    jobs: dict[str, Any] = {
        "checks": {
            "name": "make test (ruff, pyright, pytest)",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 30,
            "steps": [*_setup(cfg), {"name": "make test", "run": "make test"}],
        },
        "offline-plan": {
            "name": "offline plan, policy check and diff (${{ matrix.label }})",
            "needs": "checks",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 20,
            "permissions": {"contents": "read", "pull-requests": "write"},
            "strategy": {"fail-fast": False, "matrix": {"include": offline}},
            "env": {
                "STACK": "${{ matrix.stack }}",
                "CONFIG": "${{ matrix.config }}",
                "LABEL": "${{ matrix.label }}",
                "BASE_SHA": "${{ github.event.pull_request.base.sha }}",
            },
            "steps": [
                *_setup(cfg, fetch_depth=0),
                {"name": "Plan the base of the pull request", "run": base_plan},
                {
                    "name": "Plan the pull request and diff it against the base",
                    "run": '.venv/bin/airflow-aks plan --stack "$STACK" --config "$CONFIG" '
                    "--no-render --json plan.json --diff ../base.json --diff-markdown diff.md",
                },
                {
                    # Runners are online: pull each pinned chart and render it with the
                    # plan's values, so the policy pack also judges the chart's own objects
                    # (as `pulumi preview --policy-pack` will) and render failures, ignored
                    # values keys and non-deterministic renders fail here first.
                    "name": "Plan with the real charts rendered (pulled at their pins)",
                    "run": '.venv/bin/airflow-aks plan --stack "$STACK" --config "$CONFIG" '
                    "--render --pull --no-key-probes --json rendered.json",
                },
                {
                    "name": "Policy pack over the exported plan",
                    "run": ".venv/bin/airflow-aks policies --check plan.json",
                },
                {
                    "name": "Plan diff as a pull-request comment",
                    "if": "always() && hashFiles('diff.md') != '' && "
                    "github.event.pull_request.head.repo.full_name == github.repository",
                    "uses": _uses("github-script"),
                    "with": {"script": comment_script},
                },
                {
                    "name": "Keep the plan for review",
                    "if": "always()",
                    "uses": _uses("upload-artifact"),
                    "with": {
                        "name": "plan-${{ matrix.label }}",
                        "path": "plan.json\nrendered.json\ndiff.md\n",
                        "if-no-files-found": "ignore",
                    },
                },
            ],
        },
    }
    for stage in cfg.stages:
        jobs[f"preview-{stage.stack}"] = {
            "name": f"pulumi preview ({stage.stack})",
            "needs": "offline-plan",
            # Forks get no OIDC token for this repository; skip rather than fail.
            "if": "vars.AZURE_TENANT_ID != '' && "
            "github.event.pull_request.head.repo.full_name == github.repository",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 45,
            # The subject of this job's token: repo:<repo>:environment:<preview env>.
            "environment": stage.preview_env,
            "permissions": {"contents": "read", "id-token": "write", "pull-requests": "write"},
            "env": _azure_env(cfg),
            "steps": [
                *_setup(cfg),
                *_cloud_login(cfg),
                _pulumi(
                    cfg,
                    "preview",
                    stage.stack,
                    **{"comment-on-pr": True, "edit-pr-comment": True},
                ),
            ],
        }
    return {
        "name": "pull-request",
        "on": {"pull_request": {"branches": ["main"]}},
        "permissions": {"contents": "read"},
        "concurrency": {
            "group": "pr-${{ github.event.pull_request.number }}",
            "cancel-in-progress": True,
        },
        "jobs": jobs,
    }


def deploy_workflow(cfg: PipelineConfig) -> dict[str, Any]:
    jobs: dict[str, Any] = {}
    for stage in cfg.stages:
        job: dict[str, Any] = {
            "name": f"pulumi up ({stage.stack})",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 90,
            # The subject of this job's token: repo:<repo>:environment:<deploy env>; the
            # environment carries the required reviewers where the stage asks for them.
            "environment": stage.deploy_env,
            # One update of a stack at a time; a queued run waits instead of cancelling.
            "concurrency": {"group": f"pulumi-{stage.stack}", "cancel-in-progress": False},
            "permissions": {"contents": "read", "id-token": "write"},
            "env": _azure_env(cfg),
            "steps": [
                *_setup(cfg),
                {
                    "name": "Offline plan and policy check before touching the cloud",
                    "run": f".venv/bin/airflow-aks plan --stack {stage.stack} --json plan.json",
                },
                *_cloud_login(cfg),
                _pulumi(cfg, "up", stage.stack),
            ],
        }
        if stage.after:
            job["needs"] = f"up-{stage.after}"
        jobs[f"up-{stage.stack}"] = job
    return {
        "name": "deploy",
        "on": {"push": {"branches": ["main"]}, "workflow_dispatch": {}},
        "permissions": {"contents": "read"},
        "jobs": jobs,
    }


def _label(stack: str, config: str | None) -> str:
    if not config:
        return stack
    return re.sub(r"^Pulumi\.|\.yaml$", "", config.rsplit("/", 1)[-1])


_HEADER = """\
# GENERATED from delivery.yaml by `airflow-aks pipeline --write`: edit that file, not this.
# `airflow-aks pipeline --check` (run by the test suite) fails when the two disagree.
"""


def _dump(workflow: Mapping[str, Any]) -> str:
    text = yaml.safe_dump(dict(workflow), sort_keys=False, width=100, allow_unicode=True)
    # Version comments after pinned commits, as Renovate's pinDigests writes them.
    text = re.sub(rf"{_COMMENT}(v[\w.]+)", r" # \1", text)
    return _HEADER + text


def render_workflows(cfg: PipelineConfig) -> dict[str, str]:
    """Workflow path -> file text."""
    return {
        ".github/workflows/pull-request.yml": _dump(pull_request_workflow(cfg)),
        ".github/workflows/deploy.yml": _dump(deploy_workflow(cfg)),
    }
