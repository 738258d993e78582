"""A KubernetesPodOperator pod running in a data domain (``marketing``).

One line picks the domain: ``**domain_pod_kwargs("marketing")``. The pod runs in the
``marketing`` namespace as the domain's ServiceAccount and identity, on the domain's node
pool, under its quota, default-deny network policy and mesh rules.
"""

from __future__ import annotations

import pendulum
from _platform import domain_pod_kwargs
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import dag

# Pinned tag (checked 2026-11-23, same as kubernetes_sample); never `latest`.
PYTHON_IMAGE = "python:3.12.8-slim"


@dag(
    dag_id="domain_pod_operator",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "domain", "marketing", "kubernetes"],
    default_args={"retries": 0},
    doc_md=__doc__,
)
def domain_pod_operator() -> None:
    KubernetesPodOperator(
        task_id="export-segments",
        name="export-segments",
        image=PYTHON_IMAGE,
        cmds=["python", "-c"],
        arguments=["print('hello from the marketing domain')"],
        **domain_pod_kwargs("marketing"),
    )


domain_pod_operator()
