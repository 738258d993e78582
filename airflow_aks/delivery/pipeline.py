"""The delivery pipeline, from one definition (``delivery.yaml``).

- :func:`subjects` — the OIDC ``sub`` each GitHub job presents: a job that declares
  ``environment: X`` presents ``repo:ORG@OWNER_ID/REPO@REPO_ID:environment:X`` (immutable form)
  whatever its trigger (GitHub "OpenID Connect reference: example subject claims"), so
  previews on pull requests use a ``<stack>-preview`` environment and ``pulumi up`` uses
  ``<stack>``.
- :func:`render_workflows` — ``.github/workflows/pull-request.yml`` and ``deploy.yml``;
  ``airflow-aks pipeline --check`` fails when the checked-in files differ.
- the grants of the deploy and preview identities: :mod:`airflow_aks.delivery.grants`,
  from the permission model of :mod:`airflow_aks.delivery.permissions`.

The identities themselves are created by the bootstrap project in ``delivery/``
(component ``airflow-aks:index:PipelineIdentity``), once per environment, by an
administrator: the identity that deploys a stack is not managed by that stack.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from airflow_aks.components.delivery import github_subject
from airflow_aks.config.delivery import PipelineConfig, StageConfig


def subjects(cfg: PipelineConfig, stage: StageConfig) -> dict[str, list[str]]:
    """The OIDC subjects the bootstrap trusts for the stage's preview and deploy jobs: the
    immutable form, plus the name form only with ``trustNameSubjects``."""
    out: dict[str, list[str]] = {}
    for job, env in (("preview", stage.preview_env), ("deploy", stage.deploy_env)):
        out[job] = [
            github_subject(
                cfg.repository,
                environment=env,
                owner_id=cfg.repository_owner_id,
                repository_id=cfg.repository_id,
            )
        ]
        if cfg.trust_name_subjects:
            out[job].append(github_subject(cfg.repository, environment=env))
    return out


@dataclass(frozen=True)
class ApiAccess:
    """How a stack's API server can be reached (from its ``aks`` config)."""

    private: bool
    authorized_ranges: tuple[str, ...]


def network_path_problem(index: int, stage: StageConfig, api: ApiAccess) -> str | None:
    """Why the stage's jobs cannot reach its API server, or None.

    Facts (2026-12-07): AKS takes at most 200 authorized ranges (aks-docs
    api-server-authorized-ip-ranges.md); GitHub's standard hosted runners egress from
    thousands of shared Azure ranges and GitHub advises against allow-listing them
    (docs.github.com "About GitHub's IP addresses"). A runner group with Azure private
    networking puts runners in a subnet of your VNet (docs.github.com, "About Azure private
    networking for GitHub-hosted runners"; org level needs the Team plan), so a NAT gateway
    gives them a fixed egress IP, or a peered VNet a private route.
    """
    r = stage.runner
    where = f"delivery.yaml:stages[{index}].runner"
    if api.private:
        if r.private_api_reachable:
            return None
        return (
            f"{where}: stack {stage.stack!r} has a private API server (aks.privateCluster); "
            "its jobs need runners with a route and DNS to it: a runner group with Azure "
            "private networking or self-hosted runners in a VNet peered with the cluster's "
            "and linked to its private DNS zone, then privateApiReachable: true"
        )
    ranges = api.authorized_ranges
    if not ranges:
        return None
    if r.hosted_public:
        return (
            f"{where}: stack {stage.stack!r} admits only aks.authorizedIpRanges {list(ranges)} "
            "to its API server; GitHub's standard hosted runners egress from thousands of "
            "shared ranges (AKS allows 200), so preview and up could never reach it. Set "
            "group (a runner group with Azure private networking) or labels (self-hosted) "
            "and egressIps (their NAT gateway's public IPs, inside those ranges)"
        )
    if not r.egress_ips:
        return f"{where}: name the runners' egressIps to check them against aks.authorizedIpRanges"
    nets = [ipaddress.ip_network(x, strict=False) for x in ranges]
    outside = [
        ip
        for ip in r.egress_ips
        if not any(
            ipaddress.ip_network(ip, strict=False).subnet_of(n)  # type: ignore[arg-type]
            for n in nets
            if n.version == ipaddress.ip_network(ip, strict=False).version
        )
    ]
    if outside:
        return (
            f"{where}: egressIps {outside} lie outside stack {stage.stack!r}'s "
            f"aks.authorizedIpRanges {list(ranges)}: add them there"
        )
    return None


def runs_on(stage: StageConfig) -> Any:
    """``runs-on`` of a stage's cloud jobs (preview, up)."""
    if stage.runner.group:
        return {"group": stage.runner.group}
    if stage.runner.labels:
        return list(stage.runner.labels)
    return "ubuntu-24.04"


# Azure/kubelogin: newest release tag in the repository snapshot read 2026-12-07 (v0.2.19,
# tagged 2026-06-23); its release workflow publishes kubelogin-linux-amd64.zip with a
# .sha256 beside it. GitHub's runner images do not ship kubelogin (actions/runner-images).
KUBELOGIN_VERSION = "v0.2.19"


def _kubelogin() -> dict[str, Any]:
    base = f"https://github.com/Azure/kubelogin/releases/download/{KUBELOGIN_VERSION}"
    return {
        "name": f"kubelogin {KUBELOGIN_VERSION} (the kubeconfig's exec plugin)",
        "run": (
            "set -euo pipefail\n"
            'cd "$RUNNER_TEMP"\n'
            f"curl -fsSLO {base}/kubelogin-linux-amd64.zip\n"
            f"curl -fsSLO {base}/kubelogin-linux-amd64.zip.sha256\n"
            "sha256sum -c kubelogin-linux-amd64.zip.sha256\n"
            'unzip -jo kubelogin-linux-amd64.zip bin/linux_amd64/kubelogin -d "$RUNNER_TEMP/bin"\n'
            'echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"\n'
            '"$RUNNER_TEMP/bin/kubelogin" --version\n'
        ),
    }


def bootstrap_commands(cfg: PipelineConfig, providers: list[str]) -> list[str]:
    """Every command of the one-time bootstrap, in order (docs/bootstrap.md lists them;
    ``airflow-aks pipeline --bootstrap-commands`` prints them for this ``delivery.yaml``).

    ``providers``: the resource providers the stages' plans need (preflight decides).
    """
    from airflow_aks.components.aks import ENCRYPTION_AT_HOST

    repo = cfg.repository
    ns, feature = ENCRYPTION_AT_HOST
    out = [
        "az login",
        "az account set --subscription <subscription id>",
        *(f"az provider register --namespace {p}" for p in providers),
        f"az feature register --namespace {ns} --name {feature}",
        f"az feature show --namespace {ns} --name {feature} --query properties.state",
        f"gh repo create {repo} --private",
        f"gh api repos/{repo} --jq '.owner.id, .id'",
        "make venv",
        ".venv/bin/airflow-aks pipeline --write",
        ".venv/bin/airflow-aks pipeline --check",
        "pulumi login",
    ]
    for stage in cfg.stages:
        out += [
            f"pulumi -C delivery stack init {stage.stack}",
            f"pulumi -C delivery up --stack {stage.stack}",
        ]
        for env, output in (
            (stage.deploy_env, "deployClientId"),
            (stage.preview_env, "previewClientId"),
        ):
            out += [
                f"gh api --method PUT repos/{repo}/environments/{env}",
                f"gh variable set AZURE_CLIENT_ID --repo {repo} --env {env} --body "
                f'"$(pulumi -C delivery stack output {output} --stack {stage.stack})"',
            ]
    out += [
        *(
            f'gh variable set {var} --repo {repo} --body "$(az account show --query {q} -o tsv)"'
            for var, q in (("AZURE_TENANT_ID", "tenantId"), ("AZURE_SUBSCRIPTION_ID", "id"))
        ),
        "git push origin main",
    ]
    return out


CI_DEPLOYER = "ServicePrincipal"
_DEPLOYER_LINE = (
    "    deployerPrincipalType: ServicePrincipal  # CI deploys this stack (airflow-aks pipeline)"
)


def stack_file_for_ci(text: str) -> str:
    """``Pulumi.<stack>.yaml`` of a stage, with ``airflow-aks:aks.deployerPrincipalType``
    set to ``ServicePrincipal``: the stack's cluster-admin grant to its deployer must match
    the identity CI deploys with (a ``User`` grant to a service principal fails with
    UnmatchedPrincipalType). A line edit, so the file's comments stay."""
    lines = text.splitlines()
    try:
        head = next(i for i, x in enumerate(lines) if re.match(r"^  airflow-aks:aks:\s*$", x))
    except StopIteration:
        at = next((i for i, x in enumerate(lines) if x.rstrip() == "config:"), None)
        if at is None:
            raise ValueError("stack file has no `config:` mapping") from None
        lines[at + 1 : at + 1] = ["  airflow-aks:aks:", _DEPLOYER_LINE]
        return "\n".join(lines) + "\n"
    end = head + 1
    while end < len(lines) and (lines[end].startswith("   ") or not lines[end].strip()):
        end += 1
    block = [i for i in range(head + 1, end) if re.match(r"^    deployerPrincipalType:", lines[i])]
    if block:
        lines[block[0]] = _DEPLOYER_LINE
    else:
        lines.insert(head + 1, _DEPLOYER_LINE)
    out = "\n".join(lines) + "\n"
    value = yaml.safe_load(out)["config"]["airflow-aks:aks"]["deployerPrincipalType"]
    if value != CI_DEPLOYER:  # pragma: no cover - the edit above makes it so
        raise ValueError(f"deployerPrincipalType is {value!r} after the edit")
    return out


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
            "runs-on": runs_on(stage),
            "timeout-minutes": 45,
            # The subject of this job's token: repo:<repo>:environment:<preview env>.
            "environment": stage.preview_env,
            "permissions": {"contents": "read", "id-token": "write", "pull-requests": "write"},
            "env": _azure_env(cfg),
            "steps": [
                *_setup(cfg),
                *_cloud_login(cfg),
                _kubelogin(),
                _pulumi(
                    cfg,
                    "preview",
                    stage.stack,
                    # refresh: the diff is against the cloud, not the last state; the preview
                    # identity's read grants are derived for exactly that (grants.py).
                    **{"comment-on-pr": True, "edit-pr-comment": True, "refresh": True},
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
            "runs-on": runs_on(stage),
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
                _kubelogin(),
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
