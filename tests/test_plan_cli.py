"""The offline plan command: summary, JSON export shape, exit codes, masking."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.config.stack import read_stack_file
from airflow_aks.estimate import cost
from airflow_aks.offline import plan
from airflow_aks.program import stack as program
from tests.conftest import ROOT

KEYS = {"urn", "type", "name", "custom", "parent", "provider", "dependencies", "protect", "inputs"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_command_writes_export(stack, tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert cli.main(["plan", "--stack", stack, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"Offline plan of stack '{stack}'" in text
    assert "azure-native:containerservice:ManagedCluster" in text and "Stack outputs:" in text
    export = json.loads(out.read_text())
    assert export["project"] == "airflow-aks" and export["stack"] == stack
    assert export["resources"] and all(set(r) >= KEYS for r in export["resources"])
    urns = {r["urn"] for r in export["resources"]}
    for r in export["resources"]:
        # Every dependency and parent points at a resource in the same plan (or the stack).
        for dep in r["dependencies"]:
            assert dep in urns or dep.endswith("pulumi:pulumi:Stack::airflow-aks-" + stack), dep
        if r["parent"]:
            assert r["parent"] in r["dependencies"]


def test_bad_config_exits_2_naming_key_and_suggestion(tmp_path):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(
        "config:\n  airflow-aks:location: westeurope\n  airflow-aks:aks:\n"
        "    adminGroupObjectIds: [7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47]\n"
        "    authorizedIpRanges: [203.0.113.0/24]\n"
        "    systemPool:\n      nodeCoutn: 3\n    tier: Gold\n  airflow-aks:netwrk: {}\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow_aks.cli.main",
            "plan",
            "--stack",
            "dev",
            "--config",
            str(bad),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "airflow-aks:aks.systemPool.nodeCoutn" in proc.stderr and "'nodeCount'" in proc.stderr
    assert "airflow-aks:aks.tier" in proc.stderr and "airflow-aks:netwrk" in proc.stderr
    assert "3 problem(s)" in proc.stderr


def test_missing_stack_file_exits_2(tmp_path, capsys):
    assert cli.main(["plan", "--stack", "dev", "--config", str(tmp_path / "nope.yaml")]) == 2


def test_invalid_config_registers_nothing():
    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    raw = {**raw, "airflow-aks:aks": {"tier": "Gold"}}
    monitor_seen: list[str] = []

    def probe():
        try:
            program.main()
        finally:
            import pulumi.runtime.settings as s

            monitor_seen.extend(r.urn for r in s.SETTINGS.monitor.registrations)  # type: ignore[attr-defined]

    with pytest.raises(Exception, match=r"aks\.tier"):
        plan.run(probe, stack="dev", config=raw)
    assert monitor_seen == []


def test_secrets_masked_and_unknowns_marked(dev_plan):
    text = json.dumps(dev_plan)
    assert '"kubeconfig": "[secret]"' in text
    assert "[unknown]" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "pw"},
            "[secret]",
        ),
        ("04da6b54-80e4-46f7-96ec-b56ff0331ba9", "[unknown]"),
        ({"a": [1.0, 2.5]}, {"a": [1, 2.5]}),
        (
            {
                "4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4",
                "secret": True,
            },
            "[secret]",
        ),
        ({"4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4"}, "[unknown]"),
    ],
)
def test_sanitize(value, expected):
    assert plan.sanitize(value) == expected


def test_arm_ids_render_from_inputs_with_unknown_subscription():
    m = plan.PlanMocks()
    from pulumi.runtime.mocks import MockResourceArgs

    rid, state = m.new_resource(
        MockResourceArgs(
            typ="azure-native:keyvault:Vault",
            name="kv",
            inputs={"vaultName": "kv1", "resourceGroupName": "rg"},
            provider="",
            resource_id="",
            custom=True,
        )
    )
    assert (
        rid == "/subscriptions/[unknown]/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
    )
    assert state["name"] == "kv1"
    assert state["properties"]["vaultUri"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_project_root_found_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (cli.project_root() / "Pulumi.yaml").is_file()
    assert Path(cli.stack_file("dev", None)).name == "Pulumi.dev.yaml"


def test_shipped_example_stack_files_plan_cleanly(capsys):
    for example in sorted((ROOT / "examples").glob("Pulumi.*.yaml")):
        assert cli.main(["plan", "--stack", "dev", "--config", str(example)]) == 0, example
        assert "mandatory 0" in capsys.readouterr().out


def test_prod_plan_prints_the_post_create_step(prod_plan, dev_plan):
    """The Gateway API CRDs and app routing's Istio need a cluster setting that
    pulumi-azure-native 3.29.0's ManagedCluster API version (2025-09-01) cannot express:
    the plan prints the one step, with the real names."""
    from airflow_aks.cli.main import post_create_steps, summarize

    (step,) = post_create_steps(prod_plan)
    assert step.startswith("az aks update -g rg-airflow-prod-weu -n aks-")
    assert "--enable-gateway-api --enable-app-routing-istio" in step
    assert step in summarize(prod_plan)
    assert post_create_steps(dev_plan) == []  # no entrance in dev


def test_plan_with_a_year_old_price_table_warns_and_exits_0(tmp_path, capsys):
    """An old price table must not stop `make plan`, the PR checks or deploys."""
    data = json.loads(cost.DEFAULT_TABLE.read_text())
    year_ago = (date.today() - timedelta(days=365)).isoformat()
    for row in data["prices"]:
        row["seen"] = year_ago
    old = tmp_path / "prices.json"
    old.write_text(json.dumps(data))
    assert cli.main(["plan", "--stack", "dev", "--prices", str(old)]) == 0
    out, err = capsys.readouterr()
    assert "warning: price table" in err and "365 days old" in err
    assert "WARNING: price table" in out and "365 days old" in out
