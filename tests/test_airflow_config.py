"""``airflow-aks:airflow`` config model and its wiring into the plan (dev and prod)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airflow_aks.components.airflow import values as V
from airflow_aks.config.airflow import AirflowConfig
from airflow_aks.program.assemble import git_sync_args


def test_defaults_are_the_pins() -> None:
    cfg = AirflowConfig()
    assert (cfg.chart_version, cfg.image_tag, cfg.airflow_version) == (
        V.CHART_VERSION,
        V.AIRFLOW_IMAGE_TAG,
        V.AIRFLOW_VERSION,
    )
    assert cfg.git_sync is None  # DAGs baked into the image by default


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"imageTag": "latest"}, "imageTag"),
        ({"chartVersion": "1.22"}, "chartVersion"),
        ({"airflowVersion": "2.11.0"}, "airflowVersion"),
        ({"replicas": {"schedulr": 2}}, "replicas"),
        ({"replicas": {"scheduler": 0}}, "replicas"),
        ({"gitSync": {"repo": "https://u:p@github.com/o/d.git"}}, "repo"),
        ({"gitSync": {"repo": "ftp://x/y"}}, "repo"),
        ({"gitSync": {"repo": "https://github.com/o/d.git", "username": "git"}}, "gitTokenSecret"),
        ({"imageTagg": "3.3.2"}, "imageTagg"),
    ],
)
def test_invalid(raw: dict, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        AirflowConfig.model_validate(raw)
    assert key in str(err.value)


def test_component_args_from_config() -> None:
    cfg = AirflowConfig.model_validate(
        {
            "gitSync": {"repo": "https://github.com/o/d.git", "username": "git"},
            "gitTokenSecret": "airflow-git-token",
            "replicas": {"scheduler": 3},
        }
    )
    assert git_sync_args(cfg) == {
        "repo": "https://github.com/o/d.git",
        "branch": "main",
        "sub_path": "dags",
        "period": "60s",
        "username": "git",
    }
    assert git_sync_args(AirflowConfig()) is None
    assert cfg.git_token_secret == "airflow-git-token"
    assert cfg.replicas == {"scheduler": 3}


@pytest.mark.parametrize(("stack", "replicas"), [("dev", 1), ("prod", 2)])
def test_plan_shows_the_airflow_release(stack: str, replicas: int, request) -> None:
    export = request.getfixturevalue(f"{stack}_plan")
    charts = [
        r
        for r in export["resources"]
        if r["type"] == "kubernetes:helm.sh/v4:Chart" and r["name"] == "airflow-chart"
    ]
    assert len(charts) == 1
    v = charts[0]["inputs"]["values"]
    assert v["executor"] == "KubernetesExecutor"
    for comp in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
        assert v[comp]["enabled"] is True
        assert v[comp]["labels"][V.WORKLOAD_IDENTITY_LABEL] == "true"
    assert v["scheduler"]["replicas"] == v["apiServer"]["replicas"] == replicas
    assert v["workers"]["kubernetes"]["labels"][V.WORKLOAD_IDENTITY_LABEL] == "true"
    assert v["config"]["logging"]["remote_logging"] == "True"
    assert v["enableBuiltInSecretEnvVars"]["AIRFLOW__CORE__FERNET_KEY"] is False
    vol = v["scheduler"]["extraVolumes"][0]["csi"]["volumeAttributes"]
    assert vol == {"secretProviderClass": "airflow-control-plane-kv"}
    types = {r["type"] for r in export["resources"]}
    assert "airflow-aks:index:Airflow" in types
    assert "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass" in types


@pytest.mark.parametrize("name", ["airflow-metadata-connection", "airflow-fernet-key", "bad_name"])
def test_task_secret_names_refuse_control_plane_and_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="taskSecretNames"):
        AirflowConfig.model_validate({"taskSecretNames": [name]})


def test_tasks_never_get_the_whole_vault(prod_plan) -> None:
    import re

    grants = [
        r
        for r in prod_plan["resources"]
        if r["type"] == "azure-native:authorization:RoleAssignment" and "-tasks-" in r["name"]
    ]
    assert [g for g in grants if g["inputs"]["scope"].endswith("/containers/airflow-logs")]
    for g in grants:
        assert not re.search(r"/vaults/[^/]+$", g["inputs"]["scope"]), g["urn"]
