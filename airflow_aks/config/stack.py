"""The whole stack configuration: one typed model, read from ``airflow-aks:*`` config keys.

Flow: stack file (or the engine's config) -> :func:`load` (profile defaults merged under
the user's keys) -> :class:`StackConfig` -> the assembler in ``airflow_aks.program.stack``.
Every problem is reported at once, with its key path, before any resource is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from airflow_aks.components.domains import DOMAIN_TAG

from .airflow import CONTROL_PLANE_SECRETS, AirflowConfig
from .aks import AksConfig, NetworkConfig, _net
from .base import (
    NAMESPACE,
    ConfigError,
    ConfigIssue,
    StrictModel,
    deep_merge,
    issues_from_validation,
    problems_error,
    split_problems,
    suggest,
)
from .credentials import credential_issues
from .domains import DomainConfig, domain_issues, name_domains
from .entrance import EntranceConfig, entrance_issues
from .gitops import GitOpsConfig
from .hibernation import HibernationConfig
from .kinds import location_problem, tag_problems
from .mesh import MeshConfig
from .profiles import PROFILES
from .secrets import DatabaseConfig, KeyVaultConfig, StorageConfig, environment_issues
from .yamlfile import read_yaml

# Tags the platform puts on resources besides the stack's own (program/stack.py base_tags,
# components/domains.py): they count towards Azure's 50.
PLATFORM_TAGS = ("project", "environment", "managed-by", DOMAIN_TAG)


class ResourceGroupConfig(StrictModel):
    """Where everything lives: a new resource group, or an existing one by name."""

    name: str | None = Field(default=None, pattern=r"^[-\w._()]{1,89}[-\w_()]$")
    existing: bool = False

    @model_validator(mode="after")
    def _existing_needs_name(self) -> ResourceGroupConfig:
        if self.existing and not self.name:
            raise ValueError("existing: true needs the resource group's name")
        return self


class StackConfig(StrictModel):
    """Every ``airflow-aks:`` key of a stack."""

    environment: str = Field(pattern=r"^[a-z][a-z0-9]{1,7}$")
    profile: Literal["dev", "prod"]
    location: str
    name_prefix: str = Field(default="airflow", pattern=r"^[a-z][a-z0-9]{1,9}$")
    tags: dict[str, str] = Field(default_factory=dict)
    resource_group: ResourceGroupConfig = Field(default_factory=ResourceGroupConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    aks: AksConfig
    mesh: MeshConfig = Field(default_factory=MeshConfig)
    airflow: AirflowConfig = Field(default_factory=AirflowConfig)
    key_vault: KeyVaultConfig = Field(default_factory=KeyVaultConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    gitops: GitOpsConfig = Field(default_factory=GitOpsConfig)
    entrance: EntranceConfig = Field(default_factory=EntranceConfig)
    domains: list[DomainConfig] = Field(default_factory=list)
    hibernation: HibernationConfig = Field(default_factory=HibernationConfig)

    @field_validator("location")
    @classmethod
    def _location(cls, v: str) -> str:
        if problem := location_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if problems := tag_problems(v, PLATFORM_TAGS):
            raise problems_error(problems)
        return v

    @model_validator(mode="after")
    def _cross(self) -> StackConfig:
        errs: list[str] = []
        if not self.network.byo:
            vnet = _net(self.network.vnet_cidr, "vnetCidr")
            for key, value in (
                ("podCidr", self.aks.pod_cidr),
                ("serviceCidr", self.aks.service_cidr),
            ):
                if _net(value, key).overlaps(vnet):
                    errs.append(f"aks.{key} {value} overlaps network.vnetCidr {vnet}")
        if self.profile == "prod":
            if self.aks.tier == "Free":
                errs.append("aks.tier: prod needs 'Standard' or 'Premium' (uptime SLA)")
            if len(self.aks.system_pool.zones) < 2:
                errs.append("aks.systemPool.zones: prod needs at least two availability zones")
            if self.aks.system_pool.min_count < 3:
                errs.append("aks.systemPool.minCount: prod needs >= 3 system nodes")
            if not (self.aks.private_cluster or self.aks.authorized_ip_ranges):
                errs.append("aks: prod needs privateCluster or authorizedIpRanges")
        for path, message in environment_issues(
            self.profile, self.key_vault, self.database, self.storage
        ):
            errs.append(f"{path}: {message}")
        if (
            self.database.entra_auth
            and not self.database.entra_admin_group_object_id
            and not self.aks.admin_group_object_ids
        ):
            errs.append(
                "database.entraAuth: Entra authentication needs an Entra administrator: set "
                "database.entraAdminGroupObjectId or aks.adminGroupObjectIds (or entraAuth: false)"
            )
        for path, message in entrance_issues(self.entrance, self.profile == "prod"):
            errs.append(f"{path}: {message}")
        if self.entrance_on and not self.airflow.enabled:
            errs.append("entrance: the entrance leads to Airflow; airflow.enabled is false")
        if (
            self.entrance_on
            and self.mesh.provider == "linkerd"
            and self.mesh.install_gateway_api
            and "install_gateway_api" in self.mesh.model_fields_set
        ):
            errs.append(
                "mesh.installGatewayApi: must be false with the entrance on (the AKS managed "
                "Gateway API CRDs are required; self-managed CRDs are unsupported with app "
                "routing)"
            )
        errs += mesh_cluster_issues(self.mesh, self.aks, self.profile == "prod")
        if errs:
            raise problems_error(errs)
        return self

    @property
    def production(self) -> bool:
        return self.profile == "prod"

    @property
    def entrance_on(self) -> bool:
        """The Gateway API entrance is on (prod default; dev when a host is given)."""
        return self.entrance.on(self.profile == "prod")


LINKERD_HA_REPLICAS = 3
"""``controllerReplicas`` of Linkerd's values-ha (components/mesh/linkerd.ha_values)."""


def mesh_cluster_issues(mesh: MeshConfig, aks: AksConfig, production: bool) -> list[str]:
    """Mesh settings the cluster cannot honour."""
    errs = []
    if mesh.provider == "linkerd" and mesh.cni and aks.network_dataplane == "cilium":
        # linkerd2-cni chains itself after the cluster's CNI, which Cilium allows only with
        # cni.exclusive=false; AKS-managed Cilium does not let users change its config
        # (first-contact notes, Linkerd with AKS-managed Cilium; read 2026-12-07).
        errs.append(
            "mesh.cni: the linkerd2-cni plugin needs Cilium's cni.exclusive=false, which "
            "AKS-managed Cilium (aks.networkDataplane: cilium) does not allow; remove "
            "mesh.cni (the proxy-init container sets up the redirect instead)"
        )
    pool = aks.workload_pool
    if (
        production
        and mesh.provider == "linkerd"
        and pool.enable_auto_scaling
        and pool.min_count < LINKERD_HA_REPLICAS
    ):
        # HA runs 3 replicas per controller with required pod anti-affinity on
        # kubernetes.io/hostname (linkerd2 edge-26.8.3 charts/partials/templates/
        # _affinity.tpl, enablePodAntiAffinity); they fit only the untainted workload pool.
        errs.append(
            f"aks.workloadPool.minCount: Linkerd HA runs {LINKERD_HA_REPLICAS} replicas of "
            f"each controller, one per node; the workload pool's minimum "
            f"({pool.min_count}) leaves one pending until the autoscaler adds a node; set "
            f"minCount >= {LINKERD_HA_REPLICAS}"
        )
    return errs


# ---------------------------------------------------------------------------------------
# Loading


def _decode(value: Any) -> Any:
    """The engine passes structured config as JSON strings; stack files as YAML objects."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def split_namespace(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate ``airflow-aks:`` keys (namespace stripped) from other providers' keys."""
    ours: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.partition(":")
        if ns == NAMESPACE and name:
            ours[name] = _decode(value)
        else:
            others[key] = _decode(value)
    return ours, others


def namespace_typos(raw: Mapping[str, Any]) -> list[ConfigIssue]:
    """Keys whose namespace is a near miss of ``airflow-aks`` (``airflow_aks:gitops``):
    the engine would hand them to no one, and the section would silently be off."""
    issues: list[ConfigIssue] = []
    for key in raw:
        ns, sep, name = str(key).partition(":")
        if ns == NAMESPACE and not name:
            issues.append(ConfigIssue(str(key), "a key needs a name after 'airflow-aks:'"))
        elif sep and ns != NAMESPACE and suggest(ns, [NAMESPACE], cutoff=0.75):
            issues.append(
                ConfigIssue(
                    str(key),
                    f"namespace {ns!r} is not this project's: did you mean "
                    f"'{NAMESPACE}:{name}'? (as written, no program reads it)",
                )
            )
    return issues


def load(raw: Mapping[str, Any], stack: str) -> StackConfig:
    """Validate a stack's config map (``{"airflow-aks:aks": {...}, ...}``).

    ``environment`` defaults to the stack name, ``profile`` to the environment when it is a
    known profile, and ``location`` to ``azure-native:location``. Raises ConfigError with
    every problem found.
    """
    # Credentials first and alone: no other message may quote a value next to one.
    if found := credential_issues(raw):
        raise ConfigError(found)
    if typos := namespace_typos(raw):
        raise ConfigError(typos)
    ours, others = split_namespace(raw)
    ours.setdefault("environment", re.sub(r"[^a-z0-9]", "", stack.lower())[:8] or stack)
    if "azure-native:location" in others:
        native = others["azure-native:location"]
        if problem := location_problem(str(native)):
            raise ConfigError([ConfigIssue("azure-native:location", problem)])
        ours.setdefault("location", native)
    profile = ours.get("profile", ours["environment"])
    if profile not in PROFILES:
        raise ConfigError(
            [
                ConfigIssue(
                    f"{NAMESPACE}:profile",
                    f"stack {stack!r} needs a profile ({', '.join(sorted(PROFILES))}): "
                    f"its environment {ours['environment']!r} is not one, so set "
                    f"{NAMESPACE}:profile",
                )
            ]
        )
    ours["profile"] = profile
    merged = deep_merge(PROFILES[profile], ours)
    try:
        cfg = StackConfig.model_validate(merged)
    except ValidationError as err:
        issues = split_problems(issues_from_validation(StackConfig, err))
        raise ConfigError(name_domains(issues, merged.get("domains"))) from None
    if problems := stack_domain_issues(cfg):
        raise ConfigError(problems)
    return cfg


def stack_domain_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Data-domain checks that need the rest of the stack (pools, platform namespaces,
    control-plane secrets, the log container)."""
    reserved = [*CONTROL_PLANE_SECRETS, *filter(None, [cfg.airflow.git_token_secret])]
    return domain_issues(
        cfg.domains,
        platform_namespaces=[cfg.airflow.namespace],
        # pools a pod can select (labelled), never the system pool
        pools=[p.name for p in cfg.aks.pools()[1:] if p.labels],
        reserved_secrets=reserved,
        reserved_containers=[cfg.storage.container_name],
    )


def read_stack_file(path: Path) -> dict[str, Any]:
    """The ``config:`` map of a ``Pulumi.<stack>.yaml`` file."""
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(str(path), "a stack file must be a mapping")])
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError([ConfigIssue(f"{path}:config", "must be a mapping of keys")])
    return config


def from_engine() -> dict[str, Any]:
    """All config keys the Pulumi engine (or the mock engine) handed to this program."""
    from pulumi.runtime import config as rc

    raw: dict[str, Any] = dict(rc.get_config_env())
    raw.update(rc.CONFIG.get())
    return raw
