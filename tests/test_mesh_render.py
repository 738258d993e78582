"""The mesh and GPU charts rendered at their pinned tags with the stack's own values
(GPU plugin, Kuma, webhook certificates): renders succeed without a cluster (what ``pulumi preview``
sees), twice the same (no diff on a second ``up``), and the values have the effect we claim.
The old values are rendered too, to show the defect each change removes.

Chart sources are never part of the repository. A test skips, naming what it looked for,
unless one of these holds a chart at the pinned version:

* ``AIRFLOW_AKS_CHART_DIRS`` (``os.pathsep``-separated) or the render cache
  (``airflow-aks plan --render --pull`` fills it): ``<chart>-<version>/`` or ``.tgz``;
* ``AIRFLOW_AKS_GIT_MIRRORS``: a directory of ``<owner>+<repo>/repo`` git directories (as the
  chart repositories' snapshots are fetched); the chart is exported at its release tag into
  a temporary directory and given the version the project's release script would stamp.
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, plan_export

from airflow_aks.offline import render
from airflow_aks.policies.rules import RULES_BY_NAME, evaluate

KUMA_STACK = str(ROOT / "examples" / "Pulumi.dev-kuma.yaml")


@dataclass(frozen=True)
class GitChart:
    """Where a pinned chart lives in its project's git repository."""

    repo: str
    tag: str
    path: str
    stamp: dict[str, str] = field(default_factory=dict)
    """Chart.yaml fields the release pipeline sets (the git copy holds placeholders)."""
    vendor: dict[str, str] = field(default_factory=dict)
    """``file://`` dependencies to copy into ``charts/`` (name -> path in the repo)."""


# (chart, version) -> its source. Release scripts read 2026-12-02: linkerd2
# bin/compute-edge-version + bin/helm-build, kuma tools/releases/helm.sh, cert-manager's
# release tool ("version: v0.0.0 ... set automatically"), the device plugin's Chart.yaml.
GIT_CHARTS: dict[tuple[str, str], GitChart] = {
    ("linkerd-control-plane", "2026.8.3"): GitChart(
        "linkerd/linkerd2",
        "edge-26.8.3",
        "charts/linkerd-control-plane",
        {"version": "2026.8.3", "appVersion": "edge-26.8.3"},
        {"partials": "charts/partials"},
    ),
    ("linkerd-crds", "2026.8.3"): GitChart(
        "linkerd/linkerd2",
        "edge-26.8.3",
        "charts/linkerd-crds",
        {"version": "2026.8.3"},
        {"partials": "charts/partials"},
    ),
    ("kuma", "2.14.3"): GitChart(
        "kumahq/kuma",
        "v2.14.3",
        "deployments/charts/kuma",
        {"version": "2.14.3", "appVersion": "2.14.3"},
    ),
    ("cert-manager", "v1.21.1"): GitChart(
        "cert-manager/cert-manager",
        "v1.21.1",
        "deploy/charts/cert-manager",
        {"version": "v1.21.1", "appVersion": "v1.21.1"},
    ),
    ("trust-manager", "v0.24.0"): GitChart(
        "cert-manager/trust-manager",
        "v0.24.0",
        "deploy/charts/trust-manager",
        {"version": "v0.24.0", "appVersion": "v0.24.0"},
    ),
    # The Airflow chart's sources sit in chart/ of apache/airflow; the released Chart.yaml
    # carries the version already (chart/RELEASE_NOTES.rst, release helm-chart/1.22.0).
    ("airflow", "1.22.0"): GitChart("apache/airflow", "helm-chart/1.22.0", "chart"),
    ("nvidia-device-plugin", "0.20.0"): GitChart(
        "NVIDIA/k8s-device-plugin",
        "v0.20.0",
        "deployments/helm/nvidia-device-plugin",  # its charts/ holds the (off) nfd subchart
    ),
}


def _git_export(git_dir: Path, tag: str, path: str, dest: Path) -> Path:
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "--format=tar", tag, path],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        tar.extractall(dest, filter="data")
    return dest / path


def _stamp(chart_yaml: Path, fields: dict[str, str]) -> None:
    text = chart_yaml.read_text()
    for key, value in fields.items():
        text, n = re.subn(rf"(?m)^{key}:.*$", f'{key}: "{value}"', text)
        assert n == 1, f"{chart_yaml}: no {key}"
    chart_yaml.write_text(text)


def _from_mirror(chart: str, version: str, tmp: Path) -> tuple[Path | None, str]:
    spec = GIT_CHARTS.get((chart, version))
    root = os.environ.get("AIRFLOW_AKS_GIT_MIRRORS")
    if spec is None:
        return None, f"no git source known for {chart} {version}"
    if not root:
        return None, "AIRFLOW_AKS_GIT_MIRRORS is not set"
    git_dir = Path(root) / spec.repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None, f"no git mirror of {spec.repo} at {git_dir}"
    try:
        src = _git_export(git_dir, spec.tag, spec.path, tmp)
        for name, dep in spec.vendor.items():
            vendored = _git_export(git_dir, spec.tag, dep, tmp / "vendor")
            shutil.copytree(vendored, src / "charts" / name)
    except subprocess.CalledProcessError as exc:
        return None, f"{spec.repo} has no {spec.path} at {spec.tag}: {exc.stderr[-200:]!r}"
    _stamp(src / "Chart.yaml", spec.stamp)
    return src, ""


@pytest.fixture(scope="module")
def helm() -> render.Helm:
    impl, why = render.find_helm()
    if impl is None:
        pytest.skip(
            f"no Helm to render with: {why}; enable: install helm or the [render] extra "
            "(helm-python-sdk)"
        )
    return impl


@pytest.fixture(scope="module")
def chart_source(tmp_path_factory: pytest.TempPathFactory) -> Callable[[render.ChartRequest], Path]:
    cache: dict[tuple[str, str], Path] = {}

    def find(req: render.ChartRequest) -> Path:
        key = (render.chart_basename(req.chart), req.version)
        if key in cache:
            return cache[key]
        dirs = [
            Path(d) for d in os.environ.get("AIRFLOW_AKS_CHART_DIRS", "").split(os.pathsep) if d
        ]
        path, why = render.locate(req, dirs, render.default_cache())
        if path is None:
            path, why_git = _from_mirror(*key, tmp_path_factory.mktemp(key[0]))
            if path is None:
                pytest.skip(
                    f"{key[0]} {key[1]}: chart source not available ({why}; {why_git}); "
                    "enable: AIRFLOW_AKS_CHART_DIRS=<dir with the chart> or "
                    "AIRFLOW_AKS_GIT_MIRRORS=<dir of owner+repo/repo git mirrors>"
                )
        cache[key] = path
        return path

    return find


def _chart(export: dict[str, Any], chart: str) -> dict[str, Any]:
    return next(
        r
        for r in export["resources"]
        if r["type"] == render.HELM_CHART and render.chart_basename(r["inputs"]["chart"]) == chart
    )


def _render(
    helm: render.Helm,
    source: Callable[[render.ChartRequest], Path],
    resource: dict[str, Any],
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[render.ChartResult, list[render.Rendered]]:
    resource = copy.deepcopy(resource)
    if edit is not None:
        edit(resource["inputs"]["values"])
    req = render.ChartRequest.from_resource(resource)
    renderer = helm.open(
        source(req), release=req.release, namespace=req.namespace, include_crds=req.include_crds
    )
    try:
        return render.analyse(req, renderer, probe_keys=False)
    finally:
        renderer.close()


def _objects(objs: list[render.Rendered], kind: str) -> Iterator[dict[str, Any]]:
    return (o.obj for o in objs if o.obj.get("kind") == kind)


def _unstable(result: render.ChartResult) -> list[str]:
    return [f.message for f in result.findings if f.kind == "non-deterministic"]


def _webhooks(objs: list[render.Rendered]) -> list[dict[str, Any]]:
    kinds = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    return [o.obj for o in objs if o.obj.get("kind") in kinds]


# ------------------------------ Kuma (namespace check, webhook certificates)


@pytest.fixture(scope="module")
def kuma_export() -> dict[str, Any]:
    return plan_export("dev", KUMA_STACK)


def test_kuma_renders_without_a_cluster_and_stably(helm, chart_source, kuma_export) -> None:
    result, objs = _render(helm, chart_source, _chart(kuma_export, "kuma"))
    assert result.status == "rendered", result.reason
    assert _unstable(result) == []
    # the chart's own cert-manager Certificate; webhooks get their CA injected from it
    (cert,) = _objects(objs, "Certificate")
    assert cert["spec"]["secretName"] == "kuma-tls-cert"
    hooks = _webhooks(objs)
    assert hooks and all(
        h["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        == "kuma-system/kuma-tls-cert"
        and all("caBundle" not in w["clientConfig"] for w in h["webhooks"])
        for h in hooks
    )
    assert not [s for s in _objects(objs, "Secret") if s["metadata"]["name"] == "kuma-tls-cert"]


def test_kuma_with_no_helm_hooks_fails_where_lookup_sees_no_cluster(
    helm, chart_source, kuma_export
) -> None:
    """The previous values: the namespace check fails every render without a cluster."""

    def old(values: dict[str, Any]) -> None:
        values["noHelmHooks"] = True

    result, _ = _render(helm, chart_source, _chart(kuma_export, "kuma"), old)
    assert result.status == "failed"
    assert 'kuma.io/sidecar-injection: "false"' in result.reason


def test_kuma_without_cert_manager_regenerates_its_ca(helm, chart_source, kuma_export) -> None:
    def old(values: dict[str, Any]) -> None:
        values["controlPlane"].pop("tls")

    result, _ = _render(helm, chart_source, _chart(kuma_export, "kuma"), old)
    unstable = " ".join(_unstable(result))
    assert "Secret kuma-system/kuma-tls-cert" in unstable and "caBundle" in unstable


# ------------------------------------------ Linkerd (webhook certificates)


def test_linkerd_control_plane_renders_stably(helm, chart_source, dev_plan) -> None:
    result, objs = _render(helm, chart_source, _chart(dev_plan, "linkerd-control-plane"))
    assert result.status == "rendered", result.reason
    assert _unstable(result) == []
    injected = {
        h["metadata"]["name"]: h["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        for h in _webhooks(objs)
    }
    assert injected == {
        "linkerd-proxy-injector-webhook-config": "linkerd/linkerd-proxy-injector",
        "linkerd-sp-validator-webhook-config": "linkerd/linkerd-sp-validator",
        "linkerd-policy-validator-webhook-config": "linkerd/linkerd-policy-validator",
    }
    secrets = {s["metadata"]["name"] for s in _objects(objs, "Secret")}
    assert not {s for s in secrets if s.endswith("-k8s-tls")}  # cert-manager's, not the chart's
    assert list(_objects(objs, "CronJob")) == []  # no heartbeat scheduled at render time
    # every Secret a control-plane pod mounts is one our Certificates issue
    from airflow_aks.components.mesh import linkerd

    mounted = {
        v["secret"]["secretName"]
        for d in _objects(objs, "Deployment")
        for v in d["spec"]["template"]["spec"].get("volumes", [])
        if "secret" in v
    }
    issued = {secret for _, secret in linkerd.WEBHOOKS.values()} | {linkerd.IDENTITY_ISSUER}
    assert mounted <= issued, mounted - issued


def test_linkerd_default_webhook_certs_change_on_every_render(helm, chart_source, dev_plan) -> None:
    def old(values: dict[str, Any]) -> None:
        for key in ("proxyInjector", "profileValidator", "policyValidator"):
            values.pop(key)

    result, _ = _render(helm, chart_source, _chart(dev_plan, "linkerd-control-plane"), old)
    unstable = " ".join(_unstable(result))
    assert "Secret linkerd/linkerd-proxy-injector-k8s-tls" in unstable
    assert "checksum/config" in unstable  # hence a restart of injector and destination


@pytest.mark.parametrize("chart", ["linkerd-crds", "cert-manager", "trust-manager"])
def test_other_mesh_charts_render_stably(helm, chart_source, dev_plan, chart: str) -> None:
    result, _ = _render(helm, chart_source, _chart(dev_plan, chart))
    assert result.status == "rendered", result.reason
    assert _unstable(result) == []


# ------------------------------------------------- NVIDIA device plugin


def _plugin_daemonset(objs: list[render.Rendered]) -> dict[str, Any]:
    """The device plugin itself (the MPS control daemon only runs where GFD labels
    ``nvidia.com/mps.capable``)."""
    (ds,) = [
        o.obj
        for o in objs
        if o.obj.get("kind") == "DaemonSet" and o.template.endswith("daemonset-device-plugin.yml")
    ]
    return ds


def test_device_plugin_runs_on_the_gpu_pool_only(helm, chart_source, kuma_export) -> None:
    chart = _chart(kuma_export, "nvidia-device-plugin")
    result, objs = _render(helm, chart_source, chart)
    assert result.status == "rendered", result.reason
    assert _unstable(result) == []
    ds = _plugin_daemonset(objs)
    pod = ds["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "airflow-aks/pool", "operator": "In", "values": ["gpu"]}]}
    ]  # the NFD/GFD label terms (absent on AKS) are gone
    # the rendered DaemonSet, next to the plan's pools, passes the scheduling rules
    req = render.ChartRequest.from_resource(chart)
    children = render.child_resources(req, objs)
    rules = [
        RULES_BY_NAME[n] for n in ("pods-tolerate-their-pool", "pods-select-their-tolerated-pool")
    ]
    assert evaluate([*kuma_export["resources"], *children], "dev", [], rules=rules).open == []
    # ...and without our values it would schedule nowhere on AKS (NFD labels required)
    default = copy.deepcopy(chart)
    default["inputs"]["values"] = {}
    _, objs = _render(helm, chart_source, default)
    ds = _plugin_daemonset(objs)
    keys = {
        e["key"]
        for t in ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        for e in t["matchExpressions"]
    }
    assert "nvidia.com/gpu.present" in keys and "airflow-aks/pool" not in keys
