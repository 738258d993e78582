"""The classic Airflow-on-Kubernetes example, in Airflow 3 syntax.

``start`` fans out to two KubernetesPodOperator tasks running the same ``python -c``
command: one in a Python image (prints and succeeds), one in an image without Python
(fails: ``python: not found``, exit 127) — so a DAG run shows both outcomes, with the pod's
log and exit code reported back to Airflow. Both pods run as the tasks' workload identity,
carry the mesh's run-to-completion annotations and a restricted security context
(see ``_platform.pod_operator_defaults``).
"""

from __future__ import annotations

import pendulum
from _platform import pod_operator_defaults
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import dag, task

# Pinned tags (checked 2026-11-23); never `latest`.
PYTHON_IMAGE = "python:3.12.8-slim"
NO_PYTHON_IMAGE = "busybox:1.37.0"
COMMAND = ["python", "-c"]
ARGUMENTS = ["print('hello from a pod with a workload identity')"]


@dag(
    dag_id="kubernetes_sample",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "kubernetes"],
    default_args={"retries": 0},
    doc_md=__doc__,
)
def kubernetes_sample() -> None:
    @task
    def start() -> str:
        return "starting pods"

    defaults = pod_operator_defaults()
    passing = KubernetesPodOperator(
        task_id="passing-task",
        name="passing-test",
        image=PYTHON_IMAGE,
        cmds=COMMAND,
        arguments=ARGUMENTS,
        **defaults,
    )
    failing = KubernetesPodOperator(
        task_id="failing-task",
        name="fail",
        image=NO_PYTHON_IMAGE,
        cmds=COMMAND,
        arguments=ARGUMENTS,
        **defaults,
    )
    start() >> [passing, failing]


kubernetes_sample()
