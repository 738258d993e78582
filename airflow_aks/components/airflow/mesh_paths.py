"""The only in-mesh paths Airflow needs, as mesh-neutral allow rules (default deny else).

Pod labels are the official chart's (``component``, ``release``); ServiceAccounts are ours,
one per component, so Linkerd can authorise by identity and Kuma by pod labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_aks.components.mesh.base import AllowRule, Client, WorkloadSelector

from .values import ServiceAccountNames

API_SERVER_PORT = 8080  # chart ports.apiServer
WORKER_LOGS_PORT = 8793  # chart ports.workerLogs: live logs of running tasks
TRIGGERER_LOGS_PORT = 8794  # chart ports.triggererLogs


def _labels(component: str, release: str) -> dict[str, str]:
    return {"component": component, "release": release}


def allow_rules(
    release: str,
    namespace: str,
    sas: ServiceAccountNames,
    gateway: Client | None = None,
    domain_tasks: Sequence[Client] = (),
) -> list[AllowRule]:
    """Task pods, scheduler, DAG processor and triggerer -> API server (Airflow 3's
    execution API); API server -> task pods and triggerer for live log fetches; and, with
    an entrance, its gateway pods -> API server (the UI and REST API for people).

    Every client lives in the Airflow namespace except ``domain_tasks``: the task pods of
    the declared data domains, which must reach the execution API from their own
    namespaces (those namespaces authorise the API server's log fetches). The gateway
    runs in the Airflow namespace."""
    if gateway is not None and gateway.namespace != namespace:
        raise ValueError(
            f"the gateway must run in the Airflow namespace {namespace!r}, "
            f"not {gateway.namespace!r}: no other namespace may reach the API server"
        )

    def client(sa: str, component: str) -> Client:
        return Client(namespace, sa, _labels(component, release))

    api = client(sas.api_server, "api-server")
    return [
        AllowRule(
            "airflow-api-server",
            namespace,
            WorkloadSelector(_labels("api-server", release), API_SERVER_PORT, "api-server"),
            (
                client(sas.tasks, "worker"),
                client(sas.scheduler, "scheduler"),
                client(sas.dag_processor, "dag-processor"),
                client(sas.triggerer, "triggerer"),
                *((gateway,) if gateway else ()),
                *domain_tasks,
            ),
        ),
        AllowRule(
            "airflow-worker-logs",
            namespace,
            WorkloadSelector(_labels("worker", release), WORKER_LOGS_PORT, "worker-logs"),
            (api,),
        ),
        AllowRule(
            "airflow-triggerer-logs",
            namespace,
            WorkloadSelector(_labels("triggerer", release), TRIGGERER_LOGS_PORT, "triggerer-logs"),
            (api,),
        ),
    ]
