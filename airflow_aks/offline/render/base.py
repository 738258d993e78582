"""Constants, errors and the Helm protocols the other render modules share."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

HELM_CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "[secret]"
CACHE_ENV = "AIRFLOW_AKS_CHART_CACHE"
NO_SOURCE = "no chart source"
HOOK_ANNOTATION = "helm.sh/hook"
# Probing one values key costs one render; a chart's probes stop here (reported).
MAX_PROBES = 600

Level = Literal["error", "warning"]
Manifests = dict[str, str]
"""Template path (``<chart>/templates/x.yaml``, ``<chart>/crds/y.yaml``) -> rendered text."""


class RenderError(Exception):
    """The chart did not render; the message is Helm's."""


class Renderer(Protocol):
    """One loaded chart, rendered any number of times."""

    def render(self, values: Mapping[str, Any]) -> Manifests: ...

    def close(self) -> None: ...


class Helm(Protocol):
    """A real Helm implementation."""

    name: str

    def open(
        self, chart: Path, *, release: str, namespace: str, include_crds: bool
    ) -> Renderer: ...

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path: ...
