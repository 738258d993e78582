"""The Airflow chart values builder: schema-valid for dev/prod x linkerd/kuma/none, and one
table-driven test per decision. No Pulumi, no mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_aks.components.airflow import values as V
from airflow_aks.components.airflow.signin_config import SignInSettings
from airflow_aks.components.mesh import detached_mesh
from airflow_aks.components.scheduling import pool_placement

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "charts" / "airflow" / "values.schema.json"

TENANT = "00000000-0000-0000-0000-0000000000aa"
CP_CLIENT = "11111111-1111-1111-1111-111111111111"
TASKS_CLIENT = "22222222-2222-2222-2222-222222222222"


def mesh_settings(mesh: Any) -> V.MeshPodSettings:
    """The pod settings the Airflow component derives from a mesh."""
    return V.MeshPodSettings(
        service_labels=dict(mesh.pod_labels("service")),
        service_annotations=dict(mesh.pod_annotations("service")),
        job_labels=dict(mesh.pod_labels("job")),
        job_annotations=dict(mesh.pod_annotations("job")),
        token_annotations=token.annotations() if (token := mesh.sidecar_token()) else {},
        token_volume=token.volume() if token else None,
    )


def mesh_of(provider: str) -> V.MeshPodSettings:
    return mesh_settings(detached_mesh(provider))


TASK_PLACEMENT = pool_placement(
    "tasks", ["airflow-aks/pool=tasks:NoSchedule"], {"airflow-aks/pool": "tasks"}, spot=True
)
GPU_PLACEMENT = pool_placement(
    "gpu", ["nvidia.com/gpu=present:NoSchedule"], {"airflow-aks/pool": "gpu"}
)


def make(environment: str = "dev", mesh: str = "linkerd", **kw: Any) -> V.AirflowValuesInput:
    base: dict[str, Any] = {
        "environment": environment,
        "namespace": "airflow",
        "tenant_id": TENANT,
        "control_plane_client_id": CP_CLIENT,
        "tasks_client_id": TASKS_CLIENT,
        "secret_provider_class": "airflow-control-plane-kv",
        "key_vault_name": f"kv-airflow-{environment}",
        "storage_account": f"stairflow{environment}",
        "logs_container": "airflow-logs",
        "mesh": mesh_of(mesh),
        "task_placement": TASK_PLACEMENT,
    }
    base.update(kw)
    return V.AirflowValuesInput(**base)


GIT_TOKEN = {
    "git_sync": V.GitSync(repo="https://github.com/org/dags.git", username="git"),
    "tasks_secret_provider_class": "airflow-tasks-kv",
    "key_vault_objects": V.KeyVaultObjects(git_token="airflow-git-token"),
}
GIT_PUBLIC = {"git_sync": V.GitSync(repo="https://github.com/org/dags.git")}


# ---------------------------------------------------------------- chart schema


@pytest.fixture(scope="module")
def validator():
    if not SCHEMA.is_file():
        pytest.skip(
            f"chart schema not found at {SCHEMA}; enable: check out the shared repository "
            "beside this one (../shared/charts/airflow/values.schema.json)"
        )
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def _errors(validator, values: dict) -> list[str]:
    return [
        f"{'.'.join(map(str, e.path))}: {e.message[:200]}" for e in validator.iter_errors(values)
    ]


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("mesh", ["linkerd", "kuma", "none"])
@pytest.mark.parametrize("dags", ["baked", "git-public", "git-token"])
def test_values_match_chart_schema(validator, environment: str, mesh: str, dags: str) -> None:
    extra = {"baked": {}, "git-public": GIT_PUBLIC, "git-token": GIT_TOKEN}[dags]
    assert _errors(validator, V.build_values(make(environment, mesh, **extra))) == []


def test_schema_catches_a_misspelt_key(validator) -> None:
    """The validation is not vacuous: a typo in a strict section fails."""
    values = V.build_values(make(helm_values={"scheduler": {"replica": 3}}))
    assert any("replica" in e for e in _errors(validator, values))


# ---------------------------------------------------------------- executor, components, HA


def test_executor_and_separate_components() -> None:
    v = V.build_values(make())
    assert v["executor"] == "KubernetesExecutor"
    for key in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
        assert v[key]["enabled"] is True, key


@pytest.mark.parametrize(
    ("environment", "replicas", "pdb"),
    [("dev", 1, False), ("prod", 2, True)],
)
@pytest.mark.parametrize("key", ["scheduler", "apiServer", "dagProcessor", "triggerer"])
def test_replicas_and_pdbs(environment: str, replicas: int, pdb: bool, key: str) -> None:
    v = V.build_values(make(environment))
    assert v[key]["replicas"] == replicas
    assert v[key]["podDisruptionBudget"] == {"enabled": pdb, "config": {"maxUnavailable": 1}}


@pytest.mark.parametrize(
    ("environment", "component", "overrides", "expected"),
    [
        ("dev", "scheduler", {}, 1),
        ("prod", "scheduler", {}, 2),
        ("prod", "apiServer", {"apiServer": 3}, 3),
        ("dev", "triggerer", {"scheduler": 4}, 1),
    ],
)
def test_replicas_decision(environment, component, overrides, expected) -> None:
    assert V.replicas(environment, component, overrides) == expected


def test_replicas_below_one_rejected() -> None:
    with pytest.raises(ValueError, match="replicas"):
        V.replicas("prod", "scheduler", {"scheduler": 0})


def test_prod_spreads_over_zones() -> None:
    prod, dev = V.build_values(make("prod")), V.build_values(make("dev"))
    tsc = prod["apiServer"]["topologySpreadConstraints"][0]
    assert tsc["topologyKey"] == "topology.kubernetes.io/zone"
    assert tsc["labelSelector"]["matchLabels"] == {"component": "api-server"}
    assert "topologySpreadConstraints" not in dev["apiServer"]


# ---------------------------------------------------------------- identity


POD_LABEL_PATHS = [
    ("scheduler", "labels"),
    ("apiServer", "labels"),
    ("dagProcessor", "labels"),
    ("triggerer", "labels"),
    ("migrateDatabaseJob", "labels"),
    ("createUserJob", "labels"),
    ("workers", "labels"),
    ("workers", "kubernetes", "labels"),
]


def dig(d: dict, *path: str) -> Any:
    for p in path:
        d = d[p]
    return d


@pytest.mark.parametrize("mesh", ["linkerd", "kuma", "none"])
@pytest.mark.parametrize("path", POD_LABEL_PATHS, ids=lambda p: ".".join(p))
def test_workload_identity_label_on_every_pod(mesh: str, path: tuple[str, ...]) -> None:
    v = V.build_values(make(mesh=mesh))
    assert dig(v, *path)[V.WORKLOAD_IDENTITY_LABEL] == "true"


def test_identity_label_cannot_be_overridden_by_mesh_labels() -> None:
    assert V.identity_labels({V.WORKLOAD_IDENTITY_LABEL: "false", "a": "b"}) == {
        V.WORKLOAD_IDENTITY_LABEL: "true",
        "a": "b",
    }


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (("scheduler",), "airflow-scheduler"),
        (("apiServer",), "airflow-api-server"),
        (("dagProcessor",), "airflow-dag-processor"),
        (("triggerer",), "airflow-triggerer"),
        (("migrateDatabaseJob",), "airflow-migrate-database"),
        (("createUserJob",), "airflow-create-user"),
        (("workers",), "airflow-tasks"),
        (("workers", "kubernetes"), "airflow-tasks"),
    ],
)
def test_our_service_accounts_chart_creates_none(path: tuple[str, ...], name: str) -> None:
    v = V.build_values(make())
    assert dig(v, *path)["serviceAccount"] == {"create": False, "name": name}


def test_service_account_names_are_configurable() -> None:
    sas = V.ServiceAccountNames(scheduler="s", tasks="t")
    v = V.build_values(make(service_accounts=sas))
    assert v["scheduler"]["serviceAccount"]["name"] == "s"
    assert v["workers"]["kubernetes"]["serviceAccount"]["name"] == "t"
    assert "t" not in sas.control_plane() and "s" in sas.control_plane()


# ---------------------------------------------------------------- mesh


@pytest.mark.parametrize("mesh", ["linkerd", "kuma", "none"])
def test_mesh_settings_by_pod_kind(mesh: str) -> None:
    m = mesh_of(mesh)
    v = V.build_values(make(mesh=mesh))
    for key in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
        assert v[key]["podAnnotations"] == {**m.service_annotations, **m.token_annotations}
        assert v[key]["labels"] == {**m.service_labels, V.WORKLOAD_IDENTITY_LABEL: "true"}
    for key in ("migrateDatabaseJob", "createUserJob"):
        assert v[key]["annotations"] == {**m.job_annotations, **m.token_annotations}, key
        assert v[key]["labels"] == {**m.job_labels, V.WORKLOAD_IDENTITY_LABEL: "true"}
    assert v["workers"]["kubernetes"]["podAnnotations"] == dict(m.job_annotations)
    assert v["workers"]["podAnnotations"] == dict(m.job_annotations)
    env = {e["name"]: e["value"] for e in v["env"]}
    assert json.loads(env["AIRFLOW_AKS_TASK_POD_ANNOTATIONS"]) == dict(m.job_annotations)
    assert json.loads(env["AIRFLOW_AKS_TASK_POD_LABELS"]) == {
        **m.job_labels,
        V.WORKLOAD_IDENTITY_LABEL: "true",
    }


def test_no_mesh_means_no_mesh_settings() -> None:
    v = V.build_values(make(mesh="none"))
    assert v["scheduler"]["podAnnotations"] == {}
    assert v["workers"]["kubernetes"]["podAnnotations"] == {}
    assert v["workers"]["kubernetes"]["labels"] == {V.WORKLOAD_IDENTITY_LABEL: "true"}


# What lets a meshed run-to-completion pod finish, per mesh (named, not merely "differs").
# Linkerd: the proxy runs as a native sidecar, which the kubelet stops once the main
# container exits (config.linkerd.io/proxy-enable-native-sidecar; linkerd2 #8006). Kuma: the
# sidecar is native by chart default (experimental.sidecarContainers, research/charts.md);
# the pod waits for its data plane before the app's first connection.
JOB_SETTINGS = {
    "linkerd": {"config.linkerd.io/proxy-enable-native-sidecar": "true"},
    "kuma": {"kuma.io/wait-for-dataplane-ready": "true"},
}


@pytest.mark.parametrize("mesh", ["linkerd", "kuma"])
def test_meshed_jobs_get_run_to_completion_settings(mesh: str) -> None:
    """Task pods and the migration / user Jobs carry the setting that lets them finish, are
    still meshed (not opted out), and long-running pods do not get it."""
    v = V.build_values(make(mesh=mesh))
    expected = JOB_SETTINGS[mesh].items()
    jobs = {
        "workers.kubernetes": v["workers"]["kubernetes"]["podAnnotations"],
        "migrateDatabaseJob": v["migrateDatabaseJob"]["annotations"],
        "createUserJob": v["createUserJob"]["annotations"],
    }
    for where, ann in jobs.items():
        assert expected <= ann.items(), where
        assert "disabled" not in ann.values(), where
    assert not expected <= v["scheduler"]["podAnnotations"].items()
    assert not expected <= v["apiServer"]["podAnnotations"].items()


# ---------------------------------------------------------------- secrets


def test_builtin_secret_env_vars_all_off() -> None:
    v = V.build_values(make())
    assert v["enableBuiltInSecretEnvVars"] == {
        "AIRFLOW__CORE__FERNET_KEY": False,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": False,
        "AIRFLOW_CONN_AIRFLOW_DB": False,
        "AIRFLOW__API__SECRET_KEY": False,
        "AIRFLOW__API_AUTH__JWT_SECRET": False,
    }


def test_chart_renders_no_secret_of_its_own() -> None:
    """With these names set the chart skips its randAlphaNum / default Secrets."""
    v = V.build_values(make(release_name="af"))
    assert v["data"]["metadataSecretName"] == "af-metadata-from-key-vault"
    assert v["fernetKeySecretName"] == "af-fernet-key-from-key-vault"
    assert v["apiSecretKeySecretName"] == "af-api-secret-key-from-key-vault"
    assert v["jwtSecretName"] == "af-jwt-secret-from-key-vault"
    for key in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert key not in v
    assert "metadataConnection" not in v["data"]


EXPECTED_CMD = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD": "cat /mnt/secrets-store/airflow-metadata-connection",
    "AIRFLOW__CORE__FERNET_KEY_CMD": "cat /mnt/secrets-store/airflow-fernet-key",
    "AIRFLOW__API__SECRET_KEY_CMD": "cat /mnt/secrets-store/airflow-api-secret-key",
    "AIRFLOW__API_AUTH__JWT_SECRET_CMD": "cat /mnt/secrets-store/airflow-jwt-secret",
}


@pytest.mark.parametrize(
    "key",
    ["scheduler", "apiServer", "dagProcessor", "triggerer", "migrateDatabaseJob", "createUserJob"],
)
def test_control_plane_pods_mount_key_vault_and_read_files(key: str) -> None:
    v = V.build_values(make())
    c = v[key]
    assert c["extraVolumes"] == [
        {
            "name": "airflow-kv",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "airflow-control-plane-kv"},
            },
        }
    ]
    assert c["extraVolumeMounts"] == [
        {"name": "airflow-kv", "mountPath": "/mnt/secrets-store", "readOnly": True}
    ]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert {k: env[k] for k in EXPECTED_CMD} == EXPECTED_CMD
    if key in V.CONTROL_PLANE:  # the wait-for-migrations init container too
        wenv = {e["name"]: e["value"] for e in c["waitForMigrations"]["env"]}
        assert wenv == EXPECTED_CMD


def test_task_pods_get_no_control_plane_secret() -> None:
    v = V.build_values(make(**GIT_TOKEN))
    k = v["workers"]["kubernetes"]
    names = {e["name"] for e in k["env"]}
    assert not names & set(EXPECTED_CMD)
    spcs = [vol["csi"]["volumeAttributes"]["secretProviderClass"] for vol in k["extraVolumes"]]
    assert spcs == ["airflow-tasks-kv"]  # only the tasks' own SPC (git token)
    assert not any("_CMD" in e["name"] for e in v["env"])  # global env reaches task pods


def test_task_pods_mount_nothing_without_task_secrets() -> None:
    k = V.build_values(make())["workers"]["kubernetes"]
    assert k["extraVolumes"] == [] and k["extraVolumeMounts"] == []


@pytest.mark.parametrize(
    ("admin_object", "expected_fragment"),
    [
        (None, "--use-random-password"),
        ("airflow-admin-password", '-p "$(cat /mnt/secrets-store/airflow-admin-password)"'),
    ],
)
def test_create_user_never_uses_a_literal_password(admin_object, expected_fragment) -> None:
    objs = V.KeyVaultObjects(admin_password=admin_object)
    v = V.build_values(make(key_vault_objects=objs))
    job = v["createUserJob"]
    assert expected_fragment in job["args"][-1]
    assert job["defaultUser"]["password"] == ""


def test_key_vault_objects_split_by_identity() -> None:
    objs = V.KeyVaultObjects(git_token="gt", admin_password="ap")
    assert objs.control_plane_objects() == [
        "airflow-metadata-connection",
        "airflow-fernet-key",
        "airflow-api-secret-key",
        "airflow-jwt-secret",
        "ap",
        "gt",
    ]
    assert objs.task_objects() == ["gt"]
    assert V.KeyVaultObjects().task_objects() == []


# ---------------------------------------------------------------- remote logging


def test_remote_logging_to_blob_through_identity() -> None:
    v = V.build_values(make())
    assert v["config"]["logging"]["remote_logging"] == "True"
    assert v["config"]["logging"]["remote_base_log_folder"] == "wasb://task-logs"
    assert v["config"]["logging"]["remote_log_conn_id"] == "wasb_logs"
    assert v["config"]["azure_remote_logging"] == {"remote_wasb_log_container": "airflow-logs"}


@pytest.mark.parametrize(
    ("path", "client_id"),
    [
        (("scheduler",), CP_CLIENT),
        (("apiServer",), CP_CLIENT),
        (("triggerer",), CP_CLIENT),
        (("dagProcessor",), CP_CLIENT),
        (("workers", "kubernetes"), TASKS_CLIENT),
    ],
)
def test_log_connection_has_no_secret_and_the_pods_identity(path, client_id) -> None:
    env = {e["name"]: e["value"] for e in dig(V.build_values(make()), *path)["env"]}
    conn = json.loads(env["AIRFLOW_CONN_WASB_LOGS"])
    assert conn == {
        "conn_type": "wasb",
        "host": "https://stairflowdev.blob.core.windows.net",
        "extra": {"managed_identity_client_id": client_id, "workload_identity_tenant_id": TENANT},
    }
    assert "password" not in conn and "login" not in conn


# ---------------------------------------------------------------- security, resources, images


def containers_groups(v: dict) -> dict[str, dict]:
    """Every container group the chart renders for us -> its values block."""
    groups = {k: v[k] for k in (*V.CONTROL_PLANE, *V.JOBS)}
    groups["workers.kubernetes"] = v["workers"]["kubernetes"]
    groups["statsd"] = v["statsd"]
    for k in ("scheduler", "dagProcessor", "triggerer"):
        groups[f"{k}.logGroomerSidecar"] = v[k]["logGroomerSidecar"]
    if v["dags"]["gitSync"]["enabled"]:
        groups["gitSync"] = v["dags"]["gitSync"]
    return groups


RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_container_restricted_with_requests_and_limits(environment: str) -> None:
    v = V.build_values(make(environment, **GIT_TOKEN))
    for name, g in containers_groups(v).items():
        assert g["securityContexts"]["container"] == RESTRICTED, name
        if "pod" in g["securityContexts"]:
            pod = g["securityContexts"]["pod"]
            assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, name
            assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        res = g["resources"]
        assert set(res["requests"]) == set(res["limits"]) == {"cpu", "memory"}, name
    for key in V.CONTROL_PLANE:  # init containers
        assert v[key]["waitForMigrations"]["securityContexts"]["container"] == RESTRICTED
    assert v["securityContexts"]["containers"] == RESTRICTED


def test_resources_override_per_key() -> None:
    r = V.Resources("2", "4Gi", "4", "8Gi")
    v = V.build_values(make(resources={"workers": r}))
    assert v["workers"]["kubernetes"]["resources"] == r.as_dict()


@pytest.mark.parametrize(
    ("tag", "ok"),
    [("3.3.2", True), ("3.3.2-python3.12", True), ("latest", False), ("", False), ("x:y", False)],
)
def test_image_tags_are_pinned(tag: str, ok: bool) -> None:
    if ok:
        assert V.validate_image_tag(tag) == tag
    else:
        with pytest.raises(ValueError):
            V.validate_image_tag(tag)


def test_no_latest_anywhere_and_pins_recorded() -> None:
    v = V.build_values(make(**GIT_PUBLIC))
    assert v["images"]["airflow"] == {
        "repository": "apache/airflow",
        "tag": V.AIRFLOW_IMAGE_TAG,
        "pullPolicy": "IfNotPresent",
    }
    assert v["defaultAirflowTag"] == v["airflowVersion"] == V.AIRFLOW_VERSION
    assert "latest" not in json.dumps(v)
    assert V.CHART_VERSION == "1.22.0" and V.PINS_CHECKED == "2026-11-23"
    with pytest.raises(ValueError, match="latest"):
        V.build_values(make(image_tag="latest"))


@pytest.mark.parametrize("key", V.JOBS)
def test_jobs_are_plain_jobs_without_helm_hooks(key: str) -> None:
    job = V.build_values(make())[key]
    assert job["useHelmHooks"] is False and job["enabled"] is True


def test_metrics_on_with_dag_tags() -> None:
    v = V.build_values(make())
    assert v["statsd"]["enabled"] is True
    assert v["config"]["metrics"] == {
        "statsd_on": "True",
        "statsd_datadog_enabled": "True",
        "statsd_host": "airflow-statsd.airflow.svc.cluster.local",
    }


def test_no_in_cluster_state_services() -> None:
    v = V.build_values(make())
    for key in ("postgresql", "redis", "pgbouncer", "flower"):
        assert v[key] == {"enabled": False}, key
    assert v["logs"]["persistence"]["enabled"] is False
    assert v["triggerer"]["persistence"] == {"enabled": False}


@pytest.mark.parametrize(("enabled", "has_backend"), [(True, True), (False, False)])
def test_key_vault_secrets_backend(enabled: bool, has_backend: bool) -> None:
    cfg = V.build_values(make(key_vault_secrets_backend=enabled))["config"]
    assert ("secrets" in cfg) is has_backend
    if has_backend:
        kwargs = json.loads(cfg["secrets"]["backend_kwargs"])
        assert kwargs["vault_url"] == "https://kv-airflow-dev.vault.azure.net/"
        assert set(kwargs) == {"vault_url", "connections_prefix", "variables_prefix", "sep"}


# ---------------------------------------------------------------- DAG delivery


def test_baked_dags() -> None:
    d = V.build_values(make())["dags"]
    assert d == {"persistence": {"enabled": False}, "gitSync": {"enabled": False}}


def test_git_sync_public() -> None:
    g = V.build_values(make(**GIT_PUBLIC))["dags"]["gitSync"]
    assert g["enabled"] is True and g["repo"] == "https://github.com/org/dags.git"
    assert g["branch"] == "main" and g["subPath"] == "dags"
    assert g["env"] == [] and g["extraVolumeMounts"] == []


def test_git_sync_token_from_key_vault_file() -> None:
    v = V.build_values(make(**GIT_TOKEN))
    g = v["dags"]["gitSync"]
    assert g["env"] == [
        {"name": "GITSYNC_USERNAME", "value": "git"},
        {"name": "GITSYNC_PASSWORD_FILE", "value": "/mnt/secrets-store/airflow-git-token"},
    ]
    assert g["extraVolumeMounts"] == [V.csi_mount()]
    assert "credentialsSecret" not in g and "sshKeySecret" not in g


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"git_sync": V.GitSync(repo="https://github.com/o/d.git", username="git")}, "git_token"),
        (
            {
                "git_sync": V.GitSync(repo="https://github.com/o/d.git", username="git"),
                "key_vault_objects": V.KeyVaultObjects(git_token="t"),
            },
            "tasks_secret_provider_class",
        ),
        ({"git_sync": V.GitSync(repo="https://u:p@github.com/o/d.git")}, "credentials"),
        ({"git_sync": V.GitSync(repo="ftp://github.com/o/d.git")}, "https or ssh"),
    ],
    ids=["no-token-object", "no-tasks-spc", "creds-in-url", "bad-scheme"],
)
def test_git_sync_rejects(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        V.build_values(make(**kw))


# ---------------------------------------------------------------- escape hatch, DAG env


def test_helm_values_merge_last() -> None:
    v = V.build_values(
        make(helm_values={"scheduler": {"replicas": 5}, "config": {"core": {"parallelism": 64}}})
    )
    assert v["scheduler"]["replicas"] == 5
    assert v["scheduler"]["serviceAccount"]["name"] == "airflow-scheduler"  # merged, not replaced
    assert v["config"]["core"] == {
        "load_examples": "False",
        "execution_api_server_url": V.execution_api_url("airflow", "airflow"),
        "parallelism": 64,
    }


def test_platform_env_for_dags() -> None:
    env = {e["name"]: e["value"] for e in V.build_values(make(**GIT_TOKEN))["env"]}
    assert env["AIRFLOW_AKS_NAMESPACE"] == "airflow-tasks"
    assert env["AIRFLOW_AKS_TASK_SERVICE_ACCOUNT"] == "airflow-tasks"
    assert env["AIRFLOW_AKS_KEY_VAULT_URL"] == "https://kv-airflow-dev.vault.azure.net/"
    assert env["AIRFLOW_AKS_STORAGE_ACCOUNT"] == "stairflowdev"
    assert env["AIRFLOW_AKS_GIT_TOKEN_FILE"] == "/mnt/secrets-store/airflow-git-token"


def test_dags_helper_reads_what_values_write() -> None:
    """dags/_platform.py and the values agree on the env contract."""
    import sys

    sys.path.insert(0, str(ROOT / "dags"))
    import _platform

    env = {e["name"]: e["value"] for e in V.build_values(make(mesh="kuma"))["env"]}
    m = mesh_of("kuma")
    assert _platform.task_service_account(env) == "airflow-tasks"
    assert _platform.namespace(env) == "airflow-tasks"
    assert _platform.task_pod_annotations(env) == dict(m.job_annotations)
    assert _platform.task_pod_labels(env)[V.WORKLOAD_IDENTITY_LABEL] == "true"


# ---------------------------------------------------------------- no secret literal

SECRET_KEYS = re.compile(
    r"^(pass(word)?|.*secret(_?key)?|.*token|fernet_?key|.*(account|access|private)_?key"
    r"|client_?secret|credentials?|connection(_?string)?)$",
    re.I,
)
SECRET_VALUES = [
    re.compile(r"AccountKey=", re.I),
    re.compile(r"SharedAccessSignature|[?&]sig=", re.I),
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # userinfo with a password in a URL
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^[A-Za-z0-9+/_-]{40,}={0,2}$"),  # long opaque base64-ish blob
    re.compile(r"^[A-Za-z0-9_-]{43}=$"),  # a fernet key
]
ALLOWED_KEY_PATHS = {  # keys whose *names* look secret but hold names/paths, not values
    "fernetKeySecretName",
    "apiSecretKeySecretName",
    "jwtSecretName",
    "metadataSecretName",
}


def walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, obj


def secret_literals(values: dict) -> list[str]:
    found = []
    for path, value in walk(values):
        if not isinstance(value, str) or not value:
            continue
        leaf = path.rsplit(".", 1)[-1]
        if SECRET_KEYS.search(leaf) and leaf not in ALLOWED_KEY_PATHS:
            found.append(f"{path} (secret-looking key with a value)")
        for rx in SECRET_VALUES:
            if rx.search(value):
                found.append(f"{path} (matches {rx.pattern})")
        # env var items: name/value pairs whose name says secret must be *_CMD / *_FILE
        if path.endswith(".name") and re.search(r"(PASSWORD|SECRET|TOKEN|KEY)$", value):
            found.append(f"{path} (env var {value} given as a literal)")
    return found


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("mesh", ["linkerd", "kuma", "none"])
def test_no_secret_literal_in_values(environment: str, mesh: str) -> None:
    objs = V.KeyVaultObjects(git_token="airflow-git-token", admin_password="airflow-admin-pw")
    v = V.build_values(make(environment, mesh, **{**GIT_TOKEN, "key_vault_objects": objs}))
    assert secret_literals(v) == []


@pytest.mark.parametrize(
    "leak",
    [
        {"fernetKey": "x" * 43 + "="},
        {"data": {"metadataConnection": {"pass": "hunter2"}}},
        {"config": {"database": {"sql_alchemy_conn": "postgresql://u:hunter2@db/airflow"}}},
        {"env": [{"name": "AIRFLOW__API__SECRET_KEY", "value": "abc"}]},
        {"config": {"logging": {"x": "DefaultEndpointsProtocol=https;AccountKey=abc"}}},
    ],
    ids=["fernet", "db-pass", "conn-url", "env-literal", "account-key"],
)
def test_secret_scanner_catches_leaks(leak: dict) -> None:
    """The scanner is not vacuous: each deliberate leak is found."""
    assert secret_literals(V.build_values(make(helm_values=leak)))


# ------------------------------------- placement: task pods tolerate *and* select the task pool


@pytest.mark.parametrize("path", [("workers",), ("workers", "kubernetes")])
def test_task_pod_template_tolerates_and_selects_the_task_pool(path: tuple[str, ...]) -> None:
    """Both worker levels carry it: the pod template reads ``workers.kubernetes.X or
    workers.X`` (newer charts) or ``workers.X`` (older ones)."""
    v: Any = V.build_values(make())
    for key in path:
        v = v[key]
    assert v["nodeSelector"] == {"airflow-aks/pool": "tasks"}
    assert v["tolerations"] == [
        {"key": "airflow-aks/pool", "operator": "Equal", "value": "tasks", "effect": "NoSchedule"},
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        },
    ]


def test_dags_get_the_same_placements() -> None:
    v = V.build_values(make(gpu_placement=GPU_PLACEMENT))
    env = {e["name"]: json.loads(e["value"]) for e in v["env"] if "PLACEMENT" in e["name"]}
    assert env[V.TASK_PLACEMENT_ENV] == {
        "nodeSelector": v["workers"]["kubernetes"]["nodeSelector"],
        "tolerations": v["workers"]["kubernetes"]["tolerations"],
    }
    assert env[V.GPU_PLACEMENT_ENV]["nodeSelector"] == {"airflow-aks/pool": "gpu"}


def test_no_gpu_pool_no_gpu_placement() -> None:
    names = [e["name"] for e in V.build_values(make())["env"]]
    assert V.TASK_PLACEMENT_ENV in names and V.GPU_PLACEMENT_ENV not in names


def test_without_a_placement_the_template_selects_nothing() -> None:
    """Components used on another cluster may pass none; then nothing is invented."""
    from airflow_aks.components.scheduling import PodPlacement

    w = V.build_values(make(task_placement=PodPlacement()))["workers"]
    assert "nodeSelector" not in w and "tolerations" not in w["kubernetes"]


@pytest.mark.parametrize("mesh", ["linkerd", "kuma", "none"])
@pytest.mark.parametrize("extra", [{}, GIT_TOKEN], ids=["baked", "git-token"])
def test_both_worker_levels_carry_the_same_pod_template(mesh: str, extra: dict) -> None:
    """Unconfirmed keys: whichever of workers.X / workers.kubernetes.X chart 1.22.0 reads
    for a key, it gets the same value (see values.WORKER_LEVEL_KEYS)."""
    w = V.build_values(make(mesh=mesh, **extra))["workers"]
    keys = set(w) - {"kubernetes"}
    assert keys == set(w["kubernetes"]) == set(V.WORKER_LEVEL_KEYS)
    for key in V.WORKER_LEVEL_KEYS:
        assert w[key] == w["kubernetes"][key], key
    assert w["resources"] == V.resources_for(make(), "workers")
    assert [e["name"] for e in w["env"]] == ["AIRFLOW_CONN_WASB_LOGS"]


# --------------------------------------------- first contact with the cluster, mesh and chart


def test_urls_task_pods_use_are_fully_qualified() -> None:
    """Defect 4: task pods run outside the Airflow namespace; the chart's defaults (short
    Service names) do not resolve there. The old values had no statsd_host (chart default
    ``airflow-statsd``) and the execution API URL only with sign-in, as a short name."""
    for sign_in in (None, SignInSettings("af.example.com", "@@c@@", "@@t@@")):
        cfg = V.build_values(make(sign_in=sign_in))["config"]
        url = cfg["core"]["execution_api_server_url"]
        assert url == "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"
        assert cfg["metrics"]["statsd_host"] == "airflow-statsd.airflow.svc.cluster.local"


@pytest.mark.parametrize(
    ("release", "fullname"),
    [
        ("airflow", "airflow"),
        ("my-airflow", "my-airflow"),
        ("orchestrator", "orchestrator-airflow"),
    ],
)
def test_chart_fullname(release: str, fullname: str) -> None:
    assert V.chart_fullname(release) == fullname
    assert V.statsd_host(release, "ns") == f"{fullname}-statsd.ns.svc.cluster.local"


def test_tasks_run_outside_the_control_plane_namespace() -> None:
    """Defect 12: no pod-launching RBAC from the chart; tasks in their own namespace."""
    v = V.build_values(make())
    assert v["allowPodLaunching"] is False
    assert v["apiServer"]["allowPodLogReading"] is False
    kx = v["config"]["kubernetes_executor"]
    assert kx["namespace"] == "airflow-tasks" and kx["multi_namespace_mode"] == "False"
    kx = V.build_values(make(task_namespaces=("finance",)))["config"]["kubernetes_executor"]
    assert kx["multi_namespace_mode_namespace_list"] == "airflow-tasks,finance"
    assert V.task_pod_namespaces(make(task_namespaces=("finance",))) == ["airflow-tasks", "finance"]
    with pytest.raises(ValueError, match="control plane's namespace"):
        V.build_values(make(tasks_namespace="airflow"))


def test_workload_identity_label_is_global() -> None:
    """Defect 11: the chart's dag-processor pod gets only the global labels."""
    assert V.build_values(make())["labels"][V.WORKLOAD_IDENTITY_LABEL] == "true"


def test_rotated_secrets_restart_their_readers() -> None:
    """Defect 9: a new secret version changes the control-plane pod templates."""
    a = V.build_values(make(secrets_checksum="aaa"))
    b = V.build_values(make(secrets_checksum="bbb"))
    for key in V.CONTROL_PLANE:
        ann_a = a[key]["podAnnotations"][V.SECRETS_CHECKSUM_ANNOTATION]
        assert ann_a == "aaa" and b[key]["podAnnotations"][V.SECRETS_CHECKSUM_ANNOTATION] == "bbb"
    assert (
        V.SECRETS_CHECKSUM_ANNOTATION not in V.build_values(make())["scheduler"]["podAnnotations"]
    )


# ------------------------------------------------ what the Kuma sidecar needs


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_kuma_sidecars_get_a_token_where_the_pod_mounts_none(environment):
    """kuma-dp exits ("dataplane token is invalid") without the pod's ServiceAccount token;
    Kuma v2.14.3's injector mounts it only from an app container or from the volume named
    by `kuma.io/service-account-token-volume` (injector.go NewVolumeMounts). Our control
    plane and Job ServiceAccounts mount no token, so each pod carries that volume and
    annotation; statsd (no extraVolumes in chart 1.22) automounts instead."""
    v = V.build_values(make(environment, mesh="kuma"))
    for key in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
        ann = v[key]["podAnnotations"]
        names = {vol["name"] for vol in v[key]["extraVolumes"]}
        vol_name = ann["kuma.io/service-account-token-volume"]
        assert vol_name in names, key
        (vol,) = [x for x in v[key]["extraVolumes"] if x["name"] == vol_name]
        assert "serviceAccountToken" in vol["projected"]["sources"][0], key
        # only the sidecar mounts it: no app container mount
        assert vol_name not in {m["name"] for m in v[key]["extraVolumeMounts"]}, key
    for key in ("migrateDatabaseJob", "createUserJob"):
        ann = v[key]["annotations"]
        assert ann["kuma.io/service-account-token-volume"] in {
            x["name"] for x in v[key]["extraVolumes"]
        }, key
    assert v["statsd"]["serviceAccount"]["automountServiceAccountToken"] is True


@pytest.mark.parametrize("provider", ["linkerd", "none"])
def test_no_token_volume_where_the_mesh_needs_none(provider):
    # Linkerd's injector adds its own `linkerd-identity-token` volume (edge-26.8.3
    # charts/partials/templates/_volumes.tpl).
    v = V.build_values(make("dev", mesh=provider))
    for key in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
        assert not any("token" in k for k in v[key]["podAnnotations"]), key
        assert [x["name"] for x in v[key]["extraVolumes"]] == [V.SECRETS_VOLUME], key
    assert v["statsd"]["serviceAccount"]["automountServiceAccountToken"] is False
