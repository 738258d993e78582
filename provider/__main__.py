"""Entry of the airflow-aks component provider (see airflow_aks/provider.py)."""

from airflow_aks.program.provider import main

if __name__ == "__main__":
    main()
