"""What every ``airflow-aks`` command shares: exit codes and where the stack files are.

Its own module so the commands (``main``, ``preflight``, ``pipeline``) depend on it and not
on each other.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
"""0 ok, 1 a failed check/mandatory violation/program error, 2 invalid configuration or usage."""


def project_root(start: Path | None = None) -> Path:
    """The nearest directory holding ``Pulumi.yaml`` (cwd first, then this package's repo)."""
    for base in (start or Path.cwd(), Path(__file__).resolve().parents[2]):
        for d in (base, *base.parents):
            if (d / "Pulumi.yaml").is_file():
                return d
    return Path.cwd()


def stack_file(stack: str, config: str | None) -> Path:
    return Path(config) if config else project_root() / f"Pulumi.{stack}.yaml"
