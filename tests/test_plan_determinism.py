"""Same code and config, byte-identical plan JSON: across processes and hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from airflow_aks.cli import main as cli
from tests.conftest import ROOT


def test_two_plans_of_a_stack_are_byte_identical(tmp_path: Path) -> None:
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    assert cli.main(["plan", "--stack", "dev", "--json", str(here)]) == 0
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow_aks.cli.main",
            "plan",
            "--stack",
            "dev",
            "--json",
            str(there),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    a, b = here.read_bytes(), there.read_bytes()
    assert a == b, next(
        (
            f"first difference at line {i}: {x!r} != {y!r}"
            for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False))
            if x != y
        ),
        "lengths differ",
    )


def test_first_deployment_drops_only_type_version_aliases() -> None:
    import pulumi

    from airflow_aks.offline import plan

    version = pulumi.Alias(type_="azure-native:containerservice/v20240101:ManagedCluster")
    renamed = pulumi.Alias(name="old-name")
    moved = pulumi.Alias(type_="airflow-aks:old:Cluster", parent=pulumi.ROOT_STACK_RESOURCE)

    def transform(aliases: list) -> list | None:
        args = pulumi.ResourceTransformationArgs(
            None,  # type: ignore[arg-type]
            "t",
            "n",
            {},
            pulumi.ResourceOptions(aliases=aliases),
        )
        result = plan.drop_version_aliases(args)
        return None if result is None else result.opts.aliases

    assert transform([version, renamed, moved]) == [renamed, moved]
    assert transform([version]) is None
    assert transform([renamed]) is None  # nothing to drop: options untouched
    assert (
        plan.drop_version_aliases(
            pulumi.ResourceTransformationArgs(None, "t", "n", {}, pulumi.ResourceOptions())  # type: ignore[arg-type]
        )
        is None
    )
