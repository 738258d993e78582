"""Apache Airflow on AKS: pure chart-values builder (``values``) and the Pulumi component."""
