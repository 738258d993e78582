"""One answer to "is this production": the stack's profile (``airflow-aks:profile``, which
defaults to the environment, which defaults to the stack name), for the program, the offline
plan's policy evaluation and the pack config handed to ``pulumi preview --policy-pack``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from airflow_aks.cli import main as cli
from airflow_aks.offline import policy_report
from airflow_aks.policies.rules import ALL_RULES
from airflow_aks.policies.rules._core import MANAGED_CLUSTER
from tests.conftest import ROOT


def stack_with_profile(tmp_path: Path, base: str, stack: str, profile: str) -> Path:
    """``Pulumi.<base>.yaml`` copied as ``Pulumi.<stack>.yaml`` with an explicit profile."""
    data = yaml.safe_load((ROOT / f"Pulumi.{base}.yaml").read_text())
    data["config"]["airflow-aks:profile"] = profile
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("base", "stack", "profile", "production"),
    [
        ("prod", "staging", "prod", True),  # not prod by name; prod by profile
        ("dev", "prod-weu", "dev", False),  # prod by name; dev by profile
        ("prod", "prod", None, True),  # the shipped files: profile from the stack name
        ("dev", "dev", None, False),
    ],
)
def test_pack_config_carries_the_profile(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    base: str,
    stack: str,
    profile: str | None,
    production: bool,
) -> None:
    path = (
        stack_with_profile(tmp_path, base, stack, profile)
        if profile
        else ROOT / f"Pulumi.{stack}.yaml"
    )
    args = ["policies", "--pack-config", stack, "--config", str(path)]
    assert cli.main(args) == 0
    config = json.loads(capsys.readouterr().out)
    assert set(config) == {r.name for r in ALL_RULES}
    assert {v["production"] for v in config.values()} == {production}


def test_pack_config_without_a_stack_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "Pulumi.qa.yaml"
    assert cli.main(["policies", "--pack-config", "qa", "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "stack file not found" in err


def test_offline_plan_of_a_staging_stack_with_the_prod_profile_gets_production_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack_with_profile(tmp_path, "prod", "staging", "prod")
    out = tmp_path / "staging.json"
    code = cli.main(
        ["plan", "--stack", "staging", "--config", str(path), "--no-render", "--json", str(out)]
    )
    capsys.readouterr()
    export = json.loads(out.read_text())
    assert export["policy"]["production"] is True
    # With a Free-tier cluster, the production-only rule fires under the profile's answer
    # and not under the stack-name fallback ("staging" is not prod by name).
    export.pop("policy")
    (cluster,) = [r for r in export["resources"] if r["type"] == MANAGED_CLUSTER]
    cluster["inputs"]["sku"] = {"name": "Base", "tier": "Free"}
    by_name = policy_report.evaluate_plan(export, exceptions=[])
    by_profile = policy_report.evaluate_plan(export, exceptions=[], production=True)
    fired = {v.rule for v in by_profile.violations} - {v.rule for v in by_name.violations}
    assert "aks-paid-tier-in-prod" in fired
    assert code in (0, 1)


def test_check_of_a_saved_plan_keeps_its_recorded_answer() -> None:
    plan = {"stack": "staging", "resources": [], "policy": {"production": True}}
    assert policy_report.evaluate_plan(plan, exceptions=[]).production is True
    assert policy_report.evaluate_plan({**plan, "policy": {}}, exceptions=[]).production is False
