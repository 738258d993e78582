"""Pulumi entry point of the pipeline bootstrap: see airflow_aks.delivery.bootstrap."""

from airflow_aks.delivery.bootstrap import main

main()
