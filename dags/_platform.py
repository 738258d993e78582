"""What the platform tells DAGs about the cluster they run in (shared by the example DAGs).

The Airflow component (``components/airflow``) sets these environment variables on every
Airflow container, task pods included, so a DAG never hard-codes a ServiceAccount, a mesh or
an Azure resource name:

``AIRFLOW_AKS_NAMESPACE``
    Namespace task pods (and KubernetesPodOperator pods) run in.
``AIRFLOW_AKS_TASK_SERVICE_ACCOUNT``
    ServiceAccount federated with the *tasks* workload identity.
``AIRFLOW_AKS_TASK_POD_LABELS`` / ``AIRFLOW_AKS_TASK_POD_ANNOTATIONS``
    JSON objects: the ``azure.workload.identity/use`` label plus whatever the configured mesh
    needs for run-to-completion pods (native sidecar / drain settings). ``{}`` without a mesh.
``AIRFLOW_AKS_TASK_POD_PLACEMENT`` / ``AIRFLOW_AKS_GPU_POD_PLACEMENT``
    JSON ``{"nodeSelector": {...}, "tolerations": [...]}``: how a pod lands on the task pool
    (tolerate its taints, spot included, *and* select it) or on the GPU pool. The same
    placement the KubernetesExecutor's pod template carries; the GPU one only exists when
    the stack has a GPU pool (``aks.gpuPool.enabled``).
``AIRFLOW_AKS_KEY_VAULT_URL``, ``AIRFLOW_AKS_STORAGE_ACCOUNT``, ...
    Azure endpoints; see :func:`setting`.

Everything here is pure (environment passed in, no Airflow import) so it is unit-tested
without a cluster, and cheap to import while the DAG processor parses files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"

ENV_NAMESPACE = "AIRFLOW_AKS_NAMESPACE"
ENV_TASK_SERVICE_ACCOUNT = "AIRFLOW_AKS_TASK_SERVICE_ACCOUNT"
ENV_TASK_POD_LABELS = "AIRFLOW_AKS_TASK_POD_LABELS"
ENV_TASK_POD_ANNOTATIONS = "AIRFLOW_AKS_TASK_POD_ANNOTATIONS"
ENV_TASK_POD_PLACEMENT = "AIRFLOW_AKS_TASK_POD_PLACEMENT"
ENV_GPU_POD_PLACEMENT = "AIRFLOW_AKS_GPU_POD_PLACEMENT"
GPU_RESOURCE = "nvidia.com/gpu"

DEFAULT_NAMESPACE = "airflow"
DEFAULT_TASK_SERVICE_ACCOUNT = "airflow-tasks"

# Non-root uid/gid used for pods whose image runs as root by default (python, busybox).
NON_ROOT_UID = 65532


class PlatformConfigError(RuntimeError):
    """A setting a DAG needs is missing or malformed; the message says where to set it."""


def _json_object(env: Mapping[str, str], name: str) -> dict[str, str]:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlatformConfigError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PlatformConfigError(f"{name} must be a JSON object of string to string")
    return dict(value)


def namespace(env: Mapping[str, str] | None = None) -> str:
    """Namespace for pods a DAG launches (defaults to the platform's ``airflow``)."""
    env = os.environ if env is None else env
    return env.get(ENV_NAMESPACE) or DEFAULT_NAMESPACE


def task_service_account(env: Mapping[str, str] | None = None) -> str:
    """ServiceAccount (with its federated credential) that task pods run as."""
    env = os.environ if env is None else env
    return env.get(ENV_TASK_SERVICE_ACCOUNT) or DEFAULT_TASK_SERVICE_ACCOUNT


def task_pod_labels(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels for a launched pod: mesh labels plus the workload-identity label, always."""
    env = os.environ if env is None else env
    labels = _json_object(env, ENV_TASK_POD_LABELS)
    labels[WORKLOAD_IDENTITY_LABEL] = "true"
    return labels


def task_pod_annotations(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Mesh annotations for run-to-completion pods (empty without a mesh)."""
    env = os.environ if env is None else env
    return _json_object(env, ENV_TASK_POD_ANNOTATIONS)


_TOLERATION_KEYS = {"key", "operator", "value", "effect", "tolerationSeconds"}


def _placement(env: Mapping[str, str], name: str, missing: str) -> dict[str, Any]:
    raw = env.get(name, "").strip()
    if not raw:
        raise PlatformConfigError(f"{name} is not set: {missing}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlatformConfigError(f"{name} is not valid JSON: {exc}") from exc
    selector = value.get("nodeSelector") if isinstance(value, dict) else None
    tolerations = value.get("tolerations") if isinstance(value, dict) else None
    if (
        not isinstance(selector, dict)
        or not selector
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in selector.items())
    ):
        raise PlatformConfigError(f"{name}: nodeSelector must be a non-empty string map")
    if not isinstance(tolerations, list) or not all(
        isinstance(t, dict) and isinstance(t.get("key"), str) and set(t) <= _TOLERATION_KEYS
        for t in tolerations
    ):
        raise PlatformConfigError(f"{name}: tolerations must be a list of tolerations")
    return {"nodeSelector": dict(selector), "tolerations": [dict(t) for t in tolerations]}


def task_pod_placement(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Node selection + tolerations that put a launched pod on the task pool."""
    env = os.environ if env is None else env
    return _placement(
        env, ENV_TASK_POD_PLACEMENT, "the Airflow chart values set it on every Airflow pod"
    )


def gpu_pod_placement(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Node selection + tolerations that put a launched pod on the GPU pool."""
    env = os.environ if env is None else env
    return _placement(
        env, ENV_GPU_POD_PLACEMENT, "the stack has no GPU pool (airflow-aks:aks.gpuPool.enabled)"
    )


def gpu_available(env: Mapping[str, str] | None = None) -> bool:
    """Whether the stack has a GPU pool (DAGs with GPU tasks register only then)."""
    env = os.environ if env is None else env
    return bool(env.get(ENV_GPU_POD_PLACEMENT, "").strip())


def pod_security_context(run_as_user: int = NON_ROOT_UID) -> dict[str, Any]:
    """Restricted pod security context (Pod Security Standard ``restricted``)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as_user,
        "runAsGroup": run_as_user,
        "fsGroup": run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    """Restricted container security context: no escalation, no capabilities, read-only."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(
    cpu: str = "100m", memory: str = "128Mi", cpu_limit: str = "500m", memory_limit: str = "256Mi"
) -> dict[str, dict[str, str]]:
    """Requests and limits for a launched container (plain dict, K8s field names)."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def pod_operator_defaults(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments every KubernetesPodOperator in our DAGs shares.

    ServiceAccount, labels (workload identity + mesh), mesh annotations for pods that must
    run to completion, restricted security contexts, and deletion of finished pods. The
    operator adds ``dag_id``, ``task_id``, ``run_id`` and ``try_number`` labels itself, which
    is what lines mesh metrics up with DAG runs.
    """
    from kubernetes.client import models as k8s  # the provider depends on it

    res = resources()
    place = task_pod_placement(env)
    return {
        "namespace": namespace(env),
        # Tolerate the task pool's taints (spot included) *and* select it.
        "node_selector": place["nodeSelector"],
        "tolerations": [k8s.V1Toleration(**_snake(t)) for t in place["tolerations"]],
        "service_account_name": task_service_account(env),
        "labels": task_pod_labels(env),
        "annotations": task_pod_annotations(env),
        "security_context": pod_security_context(),
        "container_security_context": container_security_context(),
        "container_resources": k8s.V1ResourceRequirements(
            requests=res["requests"], limits=res["limits"]
        ),
        "in_cluster": True,
        "get_logs": True,
        "on_finish_action": "delete_pod",
        "startup_timeout_seconds": 300,
    }


def gpu_pod_operator_defaults(
    gpus: int = 1, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """:func:`pod_operator_defaults` for a GPU task: on the GPU pool (its selector and
    tolerations), asking the NVIDIA device plugin for ``gpus`` GPUs."""
    from kubernetes.client import models as k8s

    if gpus < 1:
        raise PlatformConfigError(f"a GPU task needs at least one GPU, got {gpus}")
    place = gpu_pod_placement(env)
    res = resources(cpu="500m", memory="1Gi", cpu_limit="2", memory_limit="4Gi")
    return {
        **pod_operator_defaults(env),
        "node_selector": place["nodeSelector"],
        "tolerations": [k8s.V1Toleration(**_snake(t)) for t in place["tolerations"]],
        "container_resources": k8s.V1ResourceRequirements(
            requests=res["requests"], limits={**res["limits"], GPU_RESOURCE: str(gpus)}
        ),
    }


def _snake(toleration: Mapping[str, Any]) -> dict[str, Any]:
    """Toleration field names as the kubernetes client's keyword arguments."""
    names = {"tolerationSeconds": "toleration_seconds"}
    return {names.get(k, k): v for k, v in toleration.items()}


def setting(
    env_name: str,
    variable_name: str,
    env: Mapping[str, str] | None = None,
    variable_get: Callable[[str], str | None] | None = None,
) -> str:
    """A required value from the environment, else from an Airflow Variable, else a clear error.

    ``variable_get`` is injected (``lambda k: Variable.get(k, default=None)`` inside a task)
    so this stays pure and testable.
    """
    env = os.environ if env is None else env
    value = (env.get(env_name) or "").strip()
    if not value and variable_get is not None:
        value = (variable_get(variable_name) or "").strip()
    if not value:
        raise PlatformConfigError(
            f"missing setting: set environment variable {env_name} "
            f"or Airflow Variable '{variable_name}'"
        )
    return value


def blob_account_url(account: str) -> str:
    """Blob endpoint of a storage account name (public Azure cloud)."""
    account = account.strip()
    if not account.isalnum() or not account.islower() or not 3 <= len(account) <= 24:
        raise PlatformConfigError(
            f"storage account name {account!r} must be 3-24 lowercase letters or digits"
        )
    return f"https://{account}.blob.core.windows.net"


def vault_url(value: str) -> str:
    """Normalise a Key Vault given as a name or as ``https://<name>.vault.azure.net/``."""
    value = value.strip().rstrip("/")
    if value.startswith("https://"):
        return value + "/"
    if not value or "/" in value or "." in value:
        raise PlatformConfigError(f"Key Vault {value!r}: give a vault name or https URL")
    return f"https://{value}.vault.azure.net/"


def fingerprint(secret: str) -> str:
    """A short SHA-256 fingerprint: proves a secret was read without revealing it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- data domains

ENV_DOMAINS = "AIRFLOW_AKS_DOMAINS"
ENV_STORAGE_ACCOUNT = "AIRFLOW_AKS_STORAGE_ACCOUNT"
LOG_CONNECTION_ENV = "AIRFLOW_CONN_WASB_LOGS"


def domain_settings(name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the platform publishes about data domain ``name`` (``AIRFLOW_AKS_DOMAINS``):
    namespace, service_account, labels, annotations, node_selector, tolerations."""
    env = os.environ if env is None else env
    raw = env.get(ENV_DOMAINS, "").strip()
    try:
        domains = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise PlatformConfigError(f"{ENV_DOMAINS} is not valid JSON: {exc}") from exc
    if not isinstance(domains, dict) or name not in domains:
        known = ", ".join(sorted(domains)) if isinstance(domains, dict) else ""
        raise PlatformConfigError(
            f"unknown data domain {name!r} (declared: {known or 'none'}); add it under "
            "airflow-aks:domains in the stack file"
        )
    return dict(domains[name])


def _domain_log_connection(env: Mapping[str, str]) -> str:
    """The remote-log connection for a domain pod: the same account, no client id, so the
    workload-identity credential of the pod's own ServiceAccount is used."""
    account = env.get(ENV_STORAGE_ACCOUNT, "").strip()
    if not account:
        raise PlatformConfigError(f"missing setting: {ENV_STORAGE_ACCOUNT}")
    return json.dumps({"conn_type": "wasb", "host": blob_account_url(account)})


def in_domain(name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``executor_config`` running a KubernetesExecutor task in data domain ``name``::

        @task(executor_config=in_domain("finance"))

    The task pod runs in the domain's namespace, as its ServiceAccount (its own Azure
    identity: exactly the domain's secrets and containers), on its node pool, and writes
    its log with that identity. The platform's pod template supplies everything else."""
    from kubernetes.client import models as k8s

    env = os.environ if env is None else env
    d = domain_settings(name, env)
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(
            namespace=d["namespace"],
            labels=dict(d["labels"]),
            annotations=dict(d["annotations"]),
        ),
        spec=k8s.V1PodSpec(
            service_account_name=d["service_account"],
            node_selector=dict(d["node_selector"]) or None,
            tolerations=[k8s.V1Toleration(**_snake(t)) for t in d["tolerations"]] or None,
            containers=[
                k8s.V1Container(
                    name="base",
                    env=[k8s.V1EnvVar(name=LOG_CONNECTION_ENV, value=_domain_log_connection(env))],
                )
            ],
        ),
    )
    return {"pod_override": pod}


def domain_pod_kwargs(name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """KubernetesPodOperator keyword arguments running the pod in data domain ``name``::

        KubernetesPodOperator(task_id=..., image=..., **domain_pod_kwargs("finance"))

    :func:`pod_operator_defaults` with the domain's namespace, ServiceAccount, labels,
    annotations, node selector and tolerations — and the operator's own task placed in the
    domain (``executor_config=in_domain(name)``): the operator creates its pod from inside
    its task pod, so that pod's ServiceAccount is the launcher, and only the domain's
    ServiceAccount may create pods in the domain's namespace (a task of the default
    namespace gets 403 there)."""
    from kubernetes.client import models as k8s

    env = os.environ if env is None else env
    d = domain_settings(name, env)
    return {
        **pod_operator_defaults(env),
        "namespace": d["namespace"],
        "service_account_name": d["service_account"],
        "labels": {**dict(d["labels"]), WORKLOAD_IDENTITY_LABEL: "true"},
        "annotations": dict(d["annotations"]),
        "node_selector": dict(d["node_selector"]),
        "tolerations": [k8s.V1Toleration(**_snake(t)) for t in d["tolerations"]],
        "executor_config": in_domain(name, env),
    }
