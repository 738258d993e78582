"""Pulumi entry point of the pipeline bootstrap: see airflow_aks.bootstrap."""

from airflow_aks.bootstrap import main

main()
