"""What the official Airflow chart renders from its values, as far as the rules need it.

The offline plan holds the chart as one ``helm.sh/v4:Chart`` resource with its values (the
chart is rendered only with ``--chart-dir``), so the rules that look at pods and RBAC model
the few templates that matter from the values. Each fact names the template it was read
from (apache/airflow ``chart/``, read 2026-12-07 at the stored commits named; the index
does not hold the ``helm-chart/1.22.0`` tag's commit, so the newest stored version of each
file was read):

* ``files/pod-template-file.kubernetes-helm-yaml`` (stored commit 00c4d758): the
  KubernetesExecutor's pod template mounts the ConfigMap ``{{ include "airflow_config" . }}``
  as volume ``config``, runs as ``worker.serviceAccountName``, adds
  ``workers.extraVolumes`` and the chart's standard env (``secretKeyRef`` per enabled
  ``enableBuiltInSecretEnvVars`` flag, ``_helpers.yaml`` ``standard_airflow_environment``).
* ``_helpers.yaml`` (stored commit 002843d6): ``airflow_config`` = ``<release>-airflow-config``;
  ``fernet_key_secret`` = ``fernetKeySecretName`` or ``<release>-fernet-key``;
  ``airflow_metadata_secret`` = ``data.metadataSecretName`` or ``<release>-airflow-metadata``;
  ``<component>.serviceAccountName`` = ``serviceAccount.name`` when ``create`` is false.
* ``rbac/pod-launcher-role.yaml`` (stored commit 05375147) and
  ``rbac/pod-launcher-rolebinding.yaml`` (stored commit 4ff4f33a): with ``rbac.create`` and
  ``allowPodLaunching`` (both default true), a Role with pods create/list/get/patch/watch/
  delete, pods/log get, pods/exec create/get, events list, bound in the release namespace
  (cluster-wide with ``multiNamespaceMode``) to the scheduler and, for the
  KubernetesExecutor, the worker ServiceAccount, and to the triggerer when it is enabled.
* The KubernetesExecutor places a pod in ``[kubernetes_executor] namespace`` unless its
  ``pod_override`` names another (cncf.kubernetes 10.25.0 ``kubernetes_executor.py``,
  ``pod_generator.py``); ``multi_namespace_mode_namespace_list`` lists where it watches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._core import HELM_TYPES, as_dict, as_list, get, is_false, is_true

POD_LAUNCHER_RULES: tuple[dict[str, list[str]], ...] = (
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["create", "list", "get", "patch", "watch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
)
"""``rbac/pod-launcher-role.yaml`` (stored commit 05375147)."""

BUILTIN_SECRET_ENV: dict[str, tuple[str, str]] = {
    "AIRFLOW__CORE__FERNET_KEY": ("fernetKeySecretName", "{release}-fernet-key"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
        "data.metadataSecretName",
        "{release}-airflow-metadata",
    ),
    "AIRFLOW_CONN_AIRFLOW_DB": ("data.metadataSecretName", "{release}-airflow-metadata"),
    "AIRFLOW__API__SECRET_KEY": ("apiSecretKeySecretName", "{release}-api-secret-key"),
    "AIRFLOW__API_AUTH__JWT_SECRET": ("jwtSecretName", "{release}-jwt-secret"),
}
"""Chart env var -> (values key naming its Secret, the chart's default name). The API and
JWT defaults follow the fernet/metadata pattern of ``_helpers.yaml``; not read at 1.22.0."""

CONTROL_PLANE = ("scheduler", "apiServer", "dagProcessor", "triggerer")
JOBS = ("migrateDatabaseJob", "createUserJob")
LAUNCH_EXECUTORS = ("KubernetesExecutor", "LocalKubernetesExecutor", "CeleryKubernetesExecutor")


def chart_name(props: Mapping[str, Any]) -> str:
    return str(props.get("chart", "")).rstrip("/").rsplit("/", 1)[-1].lower()


def airflow_charts(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in resources
        if r.get("type") in HELM_TYPES and chart_name(as_dict(r.get("inputs"))) == "airflow"
    ]


def fullname(release: str) -> str:
    """``airflow.fullname`` (``_helpers.yaml``): the release when it contains the chart name."""
    return release if "airflow" in release else f"{release}-airflow"


@dataclass
class AirflowChart:
    """One Airflow release as the rules see it."""

    urn: str
    release: str
    namespace: str
    values: Mapping[str, Any]
    domains: dict[str, str] = field(default_factory=dict)
    """Domain namespace -> its task ServiceAccount (``AIRFLOW_AKS_DOMAINS``)."""

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> AirflowChart:
        props = as_dict(r.get("inputs"))
        values = as_dict(props.get("values"))
        release = str(props.get("name") or "airflow")
        chart = cls(str(r.get("urn")), release, str(props.get("namespace") or "default"), values)
        raw = chart.env().get("AIRFLOW_AKS_DOMAINS")
        if isinstance(raw, str):
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError:
                parsed = {}
            for d in as_dict(parsed).values():
                d = as_dict(d)
                if isinstance(d.get("namespace"), str) and isinstance(
                    d.get("service_account"), str
                ):
                    chart.domains[d["namespace"]] = d["service_account"]
        return chart

    def env(self) -> dict[str, Any]:
        return {
            str(e.get("name")): e.get("value")
            for e in map(as_dict, as_list(self.values.get("env")))
        }

    def config(self, section: str, key: str) -> Any:
        return get(self.values, f"config.{section}.{key}")

    def enabled(self, component: str) -> bool:
        return not is_false(get(self.values, f"{component}.enabled"))

    def executor_launches_pods(self) -> bool:
        return any(
            e.strip() in LAUNCH_EXECUTORS for e in str(self.values.get("executor", "")).split(",")
        )

    def service_account(self, component: str) -> str:
        """The ServiceAccount a component's pods run as (``<component>.serviceAccountName``)."""
        sa = as_dict(get(self.values, f"{component}.serviceAccount"))
        if component == "workers":
            kube = as_dict(get(self.values, "workers.kubernetes.serviceAccount"))
            sa = {**sa, **{k: v for k, v in kube.items() if v not in (None, "")}}
        name = sa.get("name")
        if is_false(sa.get("create")):
            return str(name or "default")
        suffix = {
            "apiServer": "api-server",
            "dagProcessor": "dag-processor",
            "workers": "worker",
            "createUserJob": "create-user-job",
            "migrateDatabaseJob": "migrate-database-job",
        }
        return str(name or f"{fullname(self.release)}-{suffix.get(component, component)}")

    def chart_creates_service_account(self, component: str) -> bool:
        return not is_false(get(self.values, f"{component}.serviceAccount.create"))

    def task_namespaces(self) -> list[str]:
        """Every namespace the executor's pod template is placed in."""
        ns = self.config("kubernetes_executor", "namespace")
        out = [ns if isinstance(ns, str) and ns else self.namespace]
        if is_true(self.config("kubernetes_executor", "multi_namespace_mode")):
            raw = self.config("kubernetes_executor", "multi_namespace_mode_namespace_list")
            out += [n.strip() for n in str(raw or "").split(",") if n.strip()]
        out += list(self.domains)
        return list(dict.fromkeys(out))

    def task_service_account(self, namespace: str) -> str:
        """The ServiceAccount of task pods in ``namespace`` (a domain's override, else the
        pod template's)."""
        return self.domains.get(namespace) or self.service_account("workers")

    def pod_operator_launchers(self) -> list[tuple[str, str]]:
        """``(namespace, ServiceAccount)`` that launch KubernetesPodOperator pods: the task
        pods of every task namespace (``AIRFLOW_AKS_NAMESPACE`` is where DAGs put them)."""
        return [(ns, self.task_service_account(ns)) for ns in self.task_namespaces()]

    def config_map(self) -> str:
        return f"{self.release}-airflow-config"

    def builtin_secret_refs(self) -> list[tuple[str, str]]:
        """``(env var, Secret name)`` per enabled built-in secret env var."""
        flags = as_dict(self.values.get("enableBuiltInSecretEnvVars"))
        out = []
        for env, (key, default) in BUILTIN_SECRET_ENV.items():
            if is_false(flags.get(env)):
                continue
            name = get(self.values, key)
            out.append((env, str(name) if name else default.format(release=self.release)))
        return out

    def chart_secret_defaults(self) -> set[str]:
        """Secrets the chart renders itself (in its namespace): those whose name is unset."""
        return {
            default.format(release=self.release)
            for key, default in BUILTIN_SECRET_ENV.values()
            if not get(self.values, key)
        }

    def pod_launcher_binding(self) -> tuple[str | None, list[str]] | None:
        """``(namespace or None for cluster-wide, [ServiceAccounts])`` of the chart's
        pod-launcher RoleBinding, or None when the chart renders none."""
        if is_false(get(self.values, "rbac.create")) or is_false(
            self.values.get("allowPodLaunching")
        ):
            return None
        subjects = [self.service_account("scheduler")]
        if self.executor_launches_pods():
            subjects.append(self.service_account("workers"))
        if self.enabled("triggerer"):
            subjects.append(self.service_account("triggerer"))
        scope = None if is_true(self.values.get("multiNamespaceMode")) else self.namespace
        return scope, subjects
