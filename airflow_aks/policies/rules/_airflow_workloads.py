"""Day-2 and capacity facts about Airflow's pods.

* Rotation: Airflow reads its secrets once per process (``*_CMD`` at configuration load),
  so a rotated value must restart the pods that read it.
* Identities only for pods that exist: no federated credential for a Job the chart does
  not run.
* Quotas that can be reached: a task namespace's ``pods`` quota is worthless when the CPU
  or memory limits run out first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._airflow_chart import CONTROL_PLANE, AirflowChart, airflow_charts, chart_name
from ._core import (
    FEDERATED_CREDENTIAL,
    HELM_TYPES,
    UNKNOWN,
    Context,
    as_dict,
    get,
    is_false,
)

SECRETS_CHECKSUM_ANNOTATION = "airflow-aks.io/secret-versions"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"


def secret_rotation_restarts(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    out = []
    for raw in airflow_charts(resources):
        chart = AirflowChart.of(raw)
        if chart.builtin_secret_refs():
            continue  # env from Secrets: rotation is the Secret owner's concern
        for comp in CONTROL_PLANE:
            if not chart.enabled(comp):
                continue
            value = as_dict(get(chart.values, f"{comp}.podAnnotations")).get(
                SECRETS_CHECKSUM_ANNOTATION
            )
            if not value:
                out.append(
                    (
                        chart.urn,
                        f"values.{comp}.podAnnotations lacks {SECRETS_CHECKSUM_ANNOTATION}: a "
                        "rotated secret (new Postgres password, JWT secret) never reaches the "
                        "running pods; fix: annotate with a digest of the secret versions",
                    )
                )
    return out


def no_credential_for_absent_pods(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    absent: dict[str, str] = {}
    for raw in airflow_charts(resources):
        chart = AirflowChart.of(raw)
        for job in ("createUserJob", "migrateDatabaseJob"):
            if not chart.enabled(job):
                sa = chart.service_account(job)
                absent[f"system:serviceaccount:{chart.namespace}:{sa}"] = job
    return [
        (
            str(r.get("urn")),
            f"federated credential trusts {subject}, the ServiceAccount of {absent[subject]}, "
            "which the chart does not run; fix: drop the credential (and the ServiceAccount)",
        )
        for r in resources
        if r.get("type") == FEDERATED_CREDENTIAL
        and (subject := str(get(r.get("inputs"), "subject"))) in absent
    ]


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEM = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEM_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu(q: Any) -> float | None:
    """Kubernetes CPU quantity in cores (``500m`` -> 0.5); None when not a plain quantity."""
    m = _CPU.match(str(q).strip()) if q is not None else None
    if not m:
        return None
    return float(m.group(1)) / (1000 if m.group(2) else 1)


def memory(q: Any) -> float | None:
    """Kubernetes memory quantity in bytes (``2Gi``); None when not a plain quantity."""
    m = _MEM.match(str(q).strip()) if q is not None else None
    if not m:
        return None
    return float(m.group(1)) * _MEM_UNITS[m.group(2)]


def task_pod_limits(values: Mapping[str, Any]) -> tuple[Any, Any]:
    """``(cpu, memory)`` limits of a task pod's ``base`` container (workers.kubernetes first,
    as the pod template reads it; see values.WORKER_LEVEL_KEYS)."""
    for path in ("workers.kubernetes.resources.limits", "workers.resources.limits"):
        limits = as_dict(get(values, path))
        if limits:
            return limits.get("cpu"), limits.get("memory")
    return None, None


def proxy_limits(resources: list[dict[str, Any]]) -> tuple[float, float]:
    """CPU cores and memory bytes of the Linkerd proxy injected into every meshed pod
    (linkerd-control-plane values ``proxy.resources``); 0 without Linkerd. Kuma's sidecar
    limits are not modelled (their defaults were not read)."""
    for r in resources:
        props = as_dict(r.get("inputs"))
        if r.get("type") in HELM_TYPES and chart_name(props) == "linkerd-control-plane":
            res = as_dict(get(props, "values.proxy.resources"))
            return (
                cpu(get(res, "cpu.limit")) or 0.0,
                memory(get(res, "memory.limit")) or 0.0,
            )
    return 0.0, 0.0


def reachable_pods(
    hard: Mapping[str, Any], pod_cpu: float, pod_memory: float
) -> tuple[int, str] | None:
    """The most pods the CPU and memory limits admit, with the binding limit; None when
    the quota has no such limit or a quantity is not plain."""
    best: tuple[int, str] | None = None
    for key, per_pod, parse in (
        ("limits.cpu", pod_cpu, cpu),
        ("limits.memory", pod_memory, memory),
    ):
        total = parse(hard.get(key))
        if total is None or per_pod <= 0:
            continue
        n = int(total // per_pod)
        if best is None or n < best[0]:
            best = (n, key)
    return best


def task_quota_reachable(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    charts = [AirflowChart.of(r) for r in airflow_charts(resources)]
    task_ns = {ns: c for c in charts for ns in c.task_namespaces()}
    proxy_cpu, proxy_mem = proxy_limits(resources)
    out = []
    for r in resources:
        if r.get("type") != RESOURCE_QUOTA:
            continue
        props = as_dict(r.get("inputs"))
        chart = task_ns.get(str(get(props, "metadata.namespace")))
        hard = as_dict(get(props, "spec.hard"))
        pods = hard.get("pods")
        if chart is None or pods in (None, UNKNOWN) or is_false(pods):
            continue
        task_cpu, task_mem = task_pod_limits(chart.values)
        pod_cpu = (cpu(task_cpu) or 0.0) + proxy_cpu
        pod_mem = (memory(task_mem) or 0.0) + proxy_mem
        reach = reachable_pods(hard, pod_cpu, pod_mem)
        if reach is not None and int(str(pods)) > reach[0]:
            n, key = reach
            out.append(
                (
                    str(r.get("urn")),
                    f"quota admits {pods} pods but {key} {hard.get(key)} fits only {n} task "
                    f"pods (task limit {task_cpu} CPU / {task_mem} + proxy {proxy_cpu:g} "
                    f"CPU / {proxy_mem / 2**20:g}Mi each); fix: pods <= {n}, or raise {key}",
                )
            )
    return out
