"""Pulumi entry point: everything lives in airflow_aks.program (importable, testable)."""

from airflow_aks.program import main

main()
