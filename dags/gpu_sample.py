"""A GPU task: ``nvidia-smi`` in a pod on the GPU pool (only when the stack has one).

The pod selects the GPU pool and tolerates its ``nvidia.com/gpu`` taint, and asks the NVIDIA
device plugin for one GPU (``_platform.gpu_pod_operator_defaults``); the placement comes
from ``AIRFLOW_AKS_GPU_POD_PLACEMENT``, which the platform sets only with
``aks.gpuPool.enabled`` -- without a GPU pool this DAG does not register at all, rather
than leaving a task Pending forever.
"""

from __future__ import annotations

import pendulum
from _platform import gpu_available, gpu_pod_operator_defaults
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import dag

# Pinned (seen 2026-12-02 in public GPU test manifests, e.g. nforceroh/k8s-home's
# gpu-operator readme); the base image carries no CUDA toolkit, nvidia-smi comes from the
# driver the NVIDIA runtime mounts. Never `latest`.
CUDA_IMAGE = "nvcr.io/nvidia/cuda:12.5.0-base-ubuntu22.04"


@dag(
    dag_id="gpu_sample",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "kubernetes", "gpu"],
    default_args={"retries": 0},
    doc_md=__doc__,
)
def gpu_sample() -> None:
    KubernetesPodOperator(
        task_id="nvidia-smi",
        name="nvidia-smi",
        image=CUDA_IMAGE,
        cmds=["nvidia-smi"],
        **gpu_pod_operator_defaults(gpus=1),
    )


if gpu_available():
    gpu_sample()
