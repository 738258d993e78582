"""``airflow-aks:mesh`` — which service mesh runs, and the versions we pin.

Pins (checked 2026-12-02; each the newest tag seen in the project's git repository, read
through a snapshot whose newest commits date from 2026-08-21/22 -- a newer release may
exist; the chart versions follow the projects' release scripts):
- Linkerd ``edge-26.8.3`` (tagged 2026-08-21, linkerd/linkerd2) -> chart ``2026.8.3``
  (``bin/compute-edge-version``: edge-YY.M.X -> YYYY.M.X) from https://helm.linkerd.io/edge
- cert-manager ``v1.21.1`` (tagged 2026-07-29, cert-manager/cert-manager; the chart
  version is the tag, with its ``v``) from https://charts.jetstack.io
- trust-manager ``v0.24.0`` (tagged 2026-06-27, cert-manager/trust-manager)
- Kuma ``2.14.3`` (tagged 2026-08-10, kumahq/kuma; ``tools/releases/helm.sh``: chart
  version = tag without ``v``) from https://kumahq.github.io/charts
The previous pins (edge 2026.10.1, Kuma 2.14.5, cert-manager v1.21.2, trust-manager
v0.26.0) appear in none of those repositories.

High availability is not a key here: the assembler derives it from the environment
(prod -> HA).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from airflow_aks.config.base import StrictModel, problems_error

_SEMVER_V = re.compile(r"^v\d+\.\d+\.\d+$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_LINKERD_EDGE = re.compile(r"^20\d\d\.(1[0-2]|[1-9])\.\d+$")
_HOST_PORT = re.compile(r"^(?:https?://)?[A-Za-z0-9.-]+:\d{1,5}$")


class MeshConfig(StrictModel):
    """Service mesh selection and pins."""

    provider: Literal["linkerd", "kuma", "none"] = "linkerd"
    """The one switch: linkerd | kuma | none."""

    # Pins (checked 2026-12-02, sources in the module docstring).
    linkerd_version: str = "2026.8.3"
    """Linkerd edge chart version YYYY.M.N (edge-26.8.3, tagged 2026-08-21)."""
    cert_manager_version: str = "v1.21.1"
    """cert-manager chart version (tagged 2026-07-29): Linkerd identity and webhook
    certificates, Kuma webhook certificate."""
    trust_manager_version: str = "v0.24.0"
    """trust-manager chart version (tagged 2026-06-27; Linkerd trust-anchor bundle)."""
    kuma_version: str = "2.14.3"
    """Kuma chart version (tagged 2026-08-10)."""

    viz: bool = False
    """Linkerd only: install the linkerd-viz extension."""
    cni: bool = False
    """Linkerd only: linkerd2-cni plugin instead of the proxy-init container."""
    install_gateway_api: bool = True
    """Linkerd only: let linkerd-crds install the Gateway API CRDs (off if the cluster
    already has them, e.g. the AKS managed Gateway API add-on)."""
    otel_endpoint: str | None = Field(default=None)
    """Kuma only: OpenTelemetry collector ``<service>.<namespace>:<port>`` for a mesh-wide
    MeshTrace (off by default); meshed namespaces get egress to it. The collector and its
    namespace are yours to run (not created by this stack)."""

    @field_validator("linkerd_version")
    @classmethod
    def _linkerd_version(cls, v: str) -> str:
        if not _LINKERD_EDGE.match(v):
            raise ValueError(
                f"'{v}' is not a Linkerd edge chart version (YYYY.M.N, e.g. 2026.8.3 "
                "for edge-26.8.3)"
            )
        return v

    @field_validator("cert_manager_version", "trust_manager_version")
    @classmethod
    def _jetstack_version(cls, v: str) -> str:
        if not _SEMVER_V.match(v):
            raise ValueError(f"'{v}' is not a pinned chart version like v1.21.1")
        return v

    @field_validator("kuma_version")
    @classmethod
    def _kuma_version(cls, v: str) -> str:
        if not _SEMVER.match(v):
            raise ValueError(f"'{v}' is not a pinned Kuma version like 2.14.3")
        return v

    @field_validator("otel_endpoint")
    @classmethod
    def _otel_endpoint(cls, v: str | None) -> str | None:
        if v is not None and not (_HOST_PORT.match(v) and 0 < int(v.rsplit(":", 1)[1]) < 65536):
            raise ValueError(
                f"'{v}' is not host:port with a port 1-65535 "
                "(e.g. otel-collector.observability:4317)"
            )
        if v is not None and "." not in v.split("://")[-1].rpartition(":")[0]:
            # the data planes of every namespace dial it; a short name resolves only in
            # the collector's own namespace
            raise ValueError(f"'{v}': name the collector's namespace (<service>.<namespace>:port)")
        return v

    @model_validator(mode="after")
    def _provider_specific(self) -> MeshConfig:
        problems: list[str] = []
        if self.otel_endpoint and self.provider != "kuma":
            problems.append("otelEndpoint is only supported with provider 'kuma'")
        if self.provider != "linkerd":
            for key, on in (("viz", self.viz), ("cni", self.cni)):
                if on:
                    problems.append(f"{key} is a Linkerd option; provider is '{self.provider}'")
        if problems:
            raise problems_error(problems)
        return self
