"""Airflow chart rules: executor, remote logging, secrets by reference, no Helm hooks,
workload identity, built-in secret env and the API token only where it is needed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _airflow_workloads
from ._core import (
    ADVISORY,
    HELM_TYPES,
    MANDATORY,
    SERVICE_ACCOUNT,
    Context,
    Rule,
    as_dict,
    as_list,
    dig,
    get,
    is_false,
    is_true,
    resource_rule,
    show,
    stack_rule,
)
from .kubernetes import is_helm
from .mesh import _helm, chart_name
from .sidecars import kuma_injected

RULES: list[Rule] = []


def _is_airflow(props: Mapping[str, Any]) -> bool:
    return is_helm(props) and chart_name(props) == "airflow"


def _values(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(props.get("values"))


@resource_rule(
    RULES,
    name="airflow-kubernetes-executor",
    level=MANDATORY,
    mirrors="Microsoft Learn: Airflow on AKS",
    types=HELM_TYPES,
    description="""The Airflow chart must use the KubernetesExecutor: every task runs in its
    own pod under its own ServiceAccount (per-task workload identity, no shared worker
    holding every credential), no Celery broker with a password, and the tasks pool scales
    to zero.""",
)
def kubernetes_executor(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    executor = _values(props).get("executor")
    primary = str(executor).split(",")[0].strip() if isinstance(executor, str) else executor
    if primary != "KubernetesExecutor":
        return [f"values.executor must be KubernetesExecutor (is {show(executor)})"]
    return []


def _airflow_config(values: Mapping[str, Any], section: str, key: str) -> Any:
    value = dig(values, "config", section, key)
    if value is not None:
        return value
    env_name = f"AIRFLOW__{section.upper()}__{key.upper()}"
    for env in as_list(values.get("env")):
        if as_dict(env).get("name") == env_name:
            return as_dict(env).get("value")
    return None


@resource_rule(
    RULES,
    name="airflow-remote-logging",
    level=ADVISORY,
    mirrors="Airflow production guide (remote logging)",
    types=HELM_TYPES,
    description="""Remote logging to Blob storage must be on (config.logging.remote_logging
    with a remote_base_log_folder): KubernetesExecutor task pods are deleted after they
    finish, taking their logs with them. Advisory: operations, not a security boundary.""",
)
def remote_logging(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    out = []
    if not is_true(_airflow_config(values, "logging", "remote_logging")):
        out.append("config.logging.remote_logging is not True")
    elif not _airflow_config(values, "logging", "remote_base_log_folder"):
        out.append("config.logging.remote_base_log_folder is not set")
    return out


@resource_rule(
    RULES,
    name="airflow-chart-secrets-referenced",
    level=MANDATORY,
    mirrors="Airflow chart production guide",
    types=HELM_TYPES,
    description="""The Airflow chart must reference pre-created Secrets for the metadata
    connection, fernet key, API secret key and JWT secret: left unset, the chart puts the
    database password in values or invents random keys on every render, which breaks
    encrypted connections and logs every user out on each deploy.""",
)
def chart_secrets_referenced(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    required = {
        "data.metadataSecretName": get(values, "data.metadataSecretName"),
        "fernetKeySecretName": values.get("fernetKeySecretName"),
        "apiSecretKeySecretName": values.get("apiSecretKeySecretName")
        or values.get("webserverSecretKeySecretName"),
        "jwtSecretName": values.get("jwtSecretName"),
    }
    return [f"values.{k} is not set" for k, v in required.items() if not v]


@resource_rule(
    RULES,
    name="airflow-no-helm-hooks",
    level=ADVISORY,
    mirrors="apache/airflow #32003",
    types=HELM_TYPES,
    description="""migrateDatabaseJob and createUserJob should not be Helm hooks
    (useHelmHooks: false): Pulumi's Chart resource does not run hooks, so the migration
    would never run, and helm.v3.Release deadlocks on them.""",
)
def no_helm_hooks(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    return [
        f"values.{comp}.useHelmHooks should be false "
        f"(is {show(get(values, comp + '.useHelmHooks'))})"
        for comp in ("migrateDatabaseJob", "createUserJob")
        if not is_false(get(values, comp + ".useHelmHooks"))
        and not is_false(get(values, comp + ".enabled"))
    ]


WI_USE = "azure.workload.identity/use"


@resource_rule(
    RULES,
    name="airflow-workload-identity-label",
    level=MANDATORY,
    mirrors="AKS workload identity (azure.workload.identity/use label)",
    types=HELM_TYPES,
    description="""Airflow pods must carry the label azure.workload.identity/use: "true"
    in values.labels: without it the webhook injects no federated token, so task code that
    calls DefaultAzureCredential without a client id falls through to the node's IMDS
    endpoint (the kubelet identity every pod on the node shares) instead of the pod's own
    least-privilege identity. Per-component labels are not enough: the chart's DAG-processor
    Deployment puts only the global labels on its pod (templates/dag-processor/dag-processor-
    deployment.yaml, apache/airflow stored commit 01d5bb62, read 2026-12-07), which breaks its
    Key Vault secrets backend and remote logs. Source of the label: Microsoft Learn "Use
    Microsoft Entra Workload ID with AKS" (pods need azure.workload.identity/use: "true").""",
)
def workload_identity_label(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    if is_true(as_dict(values.get("labels")).get(WI_USE)):
        return []
    if is_false(as_dict(values.get("dagProcessor")).get("enabled")):
        return []
    return [
        f"label {WI_USE}: 'true' missing from values.labels; the chart's dag-processor pod "
        f"carries only the global labels; fix: set values.labels.{WI_USE}: 'true'"
    ]


# ------------------------------------------------------------------ chart settings

# Chart values.yaml (apache/airflow chart, /work/shared/charts/airflow/values.yaml l.421-430,
# seen 2026-12): enableBuiltInSecretEnvVars.* all default true. These five carry secrets the
# platform delivers as CSI-mounted files read through *_CMD instead.
BUILTIN_SECRET_ENV = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW_CONN_AIRFLOW_DB",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
)


@resource_rule(
    RULES,
    name="airflow-builtin-secret-env-off",
    level=MANDATORY,
    mirrors="CKV_K8S_35 (secrets as files, not env vars); Airflow chart enableBuiltInSecretEnvVars",
    types=HELM_TYPES,
    description="""The Airflow chart's built-in secret env vars (enableBuiltInSecretEnvVars
    for the fernet key, metadata connection, API secret key and JWT secret; all true by
    default) must be switched off: they copy each secret into a Kubernetes Secret and every
    pod's environment, where crash dumps, child processes and `kubectl describe` see it and
    rotation does not reach it. The values are read from the CSI-mounted files instead.""",
)
def builtin_secret_env_off(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    flags = as_dict(_values(props).get("enableBuiltInSecretEnvVars"))
    return [
        f"values.enableBuiltInSecretEnvVars.{key} is {show(flags.get(key))} (chart default "
        f"true); fix: set it false and read the value with {key}_CMD from the mounted file"
        for key in BUILTIN_SECRET_ENV
        if not is_false(flags.get(key))
    ]


# Airflow components that never call the Kubernetes API in this platform: the DAG processor
# parses files, the Jobs migrate and create a user, statsd exports metrics. The scheduler
# (KubernetesExecutor) and task pods (KubernetesPodOperator) need a token; so does the API
# server, which reads running tasks' logs through the Kubernetes API (cncf.kubernetes 10.25.0
# executors/kubernetes_executor.py get_streaming_task_log, read 2026-12-07;
# 6), and the triggerer (deferrable KubernetesPodOperator triggers, triggers/pod.py).
NO_API_COMPONENTS = ("dagProcessor", "migrateDatabaseJob", "createUserJob", "statsd")


@stack_rule(
    RULES,
    name="airflow-api-token-only-where-needed",
    level=MANDATORY,
    mirrors="CKV_K8S_38 (service account tokens only where necessary)",
    description="""Airflow components that never call the Kubernetes API (DAG processor,
    migration and create-user Jobs, statsd) must run without a mounted Kubernetes token:
    automountServiceAccountToken false on the ServiceAccount the chart uses, whether the
    stack creates it or the chart does (the chart defaults to true). The API server is not
    listed: it reads running tasks' logs through the Kubernetes API (cncf.kubernetes 10.25.0
    kubernetes_executor.py, read 2026-12-07).""",
)
def api_token_only_where_needed(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    sas = {
        (
            str(get(r.get("inputs"), "metadata.namespace")),
            str(get(r.get("inputs"), "metadata.name")),
        ): r
        for r in resources
        if r.get("type") == SERVICE_ACCOUNT
    }
    out = []
    for chart in _helm(resources, "airflow"):
        props = as_dict(chart.get("inputs"))
        values, ns = _values(props), str(props.get("namespace") or "default")
        for comp in NO_API_COMPONENTS:
            cv = as_dict(values.get(comp))
            if is_false(cv.get("enabled")):
                continue
            if comp == "statsd" and kuma_injected(as_dict(cv.get("labels"))):
                # kuma-dp needs the pod's token (sidecars.py, kuma v2.14.3) and the chart
                # has no statsd.extraVolumes to hand it to the sidecar alone: the
                # ServiceAccount mounts it (rule mesh-sidecar-can-authenticate).
                continue
            sa = as_dict(cv.get("serviceAccount"))
            fix = f"fix: set automountServiceAccountToken false for {comp}"
            if is_false(sa.get("create")):
                ref = sas.get((ns, str(sa.get("name"))))
                if ref is not None and not is_false(
                    get(ref.get("inputs"), "automountServiceAccountToken")
                ):
                    out.append(
                        (
                            str(ref.get("urn")),
                            f"ServiceAccount {ns}/{sa.get('name')} of Airflow {comp} mounts a "
                            f"Kubernetes token it never uses; {fix} on it",
                        )
                    )
            elif not is_false(sa.get("automountServiceAccountToken")):
                out.append(
                    (
                        str(chart.get("urn")),
                        f"values.{comp}.serviceAccount.automountServiceAccountToken is "
                        f"{show(sa.get('automountServiceAccountToken'))} (chart default true); "
                        f"{fix}",
                    )
                )
    return out


# ------------------------------------------------ first contact with the cluster, mesh and chart


@stack_rule(
    RULES,
    name="airflow-secret-rotation-restarts",
    level=MANDATORY,
    mirrors="Airflow config reference (*_cmd read at start); Kubernetes Deployment rollout",
    description="""Every Airflow control-plane component that reads its secrets from files
    (built-in secret env vars off, *_CMD instead) must carry the secret-version annotation
    airflow-aks.io/secret-versions in its podAnnotations: Airflow runs each *_cmd once when
    the process loads its configuration (Airflow 3.3 configuration reference, "_cmd"
    options), so a rotated database password or JWT secret is seen only by new pods, and a
    Deployment rolls its pods if and only if its pod template changes (Kubernetes
    "Deployments: Updating a Deployment"). Without it, moving secretsIssuedOn breaks every
    database connection and token check until someone restarts the pods.""",
)
def secret_rotation_restarts(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    return _airflow_workloads.secret_rotation_restarts(resources, ctx)
