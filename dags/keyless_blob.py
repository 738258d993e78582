"""Keyless Azure access from a task: read a Key Vault secret, write a blob.

The task authenticates with ``DefaultAzureCredential``, which inside a task pod resolves to
the pod's *workload identity* (the webhook injects ``AZURE_CLIENT_ID``,
``AZURE_TENANT_ID`` and a projected ``AZURE_FEDERATED_TOKEN_FILE``, because the pod carries
the ``azure.workload.identity/use`` label and runs as the tasks ServiceAccount). No
credential lives in code, in an Airflow connection, in the image or in Helm values.

Settings (environment variable, else Airflow Variable):

* ``AIRFLOW_AKS_KEY_VAULT_URL`` / ``keyless_blob_vault_url`` — vault name or URL
* ``KEYLESS_BLOB_SECRET_NAME`` / ``keyless_blob_secret_name`` — secret to read
* ``AIRFLOW_AKS_STORAGE_ACCOUNT`` / ``keyless_blob_storage_account``
* ``KEYLESS_BLOB_CONTAINER`` / ``keyless_blob_container``

The blob written holds a SHA-256 fingerprint of the secret, never the secret.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="keyless_blob",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "azure", "workload-identity"],
    default_args={"retries": 1},
    doc_md=__doc__,
)
def keyless_blob() -> None:
    @task
    def read_secret_write_blob(**context: Any) -> str:
        # Heavy imports inside the task: keeps DAG parsing fast.
        import json

        from _platform import blob_account_url, fingerprint, setting, vault_url
        from airflow.sdk import Variable
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient
        from azure.storage.blob import BlobServiceClient

        def var(key: str) -> str | None:
            return Variable.get(key, default=None)

        vault = vault_url(setting("AIRFLOW_AKS_KEY_VAULT_URL", "keyless_blob_vault_url", None, var))
        secret_name = setting("KEYLESS_BLOB_SECRET_NAME", "keyless_blob_secret_name", None, var)
        account = setting("AIRFLOW_AKS_STORAGE_ACCOUNT", "keyless_blob_storage_account", None, var)
        container = setting("KEYLESS_BLOB_CONTAINER", "keyless_blob_container", None, var)

        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        secret = SecretClient(vault_url=vault, credential=credential).get_secret(secret_name)
        body = {
            "dag_run": context["run_id"],
            "secret": secret_name,
            "secret_version": secret.properties.version,
            "secret_fingerprint": fingerprint(secret.value or ""),
            "written_at": pendulum.now("UTC").isoformat(),
        }
        blob_name = f"keyless-blob/{context['run_id']}.json".replace(":", "-")
        service = BlobServiceClient(account_url=blob_account_url(account), credential=credential)
        service.get_blob_client(container=container, blob=blob_name).upload_blob(
            json.dumps(body, indent=2), overwrite=True
        )
        return f"{container}/{blob_name}"

    read_secret_write_blob()


keyless_blob()
