"""Chart rendering in the plan: a tiny chart written here, rendered by a real Helm.

The chart has one template per behaviour the renderer must see: a Deployment whose
securityContext comes from values, a Secret with a random token (non-deterministic), a
``fail`` switch, a hook (dropped like pulumi-kubernetes does), NOTES.txt and a CRD.
"""

from __future__ import annotations

import copy
import functools
import http.server
import json
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.offline import render
from airflow_aks.policies.rules import evaluate
from tests.conftest import plan_export

REPO = "https://charts.example.test/stable"
URN = "urn:pulumi:dev::airflow-aks::airflow-aks:demo:Demo$kubernetes:helm.sh/v4:Chart::demo-tiny"

CHART_YAML = "apiVersion: v2\nname: tiny\nversion: 0.1.0\n"
VALUES_YAML = """\
image: busybox:1.37.0
elevated: false
token: false
fail: false
app:
  port: 8080
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-app
spec:
  template:
    spec:
      serviceAccountName: tiny
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: {{ .Values.image }}
          ports: [{containerPort: {{ .Values.app.port }}}]
          securityContext:
            privileged: {{ .Values.elevated }}
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
{{- if .Values.fail }}{{ fail "tiny: fail was requested" }}{{ end }}
"""
SECRET = """\
{{- if .Values.token }}
apiVersion: v1
kind: Secret
metadata:
  name: tiny-token
stringData:
  token: {{ randAlphaNum 24 | quote }}
{{- end }}
"""
HOOK = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: tiny-hook
  annotations: {"helm.sh/hook": pre-install}
spec: {template: {spec: {containers: [{name: x, image: "busybox:1.37.0"}]}}}
"""
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.test
spec:
  group: example.test
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
"""


def write_chart(root: Path) -> Path:
    chart = root / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    (chart / "templates" / "secret.yaml").write_text(SECRET)
    (chart / "templates" / "hook.yaml").write_text(HOOK)
    (chart / "templates" / "NOTES.txt").write_text("installed {{ .Release.Name }}\n")
    (chart / "crds" / "widgets.yaml").write_text(CRD)
    return chart


def package(chart: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "tiny-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(chart, arcname="tiny")
    return archive


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A chart cache holding tiny-0.1.0.tgz under the repository's directory."""
    root = tmp_path_factory.mktemp("charts")
    package(write_chart(root / "src"), root / "cache" / "charts.example.test" / "stable")
    return root / "cache"


def chart_resource(values: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    return {
        "urn": URN,
        "type": render.HELM_CHART,
        "name": "demo-tiny",
        "custom": False,
        "parent": "urn:pulumi:dev::airflow-aks::airflow-aks:demo:Demo::demo",
        "provider": None,
        "dependencies": [],
        "propertyDependencies": {},
        "protect": False,
        "inputs": {
            "chart": "tiny",
            "version": "0.1.0",
            "repositoryOpts": {"repo": REPO},
            "namespace": "demo",
            "values": values,
            **inputs,
        },
    }


def rendered(values: dict[str, Any], cache: Path, **opts: Any):
    export = {"project": "airflow-aks", "stack": "dev", "resources": [chart_resource(values)]}
    report = render.attach(export, render.Options(cache=cache, **opts))
    return export, report


def kinds(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["kind"]: r for r in export["resources"] if "renderedFrom" in r}


# ------------------------------------------------------------------ rendering


def test_deterministic_chart_joins_the_export_as_chart_children(cache):
    export, report = rendered({"image": "busybox:1.37.0", "app": {"port": 9090}}, cache)
    [result] = report.results
    assert result.status == "rendered" and result.chart == "tiny 0.1.0"
    assert result.findings == [], result.findings
    children = kinds(export)
    # The hook is dropped and NOTES.txt is no object; the CRD comes with the chart.
    assert set(children) == {"Deployment", "CustomResourceDefinition"}
    dep = children["Deployment"]
    assert dep["type"] == "kubernetes:apps/v1:Deployment"
    assert dep["parent"] == URN and dep["dependencies"] == [URN]
    assert dep["renderedFrom"] == {"chart": URN, "template": "tiny/templates/deployment.yaml"}
    # Named like pulumi-kubernetes names chart children: <chart>:<namespace>/<name>.
    assert dep["name"] == "demo-tiny:demo/demo-tiny-app"
    assert dep["urn"] == (
        "urn:pulumi:dev::airflow-aks::airflow-aks:demo:Demo$kubernetes:helm.sh/v4:Chart"
        "$kubernetes:apps/v1:Deployment::demo-tiny:demo/demo-tiny-app"
    )
    spec = dep["inputs"]["spec"]["template"]["spec"]
    assert dep["inputs"]["metadata"]["namespace"] == "demo"  # the Chart's namespace
    assert spec["containers"][0]["ports"] == [{"containerPort": 9090}]  # the exact values
    crd = children["CustomResourceDefinition"]
    assert "namespace" not in crd["inputs"]["metadata"]  # cluster-scoped
    assert export["charts"]["rendered"] == 1 and export["charts"]["charts"][0]["objects"] == 2


def test_skip_crds_and_release_name_follow_the_chart_inputs(cache):
    res = chart_resource({}, skipCrds=True, name="custom")
    export = {"project": "airflow-aks", "stack": "dev", "resources": [res]}
    render.attach(export, render.Options(cache=cache, probe_keys=False))
    children = kinds(export)
    assert set(children) == {"Deployment"}
    assert children["Deployment"]["inputs"]["metadata"]["name"] == "custom-app"


def test_non_deterministic_render_names_object_and_key_and_masks_the_secret(cache):
    export, report = rendered({"token": True}, cache)
    found = [f for f in report.findings if f.kind == "non-deterministic"]
    assert [f.key for f in found] == ["Secret demo/tiny-token: stringData.token"]
    assert found[0].chart == "tiny 0.1.0" and "every 'pulumi up'" in found[0].message
    secret = kinds(export)["Secret"]
    assert secret["inputs"]["stringData"] == {"token": "[secret]"}
    # The random value itself is nowhere in the export or the messages.
    again = render.SdkHelm().open(
        cache / "charts.example.test/stable/tiny-0.1.0.tgz",
        release="demo-tiny",
        namespace="demo",
        include_crds=False,
    )
    assert "[secret]" not in again.render({"token": True})["tiny/templates/secret.yaml"]
    # A noisy object does not make keys that only touch it look read or ignored.
    assert not [f for f in report.findings if f.kind == "ignored-key"]


def test_failing_render_reports_the_charts_message(cache):
    export, report = rendered({"fail": True}, cache)
    [result] = report.results
    assert result.status == "failed" and report.failed == [result]
    [finding] = result.findings
    assert finding.kind == "render-failed" and finding.level == "error"
    assert "tiny: fail was requested" in finding.message and "tiny 0.1.0" in finding.message
    assert not kinds(export)
    assert "FAILED        tiny 0.1.0: " in render.format_report(report)


def test_ignored_keys_are_named_down_to_the_unread_leaf(cache):
    values = {
        "image": "busybox:1.37.0",
        "imagePullPolcy": "Always",  # misspelt: the chart reads no such key
        "app": {"port": 8080, "replicas": 3},  # port is read, replicas is not
        "extra": {"a": {"b": 1}, "c": [1]},  # a whole unread subtree: reported once
    }
    _, report = rendered(values, cache)
    ignored = sorted(f.key for f in report.findings if f.kind == "ignored-key")
    assert ignored == ["app.replicas", "extra", "imagePullPolcy"]
    assert all(f.chart == "tiny 0.1.0" for f in report.findings)
    text = render.format_report(report)
    assert "values key 'app.replicas' is not read by the chart" in text


def test_probe_budget_is_reported(cache):
    values = {f"k{i}": i for i in range(5)}
    export = {"project": "airflow-aks", "stack": "dev", "resources": [chart_resource(values)]}
    req = render.ChartRequest.from_resource(export["resources"][0])
    helm = render.SdkHelm()
    r = helm.open(
        cache / "charts.example.test/stable/tiny-0.1.0.tgz",
        release="demo-tiny",
        namespace="demo",
        include_crds=True,
    )
    result, _ = render.analyse(req, r, max_probes=2)
    assert result.probes == 2 and "after 2 renders" in result.reason
    assert len([f for f in result.findings if f.kind == "ignored-key"]) == 2


# ------------------------------------------------------------------ the policy pack sees them


def test_privileged_container_in_a_rendered_chart_fails_a_mandatory_rule(cache):
    # The key name means nothing to the values heuristics: only the render shows it.
    export, _ = rendered({"elevated": True}, cache)
    dep = kinds(export)["Deployment"]
    results = evaluate(export["resources"], "dev", [])
    hits = [v for v in results.violations if v.rule == "k8s-no-privileged"]
    assert [(v.urn, v.level) for v in hits] == [(dep["urn"], "mandatory")]
    assert "securityContext.privileged is true" in hits[0].message
    assert not results.ok
    # The same chart with privileged off passes that rule.
    clean, _ = rendered({"elevated": False}, cache, probe_keys=False)
    clean_results = evaluate(clean["resources"], "dev", [])
    assert not [v for v in clean_results.violations if v.rule == "k8s-no-privileged"]


# ------------------------------------------------------------------ sources and the plan


def test_locate_prefers_chart_dirs_and_names_a_wrong_version(cache, tmp_path):
    req = render.ChartRequest.from_resource(chart_resource({}))
    path, why = render.locate(req, [], cache)
    assert path == cache / "charts.example.test/stable/tiny-0.1.0.tgz" and why == ""
    src = write_chart(tmp_path)
    assert render.locate(req, [tmp_path], cache)[0] == src
    (src / "Chart.yaml").write_text(CHART_YAML.replace("0.1.0", "0.2.0"))
    path, why = render.locate(req, [tmp_path], tmp_path / "empty")
    assert path is None and "is version 0.2.0, the plan pins 0.1.0" in why
    local = render.ChartRequest.from_resource(
        chart_resource({}, chart=str(src), repositoryOpts={}, version="")
    )
    assert render.locate(local, [], tmp_path / "empty")[0] == src


@pytest.mark.parametrize(
    ("repo", "chart", "slug"),
    [
        ("https://helm.linkerd.io/edge", "linkerd-crds", "helm.linkerd.io/edge"),
        ("https://charts.jetstack.io/", "cert-manager", "charts.jetstack.io"),
        (None, "oci://ghcr.io/org/charts/app", "ghcr.io/org/charts"),
    ],
)
def test_repo_slug(repo, chart, slug):
    assert render.repo_slug(repo, chart) == slug


def test_shipped_plan_without_chart_sources_says_why(tmp_path):
    export = copy.deepcopy(plan_export("dev"))
    n = len(export["resources"])
    report = render.attach(export, render.Options(cache=tmp_path))
    assert len(export["resources"]) == n  # nothing invented
    charts = {r.chart for r in report.results}
    assert {"airflow 1.22.0", "cert-manager v1.21.1", "linkerd-control-plane 2026.8.3"} <= charts
    assert all(r.status == "not-rendered" for r in report.results)
    assert all(r.reason.startswith(render.NO_SOURCE) for r in report.results)
    text = render.format_report(report)
    assert text.startswith("Charts NOT rendered (5)") and "policy pack did not see them" in text
    assert f"no airflow-1.22.0.tgz, airflow-1.22.0/ or airflow/ in {tmp_path}" in text
    assert "--pull" in text and "--chart-dir" in text

    # Helm is only loaded once some chart has a source (a plan without any stays fast).
    loaded: list[bool] = []

    def no_helm():
        loaded.append(True)
        return None, "no helm"

    render.attach(
        copy.deepcopy(plan_export("dev")), render.Options(cache=tmp_path), helm_factory=no_helm
    )
    assert loaded == []


def test_chart_sources_without_a_helm_say_why(cache):
    export = {"project": "airflow-aks", "stack": "dev", "resources": [chart_resource({})]}
    none = render.attach(
        export, render.Options(cache=cache), helm_factory=lambda: (None, "no helm")
    )
    assert none.reason == "no helm" and "why: no helm" in render.format_report(none)
    assert [r.status for r in none.results] == ["not-rendered"]
    off = render.attach(copy.deepcopy(export), render.Options(enabled=False))
    assert "--no-render" in render.format_report(off)


def test_plan_command_without_chart_sources_exits_as_before(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(render.CACHE_ENV, str(tmp_path))
    out = tmp_path / "plan.json"
    assert cli.main(["plan", "--stack", "dev", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Charts NOT rendered (5)" in text and render.NO_SOURCE in text
    assert json.loads(out.read_text())["charts"]["notRendered"] == 5


def test_pull_fills_the_cache_through_helm(tmp_path):
    """--pull: the Helm implementation downloads from the chart repository (a local one)."""
    import helm_python

    repo_dir = tmp_path / "repo"
    package(write_chart(tmp_path / "src"), repo_dir)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(repo_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    helm_python.repo_index_generate(str(repo_dir), base_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        res = chart_resource({})
        res["inputs"]["repositoryOpts"] = {"repo": url}
        export = {"project": "airflow-aks", "stack": "dev", "resources": [res]}
        cache = tmp_path / "cache"
        report = render.attach(export, render.Options(cache=cache, pull=True, probe_keys=False))
    finally:
        server.shutdown()
        server.server_close()
    assert report.results[0].status == "rendered", report.results[0].reason
    slug = render.repo_slug(url, "tiny")
    assert (cache / slug / "tiny-0.1.0.tgz").is_file()


# ------------------------------------------------------------------ the helm binary's plumbing


def test_helm_template_argv_and_output_split(tmp_path):
    argv = render.template_argv(
        "helm", Path("c"), Path("v.json"), release="r", namespace="ns", include_crds=True
    )
    assert argv == [
        "helm", "template", "r", "c", "--namespace", "ns",
        "--values", "v.json", "--no-hooks", "--include-crds",
    ]  # fmt: skip
    out = (
        "---\n# Source: tiny/crds/w.yaml\nkind: CustomResourceDefinition\n"
        "---\n# Source: tiny/templates/a.yaml\nkind: A\n"
        "---\n# Source: tiny/templates/a.yaml\nkind: B\n"
    )
    split = render.split_template_output(out)
    assert sorted(split) == ["tiny/crds/w.yaml", "tiny/templates/a.yaml"]
    objs = render.parse_manifests(
        {
            k: v.replace("kind: ", "apiVersion: v1\nmetadata: {name: x}\nkind: ")
            for k, v in split.items()
        },
        "ns",
    )
    assert [o.obj["kind"] for o in objs] == ["CustomResourceDefinition", "A", "B"]


def test_diff_paths():
    assert render.diff_paths({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}) == ["b[1]"]
    assert render.diff_paths({"a": {"x": 1}}, {"a": {}}) == ["a.x"]
    assert render.diff_paths([1], [1, 2]) == ["(whole)"]


def test_documents_split_like_helm_does() -> None:
    """Helm splits on '---' even when a comment follows on the same line (cert-manager
    v1.21.1 rbac.yaml renders '---# Permission to ...'); so must we."""
    text = (
        "kind: ConfigMap\nmetadata: {name: a}\n"
        "---# a comment glued to the separator\n"
        "kind: ConfigMap\nmetadata: {name: b}\n"
    )
    objs = render.parse_manifests({"x/templates/cm.yaml": text}, "ns")
    assert [o.obj["metadata"]["name"] for o in objs] == ["a", "b"]
