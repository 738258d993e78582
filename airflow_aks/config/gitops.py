"""Config model for GitOps (stack key ``gitops``): Flux, the CI identity, operators."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel, UniqueStrs
from .kinds import branch_problem, cycle

_K8S_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class KustomizationConfig(StrictModel):
    """One Flux Kustomization of the platform repository."""

    path: str = Field(pattern=r"^\./[\w./-]*$", description="path in the repo, './…'")
    depends_on: UniqueStrs = Field(default_factory=list)
    prune: bool = True
    wait: bool = True
    sync_interval_seconds: int = Field(default=600, ge=60, le=86400)


class GitOpsConfig(StrictModel):
    """Flux via the AKS ``microsoft.flux`` extension."""

    enabled: bool = False
    repository_url: str | None = None
    branch: str = "main"
    sync_interval_seconds: int = Field(default=300, ge=60, le=86400)
    local_auth_secret: str | None = Field(default=None, pattern=_K8S_NAME)
    release_train: Literal["stable", "preview"] = "stable"
    # None follows the stable train's minor upgrades (Microsoft-managed, like the AKS
    # upgrade channel); set e.g. "1.x.y" to pin and stop automatic minor upgrades.
    extension_version: str | None = Field(default=None, pattern=r"^\d+\.\d+\.\d+$")
    kustomizations: dict[str, KustomizationConfig] = Field(
        default_factory=lambda: {
            "infrastructure": KustomizationConfig(path="./infrastructure"),
            "apps": KustomizationConfig(path="./apps", depends_on=["infrastructure"]),
        }
    )
    operators_group: bool = True

    @model_validator(mode="before")
    @classmethod
    def _ci_moved(cls, data: object) -> object:
        if isinstance(data, dict) and "ci" in data:
            raise ValueError(
                "gitops.ci moved: the identities CI deploys with are defined in delivery.yaml "
                "and created by the pipeline bootstrap (delivery/), see README 'Delivery'"
            )
        return data

    @field_validator("branch")
    @classmethod
    def _branch(cls, v: str) -> str:
        if problem := branch_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("repository_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^(https://|ssh://git@)[\w.-]+(:\d+)?/\S+$", v):
            raise ValueError("repositoryUrl must be https://host/… or ssh://git@host/…")
        return v

    @field_validator("kustomizations")
    @classmethod
    def _names(cls, v: dict[str, KustomizationConfig]) -> dict[str, KustomizationConfig]:
        for name, k in v.items():
            if not re.match(_K8S_NAME, name):
                raise ValueError(f"kustomization name {name!r} is not a Kubernetes name")
            missing = sorted(set(k.depends_on) - set(v))
            if missing:
                raise ValueError(f"kustomization {name!r} depends on unknown {missing}")
        if loop := cycle({n: k.depends_on for n, k in v.items()}):
            # Flux would wait for ever: each waits for the next to become ready.
            raise ValueError(f"kustomization dependency cycle: {' -> '.join(loop)}")
        return v

    @model_validator(mode="after")
    def _enabled_needs_repo(self) -> GitOpsConfig:
        if self.enabled and not self.repository_url:
            raise ValueError("enabled: true needs repositoryUrl")
        if (
            self.repository_url
            and self.repository_url.startswith("ssh://")
            and not self.local_auth_secret
        ):
            raise ValueError("an ssh:// repositoryUrl needs localAuthSecret (deploy key Secret)")
        return self
