"""A check that could not look must not pass: unrendered charts, protected replacements,
diff cells that hide the change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from airflow_aks.cli.main import main, print_diff
from airflow_aks.offline import diff as plan_diff

KUMA = str(ROOT / "examples" / "Pulumi.dev-kuma.yaml")  # a stack whose plan holds charts


def test_asking_for_a_render_that_cannot_happen_fails_naming_the_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--stack", "dev", "--config", KUMA, "--chart-cache", str(tmp_path)]
    assert main([*args, "--render", "--no-key-probes"]) == 1
    err = capsys.readouterr().err
    assert "rendering was requested but 4 chart(s) were not rendered" in err
    for chart in ("airflow 1.22.0", "cert-manager v1.21.1", "kuma 2.14.3"):
        assert chart in err
    assert main([*args, "--pull", "--no-render", "--no-key-probes"]) == 1  # pull asks too
    # Not asked: a local plan without charts at hand still reports and passes.
    assert main([*args, "--no-key-probes"]) == 0


def test_the_pull_request_workflow_asks_for_the_render() -> None:
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    steps = wf["jobs"]["offline-plan"]["steps"]
    step = next(s for s in steps if "real charts" in s.get("name", ""))
    assert "--render --pull" in step["run"]  # so an unrendered chart fails the job


def _export(protect: bool, name: str) -> dict[str, Any]:
    vault = {
        "urn": "urn:pulumi:prod::airflow-aks::azure-native:keyvault:Vault::keyvault",
        "type": "azure-native:keyvault:Vault",
        "protect": protect,
        "inputs": {"vaultName": name, "resourceGroupName": "rg"},
        "options": {},
    }
    return {"stack": "prod", "resources": [vault], "outputs": {}}


def test_a_protected_replacement_is_stated_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(_export(True, "kv-a")))
    md = tmp_path / "diff.md"
    assert print_diff(str(base), _export(True, "kv-b"), str(md)) == 1
    assert "protected resource(s)" in capsys.readouterr().err
    text = md.read_text()
    assert "[!CAUTION]" in text and "keyvault (azure-native:keyvault:Vault)" in text
    assert print_diff(str(base), _export(False, "kv-b"), None) == 1  # protected in the base
    base.write_text(json.dumps(_export(False, "kv-a")))
    assert print_diff(str(base), _export(False, "kv-b"), None) == 0  # replaced, not protected
    deleted = {"stack": "prod", "resources": [], "outputs": {}}
    base.write_text(json.dumps(_export(True, "kv-a")))
    assert print_diff(str(base), deleted, None) == 1


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("x" * 100 + "a", "x" * 100 + "b"),  # differ past the cut
        ("x" * 100, "x" * 101),  # one is a prefix of the other
        ({"k": "y" * 80, "z": 1}, {"k": "y" * 80, "z": 2}),
        ("short", "x" * 200),
    ],
)
def test_long_values_that_differ_never_look_equal(before: Any, after: Any) -> None:
    left, right = plan_diff._cells(before, after)
    assert left != right
    assert max(len(left), len(right)) <= plan_diff._MAX_VALUE + 4  # still a table cell
    base = {"stack": "s", "resources": [], "outputs": {"o": before}}
    head = {"stack": "s", "resources": [], "outputs": {"o": after}}
    row = next(
        x
        for x in plan_diff.markdown(plan_diff.diff(base, head), "s").splitlines()
        if x.startswith("| `o")
    )
    assert row.split(" | ")[1] != row.split(" | ")[2]
