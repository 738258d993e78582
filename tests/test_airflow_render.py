"""The Airflow chart 1.22.0 rendered with the stacks' own values: the facts the offline rules
model from the values (``policies/rules/_airflow_chart.py``) hold for the real templates.

The chart's sources are never part of the repository; without them every test here skips
with an ``enable:`` hint (``AIRFLOW_AKS_CHART_DIRS`` with an ``airflow-1.22.0/`` or
``airflow/`` directory, e.g. ``chart/`` of apache/airflow at tag ``helm-chart/1.22.0``, or
``AIRFLOW_AKS_GIT_MIRRORS`` holding ``apache+airflow/repo``). The old values are rendered
too, to show the defect each change removes.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import plan_export

# fixtures shared with the mesh chart renders (pytest finds them by these names)
from test_mesh_render import _chart, _objects, _render, chart_source, helm  # noqa: F401

from airflow_aks.components.airflow import values as V

WI = "azure.workload.identity/use"


@pytest.fixture(scope="module", params=["dev", "prod"])
def airflow_chart(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _chart(plan_export(request.param), "airflow")


@pytest.fixture(scope="module")
def render_chart(request: pytest.FixtureRequest) -> Any:
    """``render_chart(resource, edit=None) -> (result, objects)`` with the shared Helm and
    chart-source fixtures of the mesh renders (they skip with an ``enable:`` hint)."""
    impl, source = request.getfixturevalue("helm"), request.getfixturevalue("chart_source")
    return lambda resource, edit=None: _render(impl, source, resource, edit)


def _pod_template(objs: list[Any], release: str) -> dict[str, Any]:
    (cm,) = [
        c
        for c in _objects(objs, "ConfigMap")
        if c["metadata"]["name"] == V.chart_config_map_name(release)
    ]
    return yaml.safe_load(cm["data"]["pod_template_file.yaml"])


def test_executor_pod_template_mounts_the_config_map_we_copy(render_chart, airflow_chart) -> None:
    """Defect 4: the pod template's ConfigMap is the one the component copies into every
    task namespace (``values.chart_config_map_name``), and it runs as the tasks account."""
    result, objs = render_chart(airflow_chart)
    assert result.status == "rendered", result.reason
    release = airflow_chart["inputs"].get("name") or "airflow"
    pod = _pod_template(objs, release)
    config = [v for v in pod["spec"]["volumes"] if v["name"] == "config"]
    assert config[0]["configMap"]["name"] == V.chart_config_map_name(release)
    assert pod["spec"]["serviceAccountName"] == "airflow-tasks"


def test_no_pod_launch_rights_in_the_control_plane_namespace(render_chart, airflow_chart) -> None:
    """Defect 12: with allowPodLaunching false the chart renders no Role granting pods
    create or exec; with the old value it bound the task ServiceAccount to both."""
    _, objs = render_chart(airflow_chart)
    for role in (*_objects(objs, "Role"), *_objects(objs, "ClusterRole")):
        for rule in role.get("rules") or []:
            assert not {"pods", "pods/exec"} & set(rule.get("resources") or []), role["metadata"]
    _, old = render_chart(airflow_chart, lambda v: v.update(allowPodLaunching=True))
    subjects = [
        s["name"]
        for b in _objects(old, "RoleBinding")
        if b["roleRef"]["name"].endswith("pod-launcher-role")
        for s in b["subjects"]
    ]
    assert "airflow-tasks" in subjects


def test_dag_processor_pod_has_the_workload_identity_label(render_chart, airflow_chart) -> None:
    """Defect 11: the label reaches the DAG processor's pod (global labels)."""
    _, objs = render_chart(airflow_chart)
    (dp,) = [
        d for d in _objects(objs, "Deployment") if d["metadata"]["name"].endswith("dag-processor")
    ]
    assert dp["spec"]["template"]["metadata"]["labels"].get(WI) == "true"
