"""The example DAGs load in a real Airflow 3 DagBag, and their pure helpers behave.

The DagBag runs in a child interpreter with its own AIRFLOW_HOME (a tmp dir), unit-test
mode and no examples, so Airflow's import-time configuration never leaks into (or from)
the rest of the suite.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
sys.path.insert(0, str(DAGS))

import _gitops  # noqa: E402
import _platform  # noqa: E402

_LOADER = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from airflow.dag_processing.dagbag import BundleDagBag  # what the DAG processor uses
    bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]), safe_mode=False)
    out = {"seconds": time.perf_counter() - t0,
           "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
           "dags": {}}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for t in dag.tasks:
            info = {"upstream": sorted(t.upstream_task_ids), "type": type(t).__name__}
            for attr in ("image", "service_account_name", "labels", "annotations",
                         "security_context", "container_security_context", "cmds",
                         "namespace", "retries"):
                if hasattr(t, attr):
                    val = getattr(t, attr)
                    plain = isinstance(val, (str, int, list, dict, type(None)))
                    info[attr] = val if plain else str(val)
            if hasattr(t, "node_selector"):
                info["node_selector"] = t.node_selector
                info["tolerations"] = [x.to_dict() for x in (t.tolerations or [])]
            if getattr(t, "executor_config", None):
                from kubernetes.client import ApiClient
                pod = t.executor_config.get("pod_override")
                info["pod_override"] = ApiClient().sanitize_for_serialization(pod)
            if hasattr(t, "container_resources") and t.container_resources is not None:
                r = t.container_resources
                info["resources"] = {"requests": r.requests, "limits": r.limits}
            tasks[t.task_id] = info
        out["dags"][dag_id] = {"tasks": tasks, "schedule": type(dag.timetable).__name__,
                               "params": sorted(dag.params.keys())}
    print("@@" + json.dumps(out, default=str))
    """
)

TASK_TOLERATIONS = [
    {"key": "airflow-aks/pool", "operator": "Equal", "value": "tasks", "effect": "NoSchedule"},
    {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    },
]
TASK_PLACEMENT = {"nodeSelector": {"airflow-aks/pool": "tasks"}, "tolerations": TASK_TOLERATIONS}
GPU_PLACEMENT = {
    "nodeSelector": {"airflow-aks/pool": "gpu"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}

TASK_ENV = {
    "AIRFLOW_AKS_TASK_POD_PLACEMENT": json.dumps(TASK_PLACEMENT),
    "AIRFLOW_AKS_GPU_POD_PLACEMENT": json.dumps(GPU_PLACEMENT),
    "AIRFLOW_AKS_NAMESPACE": "airflow-dev",
    "AIRFLOW_AKS_TASK_SERVICE_ACCOUNT": "airflow-tasks",
    "AIRFLOW_AKS_TASK_POD_LABELS": json.dumps({"kuma.io/sidecar-injection": "enabled"}),
    "AIRFLOW_AKS_TASK_POD_ANNOTATIONS": json.dumps(
        {"config.linkerd.io/proxy-enable-native-sidecar": "true"}
    ),
}


def _compact(toleration: dict) -> dict:
    """A kubernetes-client toleration dict in pod-spec form (camelCase, no Nones)."""
    names = {"toleration_seconds": "tolerationSeconds"}
    return {names.get(k, k): v for k, v in toleration.items() if v is not None}


def platform_env(prod_plan: dict) -> dict[str, str]:
    """The environment the prod platform gives every Airflow pod (data domains included)."""
    (chart,) = [r for r in prod_plan["resources"] if r["name"] == "airflow-chart"]
    return {e["name"]: e["value"] for e in chart["inputs"]["values"]["env"]}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory, prod_plan: dict) -> dict:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            **TASK_ENV,
            "AIRFLOW_AKS_DOMAINS": platform_env(prod_plan)["AIRFLOW_AKS_DOMAINS"],
            "AIRFLOW_AKS_STORAGE_ACCOUNT": "stairflowprodweufb47",
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", _LOADER, str(DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(li for li in proc.stdout.splitlines() if li.startswith("@@"))
    return json.loads(line[2:])


def test_no_import_errors(dagbag: dict) -> None:
    assert dagbag["import_errors"] == {}


def test_exactly_the_example_dags(dagbag: dict) -> None:
    assert sorted(dagbag["dags"]) == [
        "domain_executor_task",
        "domain_pod_operator",
        "gitops_promote",
        "gpu_sample",
        "keyless_blob",
        "kubernetes_sample",
    ]


def test_gpu_task_selects_the_gpu_pool_and_asks_for_a_gpu(dagbag: dict) -> None:
    t = dagbag["dags"]["gpu_sample"]["tasks"]["nvidia-smi"]
    assert t["type"] == "KubernetesPodOperator"
    assert t["node_selector"] == {"airflow-aks/pool": "gpu"}
    assert [_compact(x) for x in t["tolerations"]] == GPU_PLACEMENT["tolerations"]
    assert t["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert ":" in t["image"] and not t["image"].endswith(":latest")


def test_dagbag_is_fast(dagbag: dict) -> None:
    # Parsing must stay cheap for the DAG processor (heavy imports live inside tasks).
    assert dagbag["seconds"] < 60


@pytest.mark.parametrize(
    ("dag_id", "expected"),
    [
        (
            "kubernetes_sample",
            {"start": [], "passing-task": ["start"], "failing-task": ["start"]},
        ),
        ("keyless_blob", {"read_secret_write_blob": []}),
        ("gpu_sample", {"nvidia-smi": []}),
        (
            "gitops_promote",
            {"validate_request": [], "commit_manifest_change": ["validate_request"]},
        ),
    ],
)
def test_tasks_and_dependencies(dagbag: dict, dag_id: str, expected: dict) -> None:
    tasks = dagbag["dags"][dag_id]["tasks"]
    assert {t: v["upstream"] for t, v in tasks.items()} == expected


def test_pod_tasks_images_and_platform_settings(dagbag: dict) -> None:
    tasks = dagbag["dags"]["kubernetes_sample"]["tasks"]
    passing, failing = tasks["passing-task"], tasks["failing-task"]
    assert passing["type"] == failing["type"] == "KubernetesPodOperator"
    assert passing["image"] == "python:3.12.8-slim"
    assert failing["image"] == "busybox:1.37.0"  # no python in it: fails by design
    for t in (passing, failing):
        assert t["cmds"] == ["python", "-c"]
        assert ":" in t["image"] and not t["image"].endswith(":latest")
        assert t["namespace"] == "airflow-dev"
        assert t["service_account_name"] == "airflow-tasks"
        assert t["labels"]["azure.workload.identity/use"] == "true"
        assert t["labels"]["kuma.io/sidecar-injection"] == "enabled"
        assert t["annotations"] == {"config.linkerd.io/proxy-enable-native-sidecar": "true"}
        # on the task pool (spot included), not just allowed there
        assert t["node_selector"] == {"airflow-aks/pool": "tasks"}
        assert [_compact(x) for x in t["tolerations"]] == TASK_TOLERATIONS
        assert t["security_context"]["runAsNonRoot"] is True
        assert t["security_context"]["seccompProfile"] == {"type": "RuntimeDefault"}
        csc = t["container_security_context"]
        assert csc["allowPrivilegeEscalation"] is False
        assert csc["capabilities"] == {"drop": ["ALL"]}
        assert (
            set(t["resources"]["requests"])
            == set(t["resources"]["limits"])
            == {
                "cpu",
                "memory",
            }
        )
        assert t["retries"] == 0


def test_executor_task_runs_in_its_domain(dagbag: dict) -> None:
    (task,) = dagbag["dags"]["domain_executor_task"]["tasks"].values()
    pod = task["pod_override"]
    assert pod["metadata"]["namespace"] == "finance"
    assert pod["metadata"]["labels"]["airflow-aks.io/domain"] == "finance"
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["serviceAccountName"] == "finance-tasks"
    assert pod["spec"]["nodeSelector"] == {"airflow-aks/pool": "tasks"}
    assert {
        "key": "airflow-aks/pool",
        "operator": "Equal",
        "value": "tasks",
        "effect": "NoSchedule",
    } in pod["spec"]["tolerations"]
    (base,) = pod["spec"]["containers"]
    env = {e["name"]: e["value"] for e in base["env"]}
    # the pod's own identity writes its log: no other identity's client id in it
    assert json.loads(env["AIRFLOW_CONN_WASB_LOGS"]) == {
        "conn_type": "wasb",
        "host": "https://stairflowprodweufb47.blob.core.windows.net",
    }


def test_pod_operator_runs_in_its_domain(dagbag: dict) -> None:
    (task,) = dagbag["dags"]["domain_pod_operator"]["tasks"].values()
    assert task["type"] == "KubernetesPodOperator"
    assert task["namespace"] == "marketing"
    assert task["service_account_name"] == "marketing-tasks"
    assert task["labels"]["airflow-aks.io/domain"] == "marketing"
    assert task["annotations"] == {
        "config.linkerd.io/proxy-enable-native-sidecar": "true",
        "linkerd.io/inject": "enabled",
    }
    assert task["node_selector"] == {"airflow-aks/pool": "tasks"}
    assert task["security_context"]["runAsNonRoot"] is True
    # the operator's own task pod (the launcher) runs in the domain as
    # its ServiceAccount, the only task SA the domain's pod-launcher Role binds.
    launcher = task["pod_override"]
    assert launcher["metadata"]["namespace"] == "marketing"
    assert launcher["spec"]["serviceAccountName"] == "marketing-tasks"


def test_unknown_domain_is_a_clear_error() -> None:
    env = {"AIRFLOW_AKS_DOMAINS": '{"finance": {}}'}
    with pytest.raises(
        _platform.PlatformConfigError, match=r"unknown data domain 'hr' \(declared: finance\)"
    ):
        _platform.domain_settings("hr", env)
    with pytest.raises(_platform.PlatformConfigError, match="declared: none"):
        _platform.domain_settings("hr", {})


def test_gitops_params(dagbag: dict) -> None:
    assert dagbag["dags"]["gitops_promote"]["params"] == ["image", "tag"]


# ---------------------------------------------------------------- _platform (pure)


@pytest.mark.parametrize(
    ("env", "labels"),
    [
        ({}, {"azure.workload.identity/use": "true"}),
        (
            {"AIRFLOW_AKS_TASK_POD_LABELS": '{"kuma.io/sidecar-injection": "enabled"}'},
            {"kuma.io/sidecar-injection": "enabled", "azure.workload.identity/use": "true"},
        ),
        # the identity label cannot be switched off by the environment
        (
            {"AIRFLOW_AKS_TASK_POD_LABELS": '{"azure.workload.identity/use": "false"}'},
            {"azure.workload.identity/use": "true"},
        ),
    ],
)
def test_task_pod_labels(env: dict, labels: dict) -> None:
    assert _platform.task_pod_labels(env) == labels


@pytest.mark.parametrize(
    "raw", ["not json", "[1, 2]", '{"a": 1}', '"text"'], ids=["bad", "list", "int", "str"]
)
def test_malformed_mesh_json_is_a_clear_error(raw: str) -> None:
    with pytest.raises(_platform.PlatformConfigError, match="AIRFLOW_AKS_TASK_POD_ANNOTATIONS"):
        _platform.task_pod_annotations({"AIRFLOW_AKS_TASK_POD_ANNOTATIONS": raw})


def test_defaults_without_platform_env() -> None:
    assert _platform.namespace({}) == "airflow"
    assert _platform.task_service_account({}) == "airflow-tasks"
    assert _platform.task_pod_annotations({}) == {}


@pytest.mark.parametrize(
    ("env", "variables", "expected"),
    [
        ({"X": "from-env"}, {"x": "from-var"}, "from-env"),
        ({}, {"x": "from-var"}, "from-var"),
        ({"X": "  "}, {"x": " padded "}, "padded"),
    ],
)
def test_setting_precedence(env: dict, variables: dict, expected: str) -> None:
    assert _platform.setting("X", "x", env, variables.get) == expected


def test_setting_missing_names_both_places() -> None:
    with pytest.raises(_platform.PlatformConfigError) as err:
        _platform.setting("GITOPS_REPO_URL", "gitops_repo_url", {}, lambda _k: None)
    assert "GITOPS_REPO_URL" in str(err.value) and "gitops_repo_url" in str(err.value)


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("kv-airflow-dev", "https://kv-airflow-dev.vault.azure.net/"),
        ("https://kv-airflow-dev.vault.azure.net", "https://kv-airflow-dev.vault.azure.net/"),
        ("https://kv-airflow-dev.vault.azure.net/", "https://kv-airflow-dev.vault.azure.net/"),
    ],
)
def test_vault_url(value: str, url: str) -> None:
    assert _platform.vault_url(value) == url


@pytest.mark.parametrize("value", ["", "kv.example.com", "a/b"])
def test_vault_url_rejects(value: str) -> None:
    with pytest.raises(_platform.PlatformConfigError):
        _platform.vault_url(value)


@pytest.mark.parametrize(
    ("account", "ok"),
    [("stairflowlogs01", True), ("ab", False), ("Upper", False), ("has-dash", False)],
)
def test_blob_account_url(account: str, ok: bool) -> None:
    if ok:
        assert _platform.blob_account_url(account) == f"https://{account}.blob.core.windows.net"
    else:
        with pytest.raises(_platform.PlatformConfigError):
            _platform.blob_account_url(account)


def test_fingerprint_does_not_reveal() -> None:
    fp = _platform.fingerprint("s3cr3t-value")
    assert fp.startswith("sha256:") and "s3cr3t" not in fp and len(fp) == 23


def test_security_contexts_are_restricted() -> None:
    pod, ctr = _platform.pod_security_context(), _platform.container_security_context()
    assert pod["runAsNonRoot"] and pod["runAsUser"] != 0
    assert ctr == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


# ---------------------------------------------------------------- _gitops (pure)

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  - name: ghcr.io/example/app
    newTag: 1.0.0
  - name: ghcr.io/example/other
    newTag: 2.0.0
"""


@pytest.mark.parametrize(
    ("text", "image", "tag", "old", "expected_images"),
    [
        (
            KUSTOMIZATION,
            "ghcr.io/example/app",
            "1.1.0",
            "1.0.0",
            [
                {"name": "ghcr.io/example/app", "newTag": "1.1.0"},
                {"name": "ghcr.io/example/other", "newTag": "2.0.0"},
            ],
        ),
        (
            "kind: Kustomization\nresources: [a.yaml]\n",
            "ghcr.io/example/app",
            "1.1.0",
            None,
            [{"name": "ghcr.io/example/app", "newTag": "1.1.0"}],
        ),
        (
            "resources: [a.yaml]\nimages:\n- name: app\n  digest: sha256:abc\n",
            "app",
            "v2",
            None,
            [{"name": "app", "newTag": "v2"}],  # digest dropped: it would win over the tag
        ),
    ],
    ids=["bump-existing", "add-missing", "drop-digest"],
)
def test_bump_image_tag(text: str, image: str, tag: str, old, expected_images: list) -> None:
    import yaml

    new_text, old_tag = _gitops.bump_image_tag(text, _gitops.Promotion(image, tag))
    doc = yaml.safe_load(new_text)
    assert old_tag == old
    assert doc["images"] == expected_images
    assert doc["kind"] == "Kustomization" if "kind" in text else True


@pytest.mark.parametrize(
    "text",
    ["kind: Deployment\n", "- a\n- b\n", "images: {}\n", "key: [unclosed\n"],
    ids=["wrong-kind", "not-mapping", "images-not-list", "bad-yaml"],
)
def test_bump_image_tag_rejects(text: str) -> None:
    with pytest.raises(_gitops.PromotionError):
        _gitops.bump_image_tag(text, _gitops.Promotion("app", "1.0.0"))


@pytest.mark.parametrize(
    ("image", "tag", "ok"),
    [
        ("ghcr.io/example/app", "1.2.3", True),
        ("registry:5000/team/app", "v1.2.3-rc.1", True),
        ("app", "latest", False),
        ("app", "", False),
        ("app", "has space", False),
        ("", "1.0.0", False),
        ("UPPER/app", "1.0.0", False),
    ],
)
def test_validate_promotion(image: str, tag: str, ok: bool) -> None:
    if ok:
        assert _gitops.validate_promotion(image, tag) == _gitops.Promotion(image, tag)
    else:
        with pytest.raises(_gitops.PromotionError):
            _gitops.validate_promotion(image, tag)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/org/gitops.git", True),
        ("http://github.com/org/gitops.git", False),
        ("git@github.com:org/gitops.git", False),
        ("https://user:tok@github.com/org/gitops.git", False),
    ],
)
def test_validate_repo_url(url: str, ok: bool) -> None:
    if ok:
        assert _gitops.validate_repo_url(url) == url
    else:
        with pytest.raises(_gitops.PromotionError):
            _gitops.validate_repo_url(url)


@pytest.mark.parametrize(
    ("branch", "ok"), [("main", True), ("env/prod", True), ("-x", False), ("a..b", False)]
)
def test_validate_branch(branch: str, ok: bool) -> None:
    if ok:
        assert _gitops.validate_branch(branch) == branch
    else:
        with pytest.raises(_gitops.PromotionError):
            _gitops.validate_branch(branch)


def test_git_auth_env_keeps_token_out_of_argv_and_urls() -> None:
    env = _gitops.git_auth_env("tok123")
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    header = env["GIT_CONFIG_VALUE_0"].removeprefix("Authorization: Basic ")
    assert base64.b64decode(header).decode() == "x-access-token:tok123"
    assert "tok123" not in json.dumps({k: v for k, v in env.items() if k != "GIT_CONFIG_VALUE_0"})
    with pytest.raises(_gitops.PromotionError):
        _gitops.git_auth_env("  ")


def test_scrub_removes_token_and_header() -> None:
    env = _gitops.git_auth_env("tok123")
    text = f"fatal: tok123 rejected; {env['GIT_CONFIG_VALUE_0']}"
    out = _gitops.scrub(text, ["tok123"])
    assert "tok123" not in out and env["GIT_CONFIG_VALUE_0"] not in out


def test_commit_message_traces_the_run() -> None:
    msg = _gitops.commit_message(_gitops.Promotion("app", "1.1.0"), "1.0.0", "manual__2026")
    assert msg.startswith("deploy: promote app 1.0.0 -> 1.1.0")
    assert "manual__2026" in msg


def test_read_token_file(tmp_path: Path) -> None:
    f = tmp_path / "git-token"
    assert _gitops.read_token_file(f) is None
    f.write_text("  abc\n")
    assert _gitops.read_token_file(f) == "abc"
    f.write_text("\n")
    assert _gitops.read_token_file(f) is None


def test_promote_end_to_end_against_a_local_bare_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The git part, against a local repository (no network): commit lands on the branch."""
    import shutil

    if shutil.which("git") is None:
        pytest.skip("git is not installed; enable: install git (apt-get install git)")
    origin = tmp_path / "origin.git"
    seed = tmp_path / "seed"
    run = lambda *a, cwd=tmp_path: subprocess.run(  # noqa: E731
        ["git", *a], cwd=cwd, check=True, capture_output=True
    )
    run("init", "--bare", "-b", "main", str(origin))
    run("init", "-b", "main", str(seed))
    (seed / "apps").mkdir()
    (seed / "apps" / "kustomization.yaml").write_text(KUSTOMIZATION)
    run("add", ".", cwd=seed)
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "seed", cwd=seed)
    run("push", str(origin), "main", cwd=seed)

    # https is enforced for real remotes; a file remote is only allowed here in the test.
    monkeypatch.setattr(_gitops, "validate_repo_url", lambda url: url)

    def promote() -> dict:
        return _gitops.promote(
            repo_url=str(origin),
            branch="main",
            path="apps/kustomization.yaml",
            promotion=_gitops.Promotion("ghcr.io/example/app", "1.1.0"),
            token="tok123",
            run_id="manual__test",
        )

    result, again = promote(), promote()  # the second run must be a no-op
    assert result["changed"] is True and result["old_tag"] == "1.0.0"
    assert again == {"changed": False, "old_tag": "1.1.0", "new_tag": "1.1.0"}
    log = subprocess.run(
        ["git", "--git-dir", str(origin), "log", "-1", "--format=%s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "promote ghcr.io/example/app 1.0.0 -> 1.1.0" in log


# --------------------- placement: task pods tolerate *and* select the task pool


def test_task_pod_placement_reads_the_platform_json() -> None:
    assert _platform.task_pod_placement(TASK_ENV) == TASK_PLACEMENT


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("", "is not set"),
        ("{", "not valid JSON"),
        (json.dumps({"nodeSelector": {}, "tolerations": []}), "nodeSelector"),
        (json.dumps({"nodeSelector": {"a": 1}, "tolerations": []}), "nodeSelector"),
        (
            json.dumps({"nodeSelector": {"a": "b"}, "tolerations": [{"effect": "NoSchedule"}]}),
            "tolerations",
        ),
        (
            json.dumps({"nodeSelector": {"a": "b"}, "tolerations": [{"key": "a", "colour": "x"}]}),
            "tolerations",
        ),
    ],
)
def test_task_pod_placement_rejects(raw: str, match: str) -> None:
    with pytest.raises(_platform.PlatformConfigError, match=match):
        _platform.task_pod_placement({_platform.ENV_TASK_POD_PLACEMENT: raw})


NO_GPU_ENV = {k: v for k, v in TASK_ENV.items() if k != _platform.ENV_GPU_POD_PLACEMENT}


def test_gpu_pod_defaults_select_the_gpu_pool_and_ask_for_gpus() -> None:
    env = {**TASK_ENV, _platform.ENV_GPU_POD_PLACEMENT: json.dumps(GPU_PLACEMENT)}
    assert _platform.gpu_available(env) and not _platform.gpu_available(NO_GPU_ENV)
    kw = _platform.gpu_pod_operator_defaults(2, env)
    assert kw["node_selector"] == {"airflow-aks/pool": "gpu"}
    assert [_compact(t.to_dict()) for t in kw["tolerations"]] == GPU_PLACEMENT["tolerations"]
    assert kw["container_resources"].limits["nvidia.com/gpu"] == "2"
    assert "nvidia.com/gpu" not in kw["container_resources"].requests  # defaults to the limit
    assert kw["service_account_name"] == "airflow-tasks"  # the rest is the task defaults


def test_gpu_pod_defaults_without_gpu_pool_say_where_to_turn_it_on() -> None:
    with pytest.raises(_platform.PlatformConfigError, match=r"aks\.gpuPool\.enabled"):
        _platform.gpu_pod_operator_defaults(1, NO_GPU_ENV)
    with pytest.raises(_platform.PlatformConfigError, match="at least one GPU"):
        _platform.gpu_pod_operator_defaults(0, TASK_ENV)
