"""Drive a deployment from a DAG: commit an image-tag bump for Flux to apply.

``validate_request`` checks the run's parameters (no ``latest``, a valid image name);
``commit_manifest_change`` clones the GitOps repository, sets ``newTag`` for the image in
the kustomization, commits and pushes; Flux's GitRepository/Kustomization reconcile it.

The Git token comes from Key Vault: from the file the Secrets Store CSI driver mounts
(``AIRFLOW_AKS_GIT_TOKEN_FILE``) when present, else read directly with the task's workload
identity (``DefaultAzureCredential``). It never reaches a URL, argv or a log.

Settings (environment variable, else Airflow Variable):
``GITOPS_REPO_URL``/``gitops_repo_url``, ``GITOPS_BRANCH``/``gitops_branch``,
``GITOPS_KUSTOMIZATION_PATH``/``gitops_kustomization_path``, and for the Key Vault path
``AIRFLOW_AKS_KEY_VAULT_URL``/``gitops_vault_url`` + ``GITOPS_TOKEN_SECRET``/
``gitops_token_secret``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    dag_id="gitops_promote",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "gitops", "flux"],
    default_args={"retries": 0},
    params={
        "image": Param("ghcr.io/example/app", type="string", description="image name"),
        "tag": Param("1.0.0", type="string", description="tag to promote (not latest)"),
    },
    doc_md=__doc__,
)
def gitops_promote() -> None:
    @task
    def validate_request(**context: Any) -> dict[str, str]:
        from _gitops import validate_promotion

        p = validate_promotion(context["params"]["image"], context["params"]["tag"])
        return {"image": p.image, "tag": p.tag}

    @task
    def commit_manifest_change(request: dict[str, str], **context: Any) -> dict[str, Any]:
        import os

        from _gitops import Promotion, promote, read_token_file
        from _platform import setting, vault_url
        from airflow.sdk import Variable

        def var(key: str) -> str | None:
            return Variable.get(key, default=None)

        token = read_token_file(os.environ.get("AIRFLOW_AKS_GIT_TOKEN_FILE", "/nonexistent"))
        if token is None:
            from azure.identity import DefaultAzureCredential
            from azure.keyvault.secrets import SecretClient

            vault = vault_url(setting("AIRFLOW_AKS_KEY_VAULT_URL", "gitops_vault_url", None, var))
            name = setting("GITOPS_TOKEN_SECRET", "gitops_token_secret", None, var)
            client = SecretClient(vault_url=vault, credential=DefaultAzureCredential())
            token = client.get_secret(name).value or ""

        return promote(
            repo_url=setting("GITOPS_REPO_URL", "gitops_repo_url", None, var),
            branch=setting("GITOPS_BRANCH", "gitops_branch", None, var),
            path=setting("GITOPS_KUSTOMIZATION_PATH", "gitops_kustomization_path", None, var),
            promotion=Promotion(**request),
            token=token,
            run_id=context["run_id"],
        )

    commit_manifest_change(validate_request())


gitops_promote()
