"""`airflow-aks policies`, the plan's policy section, the docs rule table and the real plans."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.offline import policy_report
from airflow_aks.policies.rules import ALL_RULES, RULES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
ROLE_DEFS = "/subscriptions/[unknown]/providers/Microsoft.Authorization/roleDefinitions"
STACK_URN = "urn:pulumi:dev::airflow-aks::"
ROLE_URN = f"{STACK_URN}kubernetes:rbac.authorization.k8s.io/v1:Role::everything"
OWNER_URN = f"{STACK_URN}azure-native:authorization:RoleAssignment::owner"


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------ --list


def test_list_json_has_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["policies", "--list", "--json"], capsys)
    assert code == 0
    rules = json.loads(out)
    assert [r["name"] for r in rules] == [r.name for r in ALL_RULES]
    assert {"name", "level", "description", "mirrors"} <= set(rules[0])


def test_list_text_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["policies", "--list"], capsys)
    assert code == 0 and all(r.name in out for r in ALL_RULES)
    assert f"{len(ALL_RULES)} rules" in out
    code, out, _ = run_cli(["policies", "--list", "--markdown"], capsys)
    assert out.strip() == policy_report.doc_block()


def test_docs_rule_table_is_current() -> None:
    """Regenerate with `airflow-aks policies --update-doc docs/policies.md`."""
    text = (ROOT / "docs" / "policies.md").read_text()
    assert "# Policy pack" in text
    current = policy_report.doc_table(text)
    assert current is not None, "docs/policies.md lacks the <!-- rules:start/end --> markers"
    assert current == policy_report.doc_block(), (
        "docs/policies.md rule table is stale: run "
        "`airflow-aks policies --update-doc docs/policies.md`"
    )


def test_update_doc_rewrites_only_the_block(tmp_path: Path) -> None:
    doc = tmp_path / "policies.md"
    doc.write_text(f"# x\n\n{policy_report.DOC_START}\nold\n{policy_report.DOC_END}\ntail\n")
    assert policy_report.update_doc(doc)
    text = doc.read_text()
    assert text.startswith("# x\n") and text.endswith("tail\n") and "stale-row" not in text
    assert not policy_report.update_doc(doc)
    (tmp_path / "none.md").write_text("no markers")
    with pytest.raises(policy_report.PolicyInputError, match="markers"):
        policy_report.update_doc(tmp_path / "none.md")


# ------------------------------------------------------------------ --check


def test_check_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["policies", "--check", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "not found" in err
    (tmp_path / "bad.json").write_text("{")
    code, _, err = run_cli(["policies", "--check", str(tmp_path / "bad.json")], capsys)
    assert code == 2 and "not valid JSON" in err
    (tmp_path / "other.json").write_text('{"resources": [{"name": "x"}]}')
    code, _, err = run_cli(["policies", "--check", str(tmp_path / "other.json")], capsys)
    assert code == 2 and "resources[0]" in err


def test_check_reports_malformed_exceptions_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"stack": "dev", "resources": []}))
    excs = tmp_path / "exc"
    excs.mkdir()
    (excs / "dev.yaml").write_text(
        "- rule: aks-rbac-enabled\n  urn: x\n  reason: r\n  expires: never\n  approvedBy: j\n"
    )
    code, _, err = run_cli(["policies", "--check", str(plan), "--exceptions", str(excs)], capsys)
    assert code == 2 and "exceptions[0].expires" in err


def _edit_bad(plan: dict[str, Any]) -> dict[str, Any]:
    """The issue's acceptance edit: local accounts on, a wildcard Role, an Owner assignment
    at subscription scope."""
    bad = copy.deepcopy(plan)
    bad.pop("policy", None)
    cluster = next(
        r for r in bad["resources"] if r["type"].endswith("containerservice:ManagedCluster")
    )
    cluster["inputs"]["disableLocalAccounts"] = False
    stack_urn = "urn:pulumi:dev::airflow-aks::"
    bad["resources"] += [
        {
            "urn": f"{stack_urn}kubernetes:rbac.authorization.k8s.io/v1:Role::everything",
            "type": "kubernetes:rbac.authorization.k8s.io/v1:Role",
            "name": "everything",
            "inputs": {
                "metadata": {"name": "everything", "namespace": "airflow"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            },
            "dependencies": [],
        },
        {
            "urn": f"{stack_urn}azure-native:authorization:RoleAssignment::owner",
            "type": "azure-native:authorization:RoleAssignment",
            "name": "owner",
            "inputs": {
                "principalId": "[unknown]",
                "principalType": "ServicePrincipal",
                "roleDefinitionId": f"{ROLE_DEFS}/{OWNER}",
                "scope": "/subscriptions/[unknown]",
            },
            "dependencies": [],
        },
    ]
    return bad


def test_edited_plan_fails_naming_rule_and_urn(
    dev_plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    bad = _edit_bad(dev_plan)
    path.write_text(json.dumps(bad))
    code, out, _ = run_cli(["policies", "--check", str(path)], capsys)
    assert code == 1
    cluster_urn = next(r["urn"] for r in bad["resources"] if r["type"].endswith(":ManagedCluster"))
    expected = {
        "aks-local-accounts-disabled": cluster_urn,
        "k8s-rbac-no-wildcards": ROLE_URN,
        "identity-no-privileged-role": OWNER_URN,
        "identity-no-subscription-scope": OWNER_URN,
    }
    lines = out.splitlines()
    for rule, urn in expected.items():
        assert any(rule in line and urn in line and "MANDATORY" in line for line in lines), rule
    code, out, _ = run_cli(["policies", "--check", str(path), "--json"], capsys)
    assert code == 1
    found = {(v["rule"], v["urn"]) for v in json.loads(out)["violations"]}
    assert set(expected.items()) <= found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_pass_every_mandatory_rule(
    stack: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = request.getfixturevalue(f"{stack}_plan")
    results = policy_report.evaluate_plan(plan)
    assert results.production is (stack == "prod")
    failing = [f"{v.rule} on {v.urn}: {v.message}" for v in results.open if v.level == "mandatory"]
    assert failing == [], "\n".join(failing)
    # and through the CLI, on the exported file
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, out, _ = run_cli(["policies", "--check", str(path)], capsys)
    assert code == 0 and "mandatory 0" in out


def test_plan_export_gains_policy_section(dev_plan: dict[str, Any]) -> None:
    export = copy.deepcopy(dev_plan)
    export.pop("policy", None)
    results = policy_report.attach(export)
    section = export["policy"]
    assert section["mandatory"] == results.mandatory == 0
    assert section["rules"] == len(RULES_BY_NAME)
    assert {"passed", "advisory", "excepted", "violations"} <= set(section)
    json.dumps(section)  # serialisable as part of the plan JSON


def test_format_results_lists_excepted_and_fail_line() -> None:
    from airflow_aks.policies.rules import Results, Violation

    r = Results("dev", False, 3, 5)
    r.violations += [
        Violation("a-rule", "mandatory", "urn:a", "broken"),
        Violation("b-rule", "advisory", "urn:b", "meh", True, "agreed"),
    ]
    text = policy_report.format_results(r)
    assert "MANDATORY a-rule  urn:a" in text and "EXCEPTED  b-rule  urn:b" in text
    assert "exception: agreed" in text and "FAILED: 1 mandatory" in text
    assert (
        policy_report.policies_command(
            argparse.Namespace(check=None, update_doc=None, json=False, markdown=False)
        )
        == 0
    )
