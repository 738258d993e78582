"""``airflow-aks:airflow`` — the Airflow installation (official chart, KubernetesExecutor).

Pins (checked 2026-11-23): chart ``1.22.0`` from https://airflow.apache.org (newest
release; 2026-06-01), image ``apache/airflow:3.3.2`` (the Airflow version the DAG tests
load). Everything else (identity, secrets, mesh, logs) is derived, not configured.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from airflow_aks.components.airflow import values as V
from airflow_aks.components.database import ADMIN_PASSWORD_SECRET, CONNECTION_SECRET
from airflow_aks.components.secrets import (
    API_SECRET_KEY_SECRET,
    FERNET_KEY_SECRET,
    JWT_SECRET_SECRET,
)
from airflow_aks.config.base import StrictModel, UniqueStrs
from airflow_aks.config.kinds import branch_problem, namespace_problem

# Generated secrets only the control plane reads; never grantable to task pods.
CONTROL_PLANE_SECRETS = (
    FERNET_KEY_SECRET,
    API_SECRET_KEY_SECRET,
    JWT_SECRET_SECRET,
    CONNECTION_SECRET,
    ADMIN_PASSWORD_SECRET,
)

_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class GitSyncConfig(StrictModel):
    """DAGs from Git. Omit the section to ship DAGs baked into the image."""

    repo: str = Field(pattern=r"^(https://|ssh://|git@)\S+$")
    branch: str = "main"
    sub_path: str = "dags"
    period: str = Field(default="60s", pattern=r"^\d+[smh]$")
    username: str | None = None
    """With a username, the password is the Key Vault secret ``gitTokenSecret``."""

    @field_validator("branch")
    @classmethod
    def _branch(cls, v: str) -> str:
        if problem := branch_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("repo")
    @classmethod
    def _no_credentials(cls, v: str) -> str:
        host = v.split("://", 1)[-1].split("/", 1)[0]
        if not v.startswith("git@") and "@" in host:
            raise ValueError("repo must not carry credentials; use username + gitTokenSecret")
        return v


class AirflowConfig(StrictModel):
    """The Airflow release."""

    enabled: bool = True
    namespace: str = "airflow"
    release_name: str = Field(default="airflow", pattern=r"^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$")
    # Pins (checked 2026-11-23).
    chart_version: str = V.CHART_VERSION
    """Official chart version (helm-chart/1.22.0)."""
    image_repository: str = V.AIRFLOW_IMAGE_REPOSITORY
    image_tag: str = V.AIRFLOW_IMAGE_TAG
    """Pinned Airflow image tag; ``latest`` is rejected."""
    airflow_version: str = V.AIRFLOW_VERSION
    git_sync: GitSyncConfig | None = None
    admin_password_secret: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,127}$")
    """Key Vault secret with the initial admin password (else a random one)."""
    git_token_secret: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,127}$")
    """Key Vault secret with the Git token (git-sync, gitops_promote DAG)."""
    # Key Vault secrets task pods may read (e.g. for keyless_blob); each must exist before
    # `pulumi up`. Task pods get no vault-wide access: the control plane's secrets (DB
    # connection, fernet key, API/JWT keys) stay out of every task's reach.
    task_secret_names: UniqueStrs = Field(default_factory=list)
    key_vault_secrets_backend: bool = True
    """Airflow connections/variables from Key Vault through workload identity."""
    # Secrets the Key Vault secrets backend may read (airflow-connections-<conn id>,
    # airflow-variables-<key>); each must exist before `pulumi up`. The control plane is
    # granted each secret it needs, never the whole vault (Azure RBAC cannot scope by prefix).
    backend_secret_names: UniqueStrs = Field(default_factory=list)
    replicas: dict[str, int] = Field(default_factory=dict)
    """Per component (scheduler, apiServer, dagProcessor, triggerer); prod defaults to 2."""
    helm_values: dict[str, Any] = Field(default_factory=dict)
    """Escape hatch, deep-merged last into the chart values."""

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if problem := namespace_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("chart_version", "airflow_version")
    @classmethod
    def _semver(cls, v: str) -> str:
        if not _SEMVER.match(v):
            raise ValueError(f"{v!r} is not a MAJOR.MINOR.PATCH version")
        return v

    @field_validator("airflow_version")
    @classmethod
    def _airflow3(cls, v: str) -> str:
        if not v.startswith("3."):
            raise ValueError("this platform runs Airflow 3.x (apiServer, Task SDK)")
        return v

    @field_validator("image_tag")
    @classmethod
    def _pinned(cls, v: str) -> str:
        return V.validate_image_tag(v, "airflow")

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(v) - set(V.CONTROL_PLANE))
        if unknown:
            raise ValueError(f"unknown components {unknown}; use {list(V.CONTROL_PLANE)}")
        if any(n < 1 for n in v.values()):
            raise ValueError("replicas must be >= 1")
        return v

    @model_validator(mode="after")
    def _task_secrets(self) -> AirflowConfig:
        control_plane = set(CONTROL_PLANE_SECRETS)
        for name in self.task_secret_names:
            if not re.match(r"^[0-9A-Za-z-]{1,127}$", name):
                raise ValueError(f"taskSecretNames: {name!r} is not a Key Vault secret name")
            if name in control_plane:
                raise ValueError(
                    f"taskSecretNames: {name!r} is a control-plane secret; tasks must not read it"
                )
        return self

    @model_validator(mode="after")
    def _backend_secrets(self) -> AirflowConfig:
        for name in self.backend_secret_names:
            if not re.match(r"^airflow-(connections|variables)-[0-9A-Za-z-]{1,100}$", name):
                raise ValueError(
                    f"backendSecretNames: {name!r} must be airflow-connections-<id> or "
                    "airflow-variables-<key> (the secrets backend's prefixes)"
                )
        if self.backend_secret_names and not self.key_vault_secrets_backend:
            raise ValueError("backendSecretNames needs keyVaultSecretsBackend: true")
        return self

    @model_validator(mode="after")
    def _token_for_username(self) -> AirflowConfig:
        if self.git_sync and self.git_sync.username and not self.git_token_secret:
            raise ValueError("gitSync.username needs gitTokenSecret (the token's Key Vault name)")
        return self
