"""Pulumi entry point: everything lives in airflow_aks.program.stack (importable, testable)."""

from airflow_aks.program.stack import main

main()
