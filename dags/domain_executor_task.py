"""A KubernetesExecutor task running in a data domain (``finance``).

One line picks the domain: ``executor_config=in_domain("finance")``. The task pod then runs
in the ``finance`` namespace as the domain's ServiceAccount, so ``DefaultAzureCredential``
resolves to the finance identity — which can read ``finance-warehouse-dsn`` and write the
``finance-landing`` container, and nothing else (no other team's secrets, no Airflow
secrets). Its network egress is limited to what the domain declares.

Settings (environment variable, else Airflow Variable): ``AIRFLOW_AKS_KEY_VAULT_URL`` /
``domain_vault_url``; ``FINANCE_SECRET_NAME`` / ``finance_secret_name``.
"""

from __future__ import annotations

import pendulum
from _platform import in_domain
from airflow.sdk import dag, task


@dag(
    dag_id="domain_executor_task",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "domain", "finance"],
    default_args={"retries": 0},
    doc_md=__doc__,
)
def domain_executor_task() -> None:
    @task(executor_config=in_domain("finance"))
    def read_finance_secret() -> str:
        # Heavy imports inside the task: keeps DAG parsing fast.
        from _platform import fingerprint, setting, vault_url
        from airflow.sdk import Variable
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        def var(key: str) -> str | None:
            return Variable.get(key, default=None)

        vault = vault_url(setting("AIRFLOW_AKS_KEY_VAULT_URL", "domain_vault_url", None, var))
        name = setting("FINANCE_SECRET_NAME", "finance_secret_name", None, var)
        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        secret = SecretClient(vault_url=vault, credential=credential).get_secret(name)
        return fingerprint(secret.value or "")  # proves access, reveals nothing

    read_finance_secret()


domain_executor_task()
