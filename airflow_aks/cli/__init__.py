"""The ``airflow-aks`` command: subcommands, exit codes, and the live subscription preflight."""
