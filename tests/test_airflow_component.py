"""``airflow-aks:index:Airflow`` under Pulumi mocks: the chart release receives values
carrying the identity label, our ServiceAccounts and the mesh's annotations, for linkerd,
kuma and none; identities, SecretProviderClasses and dependencies asserted by name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks, settings


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources[f"{args.typ}::{args.name}"] = {"type": args.typ, "inputs": args.inputs}
        outputs = dict(args.inputs)
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            outputs["clientId"] = f"client-{args.name}"
            outputs["principalId"] = f"principal-{args.name}"
        return f"{args.name}-id", outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


REC = Recorder()


def run(program: Callable[[], Any]) -> Recorder:
    """Run ``program`` on a fresh loop, root stack and recorder (the suite shares one
    process with the offline plan, which installs its own mocks)."""
    global REC
    REC = Recorder()
    asyncio.set_event_loop(asyncio.new_event_loop())
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(REC, project="airflow-aks", stack="test", preview=False)
    try:
        pulumi.runtime.test(program)()
    finally:
        # leave a clean slate: a fresh loop and no root stack bound to ours
        asyncio.set_event_loop(asyncio.new_event_loop())
        settings.ROOT.set(None)
    return REC


from airflow_aks.components.airflow import values as V  # noqa: E402
from airflow_aks.components.airflow.component import Airflow, AirflowArgs  # noqa: E402
from airflow_aks.components.mesh import NoMesh  # noqa: E402
from airflow_aks.components.mesh import kuma as kuma_mesh  # noqa: E402
from airflow_aks.components.mesh import linkerd as linkerd_mesh  # noqa: E402

VAULT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-airflow"
CONTAINER_SCOPE = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"
    "stairflow/blobServices/default/containers/airflow-logs"
)


def mesh_args(provider: str) -> dict[str, Any]:
    if provider == "none":
        m: Any = NoMesh()
        ns_labels, ns_ann = m.namespace_labels(), m.namespace_annotations()
    else:
        m = {"linkerd": linkerd_mesh, "kuma": kuma_mesh}[provider]
        ns_labels, ns_ann = m.namespace_labels(), m.namespace_annotations()
    return {
        "mesh_namespace_labels": ns_labels,
        "mesh_namespace_annotations": ns_ann,
        "mesh_service_labels": m.pod_labels("service"),
        "mesh_service_annotations": m.pod_annotations("service"),
        "mesh_job_labels": m.pod_labels("job"),
        "mesh_job_annotations": m.pod_annotations("job"),
    }


def args(provider: str, environment: str = "prod", **kw: Any) -> AirflowArgs:
    a: dict[str, Any] = {
        "environment": environment,
        "namespace": f"airflow-{provider}",
        "resource_group_name": "rg",
        "location": "westeurope",
        "oidc_issuer_url": "https://oidc.example/issuer/",
        "tenant_id": "tenant-1",
        "control_plane_identity_name": f"id-airflow-cp-{provider}",
        "tasks_identity_name": f"id-airflow-tasks-{provider}",
        "key_vault_name": "kv-airflow",
        "key_vault_id": VAULT_ID,
        "storage_account_name": "stairflow",
        "logs_container_scope": CONTAINER_SCOPE,
        **mesh_args(provider),
        **kw,
    }
    return AirflowArgs(**a)  # type: ignore[typeddict-item]


def of_type(typ: str, prefix: str) -> dict[str, dict[str, Any]]:
    return {
        k.split("::", 1)[1]: v
        for k, v in REC.resources.items()
        if v["type"] == typ and k.split("::", 1)[1].startswith(prefix)
    }


def chart_inputs(name: str) -> dict[str, Any]:
    return REC.resources[f"kubernetes:helm.sh/v4:Chart::{name}-chart"]["inputs"]


@pytest.mark.parametrize("provider", ["linkerd", "kuma", "none"])
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_chart_values_carry_identity_sa_and_mesh(provider: str, environment: str) -> None:
    name = f"af-{provider}-{environment}"
    m = mesh_args(provider)

    def check(_: Any) -> None:
        chart = chart_inputs(name)
        assert chart["chart"] == "airflow" and chart["version"] == V.CHART_VERSION
        assert chart["repositoryOpts"]["repo"] == "https://airflow.apache.org"
        assert chart["namespace"] == f"airflow-{provider}"
        v = chart["values"]
        assert v["executor"] == "KubernetesExecutor"
        k = v["workers"]["kubernetes"]
        assert k["labels"][V.WORKLOAD_IDENTITY_LABEL] == "true"
        assert k["serviceAccount"] == {"create": False, "name": "airflow-tasks"}
        assert k["podAnnotations"] == m["mesh_job_annotations"]
        for key, _ in m["mesh_job_labels"].items():
            assert k["labels"][key] == m["mesh_job_labels"][key]
        for comp in ("scheduler", "apiServer", "dagProcessor", "triggerer"):
            assert v[comp]["labels"][V.WORKLOAD_IDENTITY_LABEL] == "true", comp
            assert v[comp]["podAnnotations"] == m["mesh_service_annotations"], comp
            assert v[comp]["serviceAccount"]["create"] is False, comp
        for job in ("migrateDatabaseJob", "createUserJob"):
            assert v[job]["annotations"] == m["mesh_job_annotations"], job
            assert v[job]["useHelmHooks"] is False, job
        # Azure-computed ids substituted into the leaves that need them
        logs = {e["name"]: e["value"] for e in k["env"]}["AIRFLOW_CONN_WASB_LOGS"]
        extra = json.loads(logs)["extra"]
        assert extra == {
            "managed_identity_client_id": f"client-{name}-tasks",
            "workload_identity_tenant_id": "tenant-1",
        }
        sched = {e["name"]: e["value"] for e in v["scheduler"]["env"]}["AIRFLOW_CONN_WASB_LOGS"]
        assert json.loads(sched)["extra"]["managed_identity_client_id"] == (
            f"client-{name}-control-plane"
        )
        assert "@@" not in json.dumps(v)
        replicas = 2 if environment == "prod" else 1
        assert v["scheduler"]["replicas"] == v["apiServer"]["replicas"] == replicas

    run(lambda: Airflow(name, args(provider, environment)).chart.urn.apply(check))


def test_identities_service_accounts_spc_and_grants() -> None:
    name = "af-wiring"
    wiring = args(
        "linkerd",
        git_sync={"repo": "https://github.com/org/dags.git", "username": "git"},
        git_token_object="airflow-git-token",
    )

    def check(_: Any) -> None:
        sas = of_type("kubernetes:core/v1:ServiceAccount", name)
        by_sa = {v["inputs"]["metadata"]["name"]: v["inputs"] for v in sas.values()}
        assert set(by_sa) == {
            "airflow-scheduler",
            "airflow-api-server",
            "airflow-dag-processor",
            "airflow-triggerer",
            "airflow-migrate-database",
            "airflow-create-user",
            "airflow-tasks",
        }
        ann = "azure.workload.identity/client-id"
        assert by_sa["airflow-tasks"]["metadata"]["annotations"][ann] == f"client-{name}-tasks"
        assert by_sa["airflow-scheduler"]["metadata"]["annotations"][ann] == (
            f"client-{name}-control-plane"
        )
        assert by_sa["airflow-scheduler"]["automountServiceAccountToken"] is True
        # live task logs and deferred pod triggers go through the Kubernetes API (defect 6)
        assert by_sa["airflow-api-server"]["automountServiceAccountToken"] is True
        assert by_sa["airflow-triggerer"]["automountServiceAccountToken"] is True
        assert by_sa["airflow-dag-processor"]["automountServiceAccountToken"] is False

        creds = of_type("azure-native:managedidentity:FederatedIdentityCredential", name)
        subjects = {c["inputs"]["subject"] for c in creds.values()}
        # task pods run in their own namespace
        assert "system:serviceaccount:airflow-linkerd-tasks:airflow-tasks" in subjects
        assert "system:serviceaccount:airflow-linkerd:airflow-tasks" not in subjects
        assert len(creds) == 7

        spcs = of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", name)
        cp = spcs[f"{name}-control-plane-kv"]["inputs"]
        assert cp["metadata"]["name"] == "airflow-control-plane-kv"
        assert cp["spec"]["parameters"]["clientID"] == f"client-{name}-control-plane"
        for obj in ("airflow-metadata-connection", "airflow-fernet-key", "airflow-jwt-secret"):
            assert obj in cp["spec"]["parameters"]["objects"]
        assert "secretObjects" not in cp["spec"]  # files only, no synced K8s Secret
        tasks_spc = spcs[f"{name}-tasks-kv"]["inputs"]
        assert tasks_spc["spec"]["parameters"]["clientID"] == f"client-{name}-tasks"
        assert "airflow-metadata-connection" not in tasks_spc["spec"]["parameters"]["objects"]

        grants = of_type("azure-native:authorization:RoleAssignment", name)
        scopes = sorted(g["inputs"]["scope"] for g in grants.values())
        # Control plane: each secret it mounts, never the vault. Tasks: only the secrets
        # named for them (the git token).
        cp_secrets = [
            "airflow-metadata-connection",
            "airflow-fernet-key",
            "airflow-api-secret-key",
            "airflow-jwt-secret",
            "airflow-git-token",
        ]
        assert VAULT_ID not in scopes
        assert scopes == sorted(
            [f"{VAULT_ID}/secrets/{n}" for n in cp_secrets]
            + [f"{VAULT_ID}/secrets/airflow-git-token", CONTAINER_SCOPE, CONTAINER_SCOPE]
        )
        tasks_kv = [g["inputs"]["scope"] for k, g in grants.items() if "tasks-kv" in k]
        assert tasks_kv == [f"{VAULT_ID}/secrets/airflow-git-token"]

        ns = of_type("kubernetes:core/v1:Namespace", name)[f"{name}-namespace"]["inputs"]
        for k, val in linkerd_mesh.namespace_labels().items():
            assert ns["metadata"]["labels"][k] == val

        v = chart_inputs(name)["values"]
        gs = v["dags"]["gitSync"]
        assert {
            "name": "GITSYNC_PASSWORD_FILE",
            "value": "/mnt/secrets-store/airflow-git-token",
        } in gs["env"]
        spc_of_tasks = v["workers"]["kubernetes"]["extraVolumes"][0]["csi"]["volumeAttributes"]
        assert spc_of_tasks == {"secretProviderClass": "airflow-tasks-kv"}

    run(lambda: Airflow(name, wiring).chart.urn.apply(check))


def test_invalid_input_registers_nothing() -> None:
    def program() -> None:
        with pytest.raises(ValueError, match="latest"):
            Airflow("af-bad", args("none", image_tag="latest"))

    assert run(program).resources == {}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"environment": "staging"}, r"environment must be one of dev, prod; got 'staging'"),
        ({"mesh_provider": "istio"}, r"mesh_provider must be one of linkerd, kuma, none"),
        ({"key_vault_name": ""}, r"key_vault_name is required"),
        ({"git_sync": {"branch": "main"}}, r"git_sync\.repo is required"),
    ],
)
def test_bad_args_name_the_key_and_register_nothing(kw: dict[str, Any], message: str) -> None:
    def program() -> None:
        with pytest.raises(ValueError, match=message):
            Airflow("af-bad", args("none", **kw))

    assert run(program).resources == {}


@pytest.mark.parametrize(
    ("provider", "kind"), [("linkerd", "Server"), ("kuma", "MeshTrafficPermission")]
)
def test_mesh_provider_by_name_creates_the_allow_list(provider: str, kind: str) -> None:
    """Without a mesh object (another language hands only the provider's name), the
    component still creates the provider's allow objects from the same pure functions."""

    def check(_: Any) -> None:
        kinds = {v["type"].rsplit(":", 1)[-1] for v in REC.resources.values()}
        assert kind in kinds, sorted(kinds)

    run(
        lambda: Airflow(
            f"af-by-name-{provider}", args(provider, mesh_provider=provider)
        ).chart.urn.apply(check)
    )
