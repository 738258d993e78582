"""The consumer's own ``components`` package: airflow-aks installs only under
``airflow_aks``, so this name stays free for the team."""
