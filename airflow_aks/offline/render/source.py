"""Which chart, from where: the request, the chart cache and local chart directories."""

from __future__ import annotations

import copy
import os
import re
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .base import CACHE_ENV, NO_SOURCE


@dataclass(frozen=True)
class ChartRequest:
    """One Chart of the plan, as pulumi-kubernetes would render it."""

    urn: str
    resource_name: str
    chart: str
    version: str
    repo: str | None
    namespace: str
    release: str
    values: dict[str, Any]
    include_crds: bool
    provider: str | None = None
    unreadable: str = ""
    """Why the exact values cannot be known offline (e.g. ``valueYamlFiles`` assets)."""

    @property
    def label(self) -> str:
        return f"{self.chart} {self.version}".strip()

    @classmethod
    def from_resource(cls, r: Mapping[str, Any]) -> ChartRequest:
        inputs = r.get("inputs") or {}
        name = str(r.get("name", ""))
        repo = (inputs.get("repositoryOpts") or {}).get("repo")
        unreadable = ""
        if inputs.get("valueYamlFiles"):
            unreadable = "valueYamlFiles are assets the offline plan does not read"
        elif inputs.get("postRenderer"):
            unreadable = "a postRenderer runs a local command the plan does not run"
        return cls(
            urn=str(r.get("urn", "")),
            resource_name=name,
            chart=str(inputs.get("chart", "")),
            version=str(inputs.get("version", "")),
            repo=repo if isinstance(repo, str) else None,
            namespace=str(inputs.get("namespace") or "default"),
            release=str(inputs.get("name") or name),
            values=copy.deepcopy(inputs.get("values") or {}),
            include_crds=not inputs.get("skipCrds"),
            provider=r.get("provider"),
            unreadable=unreadable,
        )


def default_cache() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-aks" / "charts"


def repo_slug(repo: str | None, chart: str) -> str:
    """Cache sub-directory of a repository: ``https://helm.linkerd.io/edge`` ->
    ``helm.linkerd.io/edge``; an OCI chart's registry path likewise."""
    src = chart.rsplit("/", 1)[0] if chart.startswith("oci://") else (repo or "local")
    src = re.sub(r"^[a-z]+://", "", src).strip("/")
    return re.sub(r"[^A-Za-z0-9._/-]", "_", src)


def chart_basename(chart: str) -> str:
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _chart_yaml_version(path: Path) -> str | None:
    try:
        meta = yaml.safe_load((path / "Chart.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    return str(meta.get("version")) if isinstance(meta, dict) else None


def _archive_version(path: Path) -> str | None:
    try:
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml":
                    f = tar.extractfile(member)
                    meta = yaml.safe_load(f.read()) if f else {}
                    return str((meta or {}).get("version"))
    except (OSError, tarfile.TarError, yaml.YAMLError):
        return None
    return None


def locate(req: ChartRequest, chart_dirs: Sequence[Path], cache: Path) -> tuple[Path | None, str]:
    """Where the chart's source is, or None and what was looked at."""
    base = chart_basename(req.chart)
    local = Path(req.chart).expanduser()
    if not req.repo and not req.chart.startswith("oci://") and local.exists():
        return local, ""
    candidates: list[Path] = []
    for d in [*chart_dirs, cache / repo_slug(req.repo, req.chart)]:
        candidates += [d / f"{base}-{req.version}.tgz", d / f"{base}-{req.version}", d / base]
    wrong: list[str] = []
    for c in candidates:
        if c.is_file():
            v = _archive_version(c)
        elif (c / "Chart.yaml").is_file():
            v = _chart_yaml_version(c)
        else:
            continue
        if v == req.version or not req.version:
            return c, ""
        wrong.append(f"{c} is version {v}")
    where = ", ".join(str(d) for d in [*chart_dirs, cache / repo_slug(req.repo, req.chart)])
    msg = f"{NO_SOURCE}: no {base}-{req.version}.tgz, {base}-{req.version}/ or {base}/ in {where}"
    if wrong:
        msg += f" ({'; '.join(wrong)}, the plan pins {req.version})"
    return None, msg
