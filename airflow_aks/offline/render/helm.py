"""Helm implementations: the ``helm`` binary or the Helm v4 SDK (``helm-python-sdk``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Helm, Manifests, Renderer, RenderError


class SdkHelm:
    """The Helm v4 SDK through helm-python-sdk (libhelm_c, Helm's Go SDK behind a C ABI)."""

    name = "helm-python-sdk"

    def __init__(self) -> None:
        import helm_python

        self._helm = helm_python
        self.name = f"helm-python-sdk {helm_python.__version__} (Helm SDK {self._sdk_version()})"

    def _sdk_version(self) -> str:
        try:
            return str(self._helm.helm_sdk_version())
        except Exception:  # pragma: no cover - version probe only
            return "?"

    def open(self, chart: Path, *, release: str, namespace: str, include_crds: bool) -> Renderer:
        helm = self._helm
        try:
            loaded = helm.Chart.load(chart)
        except helm.HelmError as exc:
            raise RenderError(str(exc)) from None
        return _SdkRenderer(helm, loaded, release, namespace, include_crds)

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path:
        helm = self._helm
        dest.mkdir(parents=True, exist_ok=True)
        try:
            if chart.startswith("oci://"):
                helm.pull(chart, destination=dest, version=version)
            else:
                helm.pull(chart, repo_url=repo, destination=dest, version=version)
        except helm.HelmError as exc:
            raise RenderError(f"pull failed: {exc}") from None
        return dest / f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


@dataclass
class _SdkRenderer:
    helm: Any
    chart: Any
    release: str
    namespace: str
    include_crds: bool

    def render(self, values: Mapping[str, Any]) -> Manifests:
        try:
            out = dict(
                self.chart.render(
                    dict(values), name=self.release, namespace=self.namespace, is_install=True
                )
            )
            if self.include_crds:
                out.update({c["filename"]: c["data"] for c in self.chart.crds})
        except self.helm.HelmError as exc:
            raise RenderError(str(exc)) from None
        return out

    def close(self) -> None:
        self.chart.close()


class BinaryHelm:
    """The ``helm`` command line (``helm template`` / ``helm pull``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"helm binary ({path})"

    def open(self, chart: Path, *, release: str, namespace: str, include_crds: bool) -> Renderer:
        return _BinaryRenderer(self.path, chart, release, namespace, include_crds)

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        argv = [self.path, "pull", chart, "--version", version, "--destination", str(dest)]
        if repo and not chart.startswith("oci://"):
            argv += ["--repo", repo]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RenderError(f"pull failed: {proc.stderr.strip()}")
        return dest / f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


def template_argv(
    helm: str, chart: Path, values_file: Path, *, release: str, namespace: str, include_crds: bool
) -> list[str]:
    """``helm template`` as pulumi-kubernetes runs it: hooks off, CRDs unless skipped."""
    argv = [helm, "template", release, str(chart), "--namespace", namespace]
    argv += ["--values", str(values_file), "--no-hooks"]
    if include_crds:
        argv.append("--include-crds")
    return argv


_SOURCE = re.compile(r"^# Source: (.+)$", re.M)


def split_template_output(text: str) -> Manifests:
    """``helm template`` stdout -> {template path: text}, by its ``# Source:`` comments."""
    out: Manifests = {}
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        m = _SOURCE.search(doc)
        if not m:
            continue
        src = m.group(1).strip()
        out[src] = (out[src] + "---\n" + doc) if src in out else doc
    return out


@dataclass
class _BinaryRenderer:
    helm: str
    chart: Path
    release: str
    namespace: str
    include_crds: bool

    def render(self, values: Mapping[str, Any]) -> Manifests:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(values, f)  # JSON is YAML
        try:
            argv = template_argv(
                self.helm,
                self.chart,
                Path(f.name),
                release=self.release,
                namespace=self.namespace,
                include_crds=self.include_crds,
            )
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        finally:
            os.unlink(f.name)
        if proc.returncode:
            raise RenderError(proc.stderr.strip() or f"helm exited {proc.returncode}")
        return split_template_output(proc.stdout)

    def close(self) -> None:
        return None


def find_helm() -> tuple[Helm | None, str]:
    """The Helm implementation to use, or None and why there is none."""
    path = shutil.which("helm")
    if path:
        return BinaryHelm(path), ""
    try:
        return SdkHelm(), ""
    except ImportError:
        return None, (
            "no Helm implementation: put the helm binary on PATH or install the extra "
            "'airflow-aks[render]' (helm-python-sdk)"
        )
    except Exception as exc:  # the native library failed to load
        return None, f"helm-python-sdk is installed but failed to load: {exc}"
