"""Config model of the delivery pipeline (``delivery.yaml`` at the project root).

One definition feeds both sides of the OIDC trust: the GitHub workflows are generated from
it (``airflow-aks pipeline --write``) and the bootstrap project (``delivery/``) creates
federated credentials for exactly the subjects those workflows present.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from .base import ConfigError, ConfigIssue, StrictModel, issues_from_validation
from .credentials import file_credential_issues
from .yamlfile import read_yaml

_NAME = r"^[A-Za-z0-9_.-]+$"


class RunnerConfig(StrictModel):
    """Where a stage's preview and deploy jobs run: how they reach the cluster's API server.

    Default: GitHub's standard hosted runners (``ubuntu-24.04``), which egress from thousands
    of shared Azure ranges, so they can only reach an API server open to the internet.
    """

    group: str | None = Field(default=None, pattern=_NAME, max_length=255)
    """A GitHub-hosted runner group with Azure private networking (its network configuration
    puts the runners in a subnet of an Azure VNet the bootstrap owner set up)."""
    labels: list[str] = Field(default_factory=list)
    """Self-hosted runner labels (``runs-on``), e.g. ``[self-hosted, airflow-aks-prod]``."""
    egress_ips: list[str] = Field(default_factory=list)
    """Public egress CIDRs of those runners (the runner subnet's NAT gateway): each must lie
    inside the stage's ``aks.authorizedIpRanges``."""
    private_api_reachable: bool = False
    """The runners resolve and route to a *private* API server (VNet peered with the
    cluster's, its private DNS zone linked). Only a group or self-hosted runners can."""

    @model_validator(mode="after")
    def _one_kind(self) -> RunnerConfig:
        if self.group and self.labels:
            raise ValueError("set group (GitHub-hosted, private networking) or labels, not both")
        if (self.egress_ips or self.private_api_reachable) and not (self.group or self.labels):
            raise ValueError(
                "egressIps / privateApiReachable describe a runner group or self-hosted "
                "runners: set group or labels"
            )
        return self

    @property
    def hosted_public(self) -> bool:
        return not (self.group or self.labels)


class StageConfig(StrictModel):
    """One stack the pipeline deploys, in order."""

    stack: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$", description="Pulumi stack name")
    environment: str | None = Field(default=None, pattern=_NAME, max_length=255)
    """GitHub environment of `pulumi up` (default: the stack name)."""
    preview_environment: str | None = Field(default=None, pattern=_NAME, max_length=255)
    """GitHub environment of `pulumi preview` on pull requests (default: `<stack>-preview`)."""
    required_reviewers: bool = False
    """The deploy environment must be protected by required reviewers (set in GitHub)."""
    after: str | None = None
    """Stage whose `up` must succeed first (e.g. prod after dev)."""
    runner: RunnerConfig = Field(default_factory=RunnerConfig)
    """Where its jobs run (the network path to the API server)."""

    @property
    def deploy_env(self) -> str:
        return self.environment or self.stack

    @property
    def preview_env(self) -> str:
        return self.preview_environment or f"{self.stack}-preview"


class PipelineConfig(StrictModel):
    """The delivery pipeline: repository, Pulumi state, and the stages in order."""

    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """GitHub ``org/repo`` whose workflows deploy."""
    repository_owner_id: int = Field(gt=0)
    """GitHub's numeric id of the owner (``gh api repos/ORG/REPO --jq .owner.id``): with
    ``repositoryId`` it makes the immutable OIDC subject the bootstrap trusts."""
    repository_id: int = Field(gt=0)
    """GitHub's numeric id of the repository (``gh api repos/ORG/REPO --jq .id``)."""
    trust_name_subjects: bool = False
    """Also trust the name-based subject (``repo:ORG/REPO:...``). Only for a repository
    created before 2026-07-15 that has not opted in to immutable subjects; a renamed or
    recreated repository of the same name would present the same subject."""
    pulumi_organization: str | None = Field(default=None, pattern=_NAME)
    """Pulumi Cloud organisation (state, OIDC token exchange). Exactly one of this and
    ``backend_url``."""
    backend_url: str | None = Field(default=None, pattern=r"^azblob://[a-z0-9-]+(\?\S+)?$")
    """Self-managed state in Azure Blob (``azblob://<container>``) instead of Pulumi Cloud."""
    python_version: str = Field(default="3.11", pattern=r"^3\.(11|12|13)$")
    stages: list[StageConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> PipelineConfig:
        if (self.pulumi_organization is None) == (self.backend_url is None):
            raise ValueError("set exactly one of pulumiOrganization and backendUrl")
        names = [s.stack for s in self.stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stages: stack(s) {dupes} appear more than once")
        envs = [e for s in self.stages for e in (s.deploy_env, s.preview_env)]
        shared = sorted({e for e in envs if envs.count(e) > 1})
        if shared:
            # One environment per trust: a preview must never hold a deploy's subject.
            raise ValueError(f"stages: GitHub environment(s) {shared} used twice")
        for i, s in enumerate(self.stages):
            if s.after is not None and s.after not in names[:i]:
                raise ValueError(
                    f"stages[{i}].after: {s.after!r} must name an earlier stage ({names[:i]})"
                )
        return self

    def stage(self, stack: str) -> StageConfig:
        for s in self.stages:
            if s.stack == stack:
                return s
        raise KeyError(f"stack {stack!r} is not a stage of the pipeline ({self.stage_names})")

    @property
    def stage_names(self) -> list[str]:
        return [s.stack for s in self.stages]


def load_pipeline(path: Path) -> PipelineConfig:
    """Validate ``delivery.yaml``; every problem reported at once with its key path."""
    data = read_yaml(path)
    if found := file_credential_issues(data, path.name):
        raise ConfigError(found)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as err:
        issues = issues_from_validation(PipelineConfig, err)
        raise ConfigError(
            ConfigIssue(re.sub(r"^airflow-aks:?", f"{path.name}:", i.path), i.message)
            for i in issues
        ) from None
