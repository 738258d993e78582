"""``airflow-aks:domains`` — data domains: one block of config gives a team its own
namespace, identity, secrets, containers, mesh rules, egress, quota and node pool.

Shape (camelCase, like every stack key)::

    airflow-aks:domains:
      - name: finance
        namespace: finance            # optional, default: the name
        secrets:                      # Key Vault secrets (they exist before `pulumi up`)
          - {name: finance-warehouse-dsn}            # access: read (default) | write
        containers:                   # Blob containers in the platform storage account
          - {name: finance-landing, create: true, access: write}
        meshCalls:                    # in-mesh services of another domain it may call
          - {domain: marketing, labels: {app: segments}, port: 8080}
        hosts: ["api.example.com:443"]  # external host:port egress
        quota: {requestsCpu: "8", requestsMemory: 16Gi, pods: 5}
        pool: tasks                   # AKS pool its pods run on (tasks | gpu | ...)

Field errors come from pydantic with their path (``airflow-aks:domains[1].hosts[0]``);
:func:`domain_issues` adds the checks that need the whole stack (duplicates, write claims,
unknown pools, namespaces the platform owns, mesh calls to unknown domains) and
:func:`name_domains` puts the domain's name in front of every domain message.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from airflow_aks.config.base import NAMESPACE, ConfigIssue, StrictModel, problems_error
from airflow_aks.config.kinds import PLATFORM_NAMESPACES as KINDS_PLATFORM_NAMESPACES
from airflow_aks.config.kinds import label_problems, quantity

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DOMAIN_NAME = r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$"
KV_SECRET_NAME = r"^[0-9A-Za-z-]{1,127}$"
# Azure Blob container names: 3-63 chars, lowercase letters, digits and single hyphens.
CONTAINER_NAME = r"^[a-z0-9](-?[a-z0-9])+$"
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")
QUANTITY = r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"

# Namespaces the platform or AKS own: never a domain's (whatever mesh runs, so switching
# the mesh cannot suddenly collide). The list and its sources: config/kinds.py.
PLATFORM_NAMESPACES = KINDS_PLATFORM_NAMESPACES


class SecretClaim(StrictModel):
    """A Key Vault secret the domain may read (or write: set new versions)."""

    name: str = Field(pattern=KV_SECRET_NAME)
    access: Literal["read", "write"] = "read"


class ContainerClaim(StrictModel):
    """A Blob container of the platform storage account the domain may use."""

    name: str = Field(pattern=CONTAINER_NAME, min_length=3, max_length=63)
    access: Literal["read", "write"] = "read"
    create: bool = False
    """Create the container here (else it must exist)."""


class MeshCall(StrictModel):
    """An in-mesh service of another domain this domain may call."""

    domain: str = Field(pattern=DOMAIN_NAME)
    labels: dict[str, str] = Field(min_length=1)
    """Pod labels of the target pods in that domain's namespace."""
    port: int = Field(ge=1, le=65535)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        # Selector labels: what the API server validates on NetworkPolicy and mesh objects.
        if problems := label_problems(v):
            raise problems_error(problems)
        return v


class QuotaConfig(StrictModel):
    """ResourceQuota of the namespace; the LimitRange gives containers without resources
    the ``default*`` values, so they are admitted under the quota."""

    requests_cpu: str = Field(default="4", pattern=QUANTITY)
    requests_memory: str = Field(default="8Gi", pattern=QUANTITY)
    # Defaults the limits can fill: 16 CPU admits 5 prod task pods (2 CPU task + 1 CPU
    # Linkerd proxy limit each) and 8 dev ones; policy k8s-task-quota-reachable.
    limits_cpu: str = Field(default="16", pattern=QUANTITY)
    limits_memory: str = Field(default="16Gi", pattern=QUANTITY)
    pods: int = Field(default=5, ge=1, le=10000)
    default_request_cpu: str = Field(default="100m", pattern=QUANTITY)
    default_request_memory: str = Field(default="256Mi", pattern=QUANTITY)
    default_limit_cpu: str = Field(default="1", pattern=QUANTITY)
    default_limit_memory: str = Field(default="1Gi", pattern=QUANTITY)

    @model_validator(mode="after")
    def _consistent(self) -> QuotaConfig:
        # The API server refuses a LimitRange whose defaultRequest exceeds its default
        # (limit) (kubernetes/kubernetes#12492, LimitRange validation), and a container
        # given a request above its limit is refused too; a quota whose requests exceed
        # its limits admits nothing that uses them.
        pairs = [
            (
                "defaultRequestCpu",
                self.default_request_cpu,
                "defaultLimitCpu",
                self.default_limit_cpu,
            ),
            (
                "defaultRequestMemory",
                self.default_request_memory,
                "defaultLimitMemory",
                self.default_limit_memory,
            ),
            ("requestsCpu", self.requests_cpu, "limitsCpu", self.limits_cpu),
            ("requestsMemory", self.requests_memory, "limitsMemory", self.limits_memory),
            ("defaultLimitCpu", self.default_limit_cpu, "limitsCpu", self.limits_cpu),
            ("defaultLimitMemory", self.default_limit_memory, "limitsMemory", self.limits_memory),
        ]
        problems = [
            f"{a}: {va} is more than {b} ({vb})"
            for a, va, b, vb in pairs
            if quantity(va) > quantity(vb)
        ]
        if problems:
            raise problems_error(problems)
        return self


class DomainConfig(StrictModel):
    """One data domain."""

    name: str = Field(pattern=DOMAIN_NAME)
    """Lowercase letters, digits and hyphens, 2-20 chars (it prefixes Azure names)."""
    namespace: str | None = Field(default=None, pattern=DNS_LABEL)
    """Kubernetes namespace (default: the name)."""
    secrets: list[SecretClaim] = Field(default_factory=list)
    containers: list[ContainerClaim] = Field(default_factory=list)
    mesh_calls: list[MeshCall] = Field(default_factory=list)
    hosts: list[str] = Field(default_factory=list)
    """External ``host:port`` (or ``CIDR:port``) the domain's pods may call."""
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    pool: str = "tasks"
    """AKS node pool (by name) the domain's pods run on."""

    @property
    def effective_namespace(self) -> str:
        return self.namespace or self.name

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        for i, hp in enumerate(v):
            parse_host_port(hp, f"hosts[{i}]")
        if len(set(v)) != len(v):
            raise ValueError("hosts has duplicates")
        return v


def parse_host_port(value: str, where: str = "host") -> tuple[str, int]:
    """``host:port`` / ``a.b.c.d/nn:port`` -> (host, port); ValueError names ``where``."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{where}: {value!r} is not host:port (e.g. api.example.com:443)")
    if not (HOST.match(host) or _is_cidr(host)):
        raise ValueError(f"{where}: {host!r} is neither a DNS name nor an IPv4 address/CIDR")
    return host, int(port)


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    return True


def domain_issues(
    domains: Sequence[DomainConfig],
    *,
    platform_namespaces: Iterable[str],
    pools: Iterable[str],
    reserved_secrets: Iterable[str],
    reserved_containers: Iterable[str],
) -> list[ConfigIssue]:
    """Every cross-domain / cross-stack problem, each at its key path and naming the domain.

    One pass over the domains with dictionaries (linear in the number of claims)."""
    issues: list[ConfigIssue] = []
    platform = set(platform_namespaces) | PLATFORM_NAMESPACES
    pool_names = sorted(set(pools))
    reserved_s, reserved_c = set(reserved_secrets), set(reserved_containers)
    seen_name: dict[str, int] = {}
    seen_ns: dict[str, str] = {}
    writers: dict[tuple[str, str], str] = {}
    by_name = {d.name: d for d in domains}

    def issue(i: int, key: str, d: DomainConfig, msg: str) -> None:
        issues.append(ConfigIssue(f"{NAMESPACE}:domains[{i}].{key}", f"domain {d.name!r}: {msg}"))

    for i, d in enumerate(domains):
        if d.name in seen_name:
            issue(i, "name", d, f"duplicate domain name (also domains[{seen_name[d.name]}])")
        seen_name.setdefault(d.name, i)
        ns = d.effective_namespace
        if ns in platform or ns.startswith("kube-"):
            issue(i, "namespace", d, f"namespace {ns!r} belongs to the platform; choose another")
        elif ns in seen_ns and seen_ns[ns] != d.name:
            issue(i, "namespace", d, f"namespace {ns!r} is already domain {seen_ns[ns]!r}'s")
        seen_ns.setdefault(ns, d.name)
        if d.pool not in pool_names:
            issue(i, "pool", d, f"unknown pool {d.pool!r}; allowed: {', '.join(pool_names)}")
        for kind, claims, reserved in (
            ("secrets", d.secrets, reserved_s),
            ("containers", d.containers, reserved_c),
        ):
            names = [c.name for c in claims]
            for j, c in enumerate(claims):
                key = f"{kind}[{j}].name"
                if names.index(c.name) != j:
                    issue(i, key, d, f"{c.name!r} is listed twice")
                if c.name in reserved:
                    issue(i, key, d, f"{c.name!r} belongs to the platform; domains cannot claim it")
                if c.access == "write":
                    other = writers.setdefault((kind, c.name), d.name)
                    if other != d.name:
                        issue(
                            i,
                            key,
                            d,
                            f"{c.name!r} is claimed for write by domain {other!r} too; "
                            "one writer per secret/container",
                        )
        for j, call in enumerate(d.mesh_calls):
            if call.domain == d.name:
                issue(i, f"meshCalls[{j}].domain", d, "a domain needs no rule to call itself")
            elif call.domain not in by_name:
                issue(
                    i,
                    f"meshCalls[{j}].domain",
                    d,
                    f"unknown domain {call.domain!r}; allowed: {', '.join(sorted(by_name))}",
                )
    # A created container has one owner: two domains creating it would fight over it.
    creators: dict[str, str] = {}
    for i, d in enumerate(domains):
        for j, c in enumerate(d.containers):
            if c.create and creators.setdefault(c.name, d.name) != d.name:
                issue(
                    i,
                    f"containers[{j}].create",
                    d,
                    f"container {c.name!r} is created by domain {creators[c.name]!r} already",
                )
    return issues


def name_domains(issues: Iterable[ConfigIssue], raw_domains: Any) -> list[ConfigIssue]:
    """Prefix pydantic's messages under ``domains[i]`` with the domain's name (from the
    raw config, since the model did not validate)."""
    prefix = f"{NAMESPACE}:domains["
    names: Mapping[int, str] = {}
    if isinstance(raw_domains, list):
        names = {i: str(d.get("name")) for i, d in enumerate(raw_domains) if isinstance(d, Mapping)}
    out: list[ConfigIssue] = []
    for issue in issues:
        m = re.match(re.escape(prefix) + r"(\d+)\]", issue.path)
        if m and not issue.message.startswith("domain "):
            name = names.get(int(m.group(1)), "?")
            out.append(ConfigIssue(issue.path, f"domain {name!r}: {issue.message}"))
        else:
            out.append(issue)
    return out
