"""`airflow-aks plan --diff`: hand-made pairs of plan exports with known answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.offline import diff as plan_diff

STACK = "urn:pulumi:dev::airflow-aks::"


def res(typ: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"urn": f"{STACK}{typ}::{name}", "type": typ, "name": name, "inputs": inputs, **extra}


VAULT = "azure-native:keyvault:Vault"
NS = "kubernetes:core/v1:Namespace"
DEPLOY = "kubernetes:apps/v1:Deployment"
BASE: dict[str, Any] = {
    "project": "airflow-aks",
    "stack": "dev",
    "resources": [
        res(VAULT, "kv", {"vaultName": "kv-a", "location": "westeurope", "tags": {"env": "dev"}}),
        res(NS, "airflow", {"metadata": {"name": "airflow", "labels": {"a": "1"}}}),
        res(DEPLOY, "web", {"metadata": {"name": "web"}, "spec": {"replicas": 1}}),
        res("random:index/randomPassword:RandomPassword", "pw", {"length": 32}),
        res(
            "azure-native:keyvault:Secret",
            "s",
            {"secretName": "s", "properties": {"value": "[secret]"}},
        ),
    ],
    "outputs": {"vaultName": "kv-a"},
}


def edited(**changes: Any) -> dict[str, Any]:
    head = copy.deepcopy(BASE)
    by_name = {r["name"]: r for r in head["resources"]}
    for name, fn in changes.items():
        fn(by_name[name], head)
    return head


def test_identical_plans_have_no_change() -> None:
    d = plan_diff.diff(BASE, copy.deepcopy(BASE))
    assert d.empty
    assert "No change to the platform." in plan_diff.markdown(d, "dev")


def test_add_remove_update_and_replace_are_told_apart() -> None:
    def grow(r: dict[str, Any], _: dict[str, Any]) -> None:
        r["inputs"]["spec"]["replicas"] = 3  # update in place

    def rename(r: dict[str, Any], _: dict[str, Any]) -> None:
        r["inputs"]["vaultName"] = "kv-b"  # a path parameter: replacement

    def drop(r: dict[str, Any], head: dict[str, Any]) -> None:
        head["resources"].remove(r)

    head = edited(web=grow, kv=rename, pw=drop)
    head["resources"].append(res(NS, "domain-a", {"metadata": {"name": "domain-a"}}))
    head["outputs"]["vaultName"] = "kv-b"
    d = plan_diff.diff(BASE, head)
    assert [r["name"] for r in d.added] == ["domain-a"]
    assert [r["name"] for r in d.removed] == ["pw"]
    assert {c.urn.rsplit("::", 1)[-1]: c.replace for c in d.changed} == {"kv": True, "web": False}
    assert [(o.path, o.before, o.after) for o in d.outputs] == [("vaultName", "kv-a", "kv-b")]
    text = plan_diff.markdown(d, "dev")
    assert "**1 to add, 1 to update, 1 to replace, 1 to delete**, 1 output change(s)" in text
    assert "> - kv (azure-native:keyvault:Vault)" in text
    assert "| `vaultName` | `kv-a` | `kv-b` | forces replacement |" in text
    assert "| `spec.replicas` | `1` | `3` |  |" in text


@pytest.mark.parametrize(
    ("name", "path", "value", "replace"),
    [
        ("kv", "location", "northeurope", True),  # ARM cannot move a resource in place
        ("kv", "tags", {"env": "prod"}, False),
        ("airflow", "metadata", {"name": "airflow2", "labels": {"a": "1"}}, True),
        ("airflow", "metadata", {"name": "airflow", "labels": {"a": "2"}}, False),
        ("web", "spec", {"replicas": 1, "selector": {"matchLabels": {"x": "y"}}}, True),
    ],
)
def test_which_inputs_force_replacement(name: str, path: str, value: Any, replace: bool) -> None:
    head = edited(**{name: lambda r, _: r["inputs"].__setitem__(path, value)})
    (change,) = plan_diff.diff(BASE, head).changed
    assert change.replace is replace, change.changes


def test_replace_on_changes_option_is_honoured() -> None:
    def opt(r: dict[str, Any], _: dict[str, Any]) -> None:
        r["options"] = {"replaceOnChanges": ["spec.replicas"]}
        r["inputs"]["spec"]["replicas"] = 2

    (change,) = plan_diff.diff(BASE, edited(web=opt)).changed
    assert change.replace


def test_secrets_stay_hidden() -> None:
    def rotate(r: dict[str, Any], _: dict[str, Any]) -> None:
        r["inputs"]["properties"]["contentType"] = "text/plain"

    text = plan_diff.markdown(plan_diff.diff(BASE, edited(s=rotate)), "dev")
    assert "contentType" in text
    assert "properties.value" not in text  # unchanged secret: not even listed


def test_refuses_plans_of_other_stacks_and_non_plans() -> None:
    with pytest.raises(ValueError, match="different stacks"):
        plan_diff.diff(BASE, {**BASE, "stack": "prod"})
    with pytest.raises(ValueError, match="not a plan export"):
        plan_diff.diff({"stack": "dev"}, BASE)


def test_cli_diff_against_the_dev_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import plan_export

    base = copy.deepcopy(plan_export("dev"))
    victim = next(r for r in base["resources"] if r["type"] == VAULT)
    victim["inputs"]["tags"] = {**victim["inputs"].get("tags", {}), "owner": "someone"}
    base_path = tmp_path / "base.json"
    base_path.write_text(json.dumps(base))
    out_md = tmp_path / "diff.md"
    # The CLI plans the working tree again; compare that with the edited base.
    code = cli.main(
        ["plan", "--stack", "dev", "--diff", str(base_path), "--diff-markdown", str(out_md)]
    )
    assert code == 0
    text = out_md.read_text()
    assert "0 to add, 1 to update, 0 to replace, 0 to delete" in text
    assert "`tags.owner` | `someone` | `(absent)`" in text
    assert text in capsys.readouterr().out


def test_cli_diff_reports_a_bad_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli.main(["plan", "--stack", "dev", "--diff", str(bad)]) == cli.EXIT_CONFIG
    assert "--diff" in capsys.readouterr().err
