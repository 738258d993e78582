"""What every ``airflow-aks`` command shares: exit codes and where the stack files are.

Its own module so the commands (``main``, ``preflight``, ``pipeline``) depend on it and not
on each other.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from airflow_aks.config.base import ConfigError
from airflow_aks.config.files import project_root, stack_file

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAIL",
    "EXIT_OK",
    "load_stack",
    "project_root",
    "stack_file",
]

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
"""0 ok, 1 a failed check/mandatory violation/program error, 2 invalid configuration or usage."""


def load_stack(stack: str, config: str | None) -> tuple[Path, dict[str, Any], Any] | None:
    """The stack file read strictly and validated: ``(path, raw config, StackConfig)``, or
    ``None`` after printing why (the caller exits ``EXIT_CONFIG``)."""
    from airflow_aks.config.stack import load, read_stack_file

    path = stack_file(stack, config)
    if not path.is_file():
        print(f"error: stack file {path} not found", file=sys.stderr)
        return None
    try:
        raw = read_stack_file(path)
        return path, raw, load(raw, stack)
    except ConfigError as err:
        print(f"error: {path}: {err}", file=sys.stderr)
        return None
