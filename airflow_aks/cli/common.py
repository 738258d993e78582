"""What every ``airflow-aks`` command shares: exit codes and where the stack files are.

Its own module so the commands (``main``, ``preflight``, ``pipeline``) depend on it and not
on each other.
"""

from __future__ import annotations

from airflow_aks.config.files import project_root, stack_file

__all__ = ["EXIT_CONFIG", "EXIT_FAIL", "EXIT_OK", "project_root", "stack_file"]

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
"""0 ok, 1 a failed check/mandatory violation/program error, 2 invalid configuration or usage."""
