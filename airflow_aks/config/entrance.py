"""``airflow-aks:entrance`` — the Gateway API entrance and Entra ID sign-in for people.

Off by default in dev unless ``host`` is given; on by default in prod (where ``host`` is then
required). When it is on, sign-in (``signIn``) is on too unless switched off explicitly —
and the policy pack's mandatory ``entrance-requires-sso-and-tls`` then fails the plan: a UI
reachable from outside the cluster must not fall back to the chart's built-in admin.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from airflow_aks.components.airflow.signin_config import ROLE_VALUES
from airflow_aks.config.base import StrictModel, UniqueStrs, problems_error, repeated
from airflow_aks.config.kinds import guid_problem

_DNS = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_K8S_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"


class IssuerConfig(StrictModel):
    """The cert-manager issuer that signs the host's certificate (created outside this
    stack, e.g. by Flux: an ACME issuer with DNS-01 on Azure DNS, or an internal CA)."""

    name: str = Field(pattern=_K8S_NAME)
    kind: Literal["ClusterIssuer", "Issuer"] = "ClusterIssuer"


class SignInConfig(StrictModel):
    """Entra ID single sign-on (app registration + FAB auth manager)."""

    enabled: bool = True
    groups: dict[str, list[str]] = Field(default_factory=dict)
    """App role (Admin, Op, User, Viewer) -> object ids of existing Entra groups."""
    owners: UniqueStrs = Field(default_factory=list)
    """Object ids of the app registration's owners (optional)."""

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(v) - set(ROLE_VALUES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; allowed: {', '.join(ROLE_VALUES)}")
        for role, ids in v.items():
            if problems := repeated(ids):
                raise problems_error(f"groups.{role}: {p}" for p in problems)
            for gid in ids:
                _object_id(gid, f"groups.{role}")
        return v

    @field_validator("owners")
    @classmethod
    def _owners(cls, v: list[str]) -> list[str]:
        for oid in v:
            _object_id(oid, "owners")
        return v


def _object_id(value: str, where: str) -> None:
    if problem := guid_problem(value):
        raise ValueError(f"{where}: {problem}")


class EntranceConfig(StrictModel):
    """How people reach the Airflow UI and API from outside the cluster."""

    enabled: bool | None = None
    """Default: on in prod, on in dev only when ``host`` is set."""
    host: str | None = None
    """DNS name of the UI (``airflow.example.com``); point it at the Gateway's address."""
    internal: bool = False
    """Private entrance: internal load balancer, a VNet address only."""
    gateway_class: str = Field(default="approuting-istio", pattern=_K8S_NAME)
    """AKS app routing's Gateway API implementation (GA, 2026-05)."""
    issuer: IssuerConfig | None = None
    """Required when on: who signs the certificate."""
    sign_in: SignInConfig = Field(default_factory=SignInConfig)

    @field_validator("host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        if v is not None and not _DNS.match(v):
            raise ValueError(f"{v!r} is not a lower-case DNS name like airflow.example.com")
        return v

    def on(self, production: bool) -> bool:
        """Whether the entrance is on for this environment."""
        if self.enabled is not None:
            return self.enabled
        return production or self.host is not None

    @model_validator(mode="after")
    def _explicit_on_needs_host(self) -> EntranceConfig:
        if self.enabled and self.host is None:
            raise ValueError("enabled: true needs host (the UI's DNS name)")
        return self


def entrance_issues(cfg: EntranceConfig, production: bool) -> list[tuple[str, str]]:
    """Cross-field problems once the environment is known: ``(key path, message)``."""
    if not cfg.on(production):
        return []
    out: list[tuple[str, str]] = []
    if cfg.host is None:
        out.append(("entrance.host", "required: the entrance is on by default in prod"))
    if cfg.issuer is None:
        out.append(("entrance.issuer", "required when the entrance is on ({name, kind})"))
    if production and cfg.sign_in.enabled and not any(cfg.sign_in.groups.values()):
        # Sign-in maps Entra groups to app roles: with none, nobody can ever sign in.
        out.append(
            (
                "entrance.signIn.groups",
                "prod needs at least one Entra group for a role (e.g. Admin: [<group id>]); "
                "with none nobody can sign in",
            )
        )
    return out
