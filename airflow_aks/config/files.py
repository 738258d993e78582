"""Where a stack's file is: ``Pulumi.<stack>.yaml`` beside the project's ``Pulumi.yaml``."""

from __future__ import annotations

from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """The nearest directory holding ``Pulumi.yaml`` (cwd first, then this package's repo)."""
    for base in (start or Path.cwd(), Path(__file__).resolve().parents[2]):
        for d in (base, *base.parents):
            if (d / "Pulumi.yaml").is_file():
                return d
    return Path.cwd()


def stack_file(stack: str, config: str | None) -> Path:
    """``config`` when given, else the project's ``Pulumi.<stack>.yaml``."""
    return Path(config) if config else project_root() / f"Pulumi.{stack}.yaml"
