"""The offline evaluator, per-stack exceptions and the CrossGuard adapters.

Never imports ``policies/__main__.py`` (constructing a PolicyPack starts a gRPC server).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from airflow_aks.policies.rules import (
    ALL_RULES,
    RULES_BY_NAME,
    ExceptionsFileError,
    PolicyException,
    build_policies,
    evaluate,
    is_production,
    load_exceptions,
    pack,
    parse_exceptions,
)
from airflow_aks.policies.rules import _core as c

TODAY = dt.date(2026, 11, 23)
CLUSTER_URN = (
    "urn:pulumi:dev::airflow-aks::airflow-aks:index:Cluster"
    "$azure-native:containerservice:ManagedCluster::aks"
)
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RA_URN = "urn:pulumi:dev::airflow-aks::azure-native:authorization:RoleAssignment::owner"


def cluster(**changes: Any) -> dict[str, Any]:
    from test_policy_rules import CLUSTER

    return {**CLUSTER, **changes}


def plan_resources(**cluster_changes: Any) -> list[dict[str, Any]]:
    from test_deploy_rules import good_stack

    # The cluster's companions the deploy rules ask for (admin grant, Container Insights
    # rule and association, control-plane logs), tied to this cluster's URN.
    companions = [
        {**r, "propertyDependencies": {k: [CLUSTER_URN] for k in r["propertyDependencies"]}}
        for r in good_stack()
        if r["name"] in ("cluster-admin", "ci", "control-plane")
    ]
    return [
        *companions,
        {
            "urn": CLUSTER_URN,
            "type": c.MANAGED_CLUSTER,
            "name": "aks",
            "inputs": cluster(**cluster_changes),
        },
        {
            "urn": RA_URN,
            "type": c.ROLE_ASSIGNMENT,
            "name": "owner",
            "inputs": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
                "scope": "/subscriptions/0000",
                "principalType": "ServicePrincipal",
            },
        },
    ]


# ------------------------------------------------------------------ evaluate


def test_evaluate_counts_and_levels() -> None:
    results = evaluate(plan_resources(), "dev", [], today=TODAY)
    rules = {v.rule for v in results.violations}
    assert rules == {"identity-no-privileged-role", "identity-no-subscription-scope"}
    assert results.mandatory == 2 and results.advisory == 0 and results.excepted == 0
    assert results.passed == len(ALL_RULES) - 2
    assert not results.ok
    assert all(v.urn == RA_URN for v in results.violations)
    d = results.to_dict()
    assert {"passed", "advisory", "mandatory", "excepted", "violations", "rules", "checks"} <= set(
        d
    )
    assert d["violations"][0]["urn"] == RA_URN


def test_evaluate_production_from_stack_name() -> None:
    free = plan_resources(sku={"name": "Base", "tier": "Free"})
    assert "aks-paid-tier-in-prod" not in {v.rule for v in evaluate(free, "dev", []).violations}
    prod = evaluate(free, "prod", [], today=TODAY)
    assert prod.production
    assert "aks-paid-tier-in-prod" in {v.rule for v in prod.violations}
    assert evaluate(free, "staging", [], production=True).production


@pytest.mark.parametrize(
    ("stack", "prod"),
    [("prod", True), ("production", True), ("prod-weu", True), ("dev", False), ("product", False)],
)
def test_is_production(stack: str, prod: bool) -> None:
    assert is_production(stack) is prod


def test_exception_excepts_matching_violation_by_glob() -> None:
    exc = PolicyException(
        "identity-no-privileged-role",
        "urn:pulumi:dev::airflow-aks::*RoleAssignment::*",
        "bootstrap only",
        dt.date(2027, 1, 1),
        "jane",
    )
    results = evaluate(plan_resources(), "dev", [exc], today=TODAY)
    excepted = [v for v in results.violations if v.excepted]
    assert [v.rule for v in excepted] == ["identity-no-privileged-role"]
    assert excepted[0].exception_reason == "bootstrap only"
    assert results.excepted == 1 and results.mandatory == 1


def test_expired_exception_no_longer_applies_and_is_a_violation() -> None:
    exc = PolicyException(
        "identity-no-privileged-role", RA_URN, "bootstrap", dt.date(2026, 11, 22), "jane"
    )
    results = evaluate(plan_resources(), "dev", [exc], today=TODAY)
    rules = [v.rule for v in results.violations if not v.excepted]
    assert "identity-no-privileged-role" in rules
    assert "policy-exception-not-expired" in rules
    # valid through its expiry day
    same_day = evaluate(plan_resources(), "dev", [exc], today=dt.date(2026, 11, 22))
    assert "policy-exception-not-expired" not in {v.rule for v in same_day.violations}


GOOD_ENTRY = {
    "rule": "aks-disk-encryption-set",
    "urn": "urn:pulumi:dev::airflow-aks::*",
    "reason": "platform keys are enough for dev",
    "expires": dt.date(2027, 6, 30),
    "approvedBy": "jane.doe@example.com",
}


def test_parse_exceptions_accepts_list_and_mapping() -> None:
    excs = parse_exceptions([GOOD_ENTRY], known_rules=RULES_BY_NAME)
    assert excs[0].expires == dt.date(2027, 6, 30) and excs[0].approved_by == "jane.doe@example.com"
    assert parse_exceptions({"exceptions": [{**GOOD_ENTRY, "expires": "2027-06-30"}]}) == excs
    assert parse_exceptions(None) == ()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ([{**GOOD_ENTRY, "expires": "soon"}], "exceptions[0].expires"),
        (
            [{k: v for k, v in GOOD_ENTRY.items() if k != "reason"}],
            "exceptions[0].reason: required",
        ),
        ([{**GOOD_ENTRY, "approvedby": "x"}], "exceptions[0].approvedby: unknown key"),
        (
            [GOOD_ENTRY, {**GOOD_ENTRY, "rule": "aks-no-such-rule"}],
            "exceptions[1].rule: unknown rule",
        ),
        ([{**GOOD_ENTRY, "urn": 5}], "exceptions[0].urn: expected a string"),
        ({"exception": []}, "unknown top-level key 'exception'"),
        ("just text", "expected a list"),
        (["x"], "exceptions[0]: expected a mapping"),
    ],
)
def test_malformed_exceptions_name_the_key(data: Any, needle: str) -> None:
    with pytest.raises(ExceptionsFileError, match=None) as err:
        parse_exceptions(data, "dev.yaml", known_rules=RULES_BY_NAME)
    assert needle in str(err.value) and "dev.yaml" in str(err.value)


def test_load_exceptions_from_directory(tmp_path: Path) -> None:
    assert load_exceptions("dev", tmp_path) == ()
    (tmp_path / "dev.yaml").write_text(
        "- rule: aks-disk-encryption-set\n"
        "  urn: 'urn:pulumi:dev::airflow-aks::*'\n"
        "  reason: dev uses platform keys\n"
        "  expires: 2027-06-30\n"
        "  approvedBy: jane\n"
    )
    (excs,) = load_exceptions("dev", tmp_path, known_rules=RULES_BY_NAME)
    assert excs.expires == dt.date(2027, 6, 30)
    (tmp_path / "bad.yaml").write_text("- rule: [unclosed\n")
    with pytest.raises(ExceptionsFileError, match="not valid YAML"):
        load_exceptions("bad", tmp_path)


def exception_documents(directory: Path) -> dict[str, Any]:
    """Every exceptions document shipped in ``directory``: each ``<stack>.yaml`` and each
    ```yaml example in its README (the format users copy)."""
    import re

    import yaml

    docs: dict[str, Any] = {f.name: f for f in sorted(directory.glob("*.yaml"))}
    readme = directory / "README.md"
    if readme.exists():
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", readme.read_text(), re.S)):
            docs[f"README.md example {i + 1}"] = yaml.safe_load(block)
    return docs


def shipped_exception_problems(directory: Path, root: Path) -> list[str]:
    """Why a shipped exceptions document would not work: unparseable, an unknown rule, or a
    file for a stack the project does not have (it would silently never apply)."""
    problems = []
    for name, doc in exception_documents(directory).items():
        try:
            if isinstance(doc, Path):
                load_exceptions(doc.stem, directory, known_rules=RULES_BY_NAME)
                if not (root / f"Pulumi.{doc.stem}.yaml").exists():
                    problems.append(f"{name}: no stack file Pulumi.{doc.stem}.yaml")
            else:
                parse_exceptions(doc, name, known_rules=RULES_BY_NAME)
        except ExceptionsFileError as e:
            problems.append(str(e))
    return problems


def test_shipped_exception_files_are_valid() -> None:
    from airflow_aks.policies.rules import EXCEPTIONS_DIR

    root = Path(__file__).resolve().parent.parent
    assert exception_documents(EXCEPTIONS_DIR), f"nothing shipped in {EXCEPTIONS_DIR} to check"
    assert shipped_exception_problems(EXCEPTIONS_DIR, root) == []


def test_shipped_exception_check_catches_bad_documents(tmp_path: Path) -> None:
    """The check above can fail: a renamed rule in the README example, a file for a stack
    that does not exist, a malformed entry."""
    root = Path(__file__).resolve().parent.parent
    entry = "- rule: {rule}\n  urn: x\n  reason: r\n  expires: 2030-01-01\n  approvedBy: j\n"
    (tmp_path / "README.md").write_text(f"```yaml\n{entry.format(rule='aks-no-such-rule')}```\n")
    (tmp_path / "staging.yaml").write_text(entry.format(rule="aks-rbac-enabled"))
    (tmp_path / "dev.yaml").write_text("- rule: aks-rbac-enabled\n")
    problems = shipped_exception_problems(tmp_path, root)
    assert len(problems) == 3, problems
    assert any("unknown rule 'aks-no-such-rule'" in p for p in problems)
    assert any("Pulumi.staging.yaml" in p for p in problems)
    assert any("dev.yaml: exceptions[0].urn: required" in p for p in problems)


# ------------------------------------------------------------------ CrossGuard adapters


def _collect() -> tuple[list[tuple[str, str | None]], Any]:
    found: list[tuple[str, str | None]] = []
    return found, lambda message, urn=None: found.append((message, urn))


def test_build_policies_one_per_rule_with_levels() -> None:
    policies = build_policies()
    assert [p.name for p in policies] == [r.name for r in ALL_RULES]
    for p, r in zip(policies, ALL_RULES, strict=True):
        assert isinstance(
            p, StackValidationPolicy if r.kind == "stack" else ResourceValidationPolicy
        )
        want = EnforcementLevel.MANDATORY if r.level == "mandatory" else EnforcementLevel.ADVISORY
        assert p.enforcement_level == want
        assert r.description in p.description


def _policy(name: str) -> Any:
    return next(p for p in build_policies() if p.name == name)


def test_resource_policy_validate_reports_through_crossguard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "dev")
    policy = _policy("aks-local-accounts-disabled")
    props = unknown_checking_proxy(cluster(disableLocalAccounts=False))
    args = ResourceValidationArgs(c.MANAGED_CLUSTER, props, CLUSTER_URN, "aks", None, None)  # type: ignore[arg-type]
    found, report = _collect()
    policy.validate(args, report)
    assert len(found) == 1 and "disableLocalAccounts" in found[0][0] and found[0][1] == CLUSTER_URN

    found, report = _collect()
    policy.validate(
        ResourceValidationArgs(
            c.MANAGED_CLUSTER, unknown_checking_proxy(cluster()), CLUSTER_URN, "aks", None, None
        ),
        report,
    )  # type: ignore[arg-type]
    assert found == []
    # other resource types are not this rule's business
    policy.validate(ResourceValidationArgs(c.VAULT, {}, "urn:x", "kv", None, None), report)  # type: ignore[arg-type]
    assert found == []


def test_unknowns_from_preview_become_plan_unknowns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown sentinels never raise inside our checks: a computed issuer passes, an unknown
    security switch is reported like in the offline plan."""
    monkeypatch.setenv("PULUMI_STACK", "dev")
    fic = {
        "issuer": UNKNOWN_STRING_VALUE,
        "subject": "system:serviceaccount:a:b",
        "audiences": ["api://AzureADTokenExchange"],
    }
    props = unknown_checking_proxy(fic)
    assert pack.plain(props)["issuer"] == "[unknown]"
    found, report = _collect()
    _policy("identity-federated-issuer-aks").validate(
        ResourceValidationArgs(c.FEDERATED_CREDENTIAL, props, "urn:fic", "fic", None, None),
        report,  # type: ignore[arg-type]
    )
    assert found == []
    bad = unknown_checking_proxy(cluster(disableLocalAccounts=UNKNOWN_BOOLEAN_VALUE))
    _policy("aks-local-accounts-disabled").validate(
        ResourceValidationArgs(c.MANAGED_CLUSTER, bad, CLUSTER_URN, "aks", None, None),
        report,  # type: ignore[arg-type]
    )
    assert len(found) == 1


def test_stack_policy_validate_with_policy_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "dev")
    uai = PolicyResource(
        c.USER_ASSIGNED_IDENTITY,
        unknown_checking_proxy({"clientId": "1111"}),
        "urn:uai",
        "id",
        None,
        None,
        None,
        [],
        {},
    )  # type: ignore[arg-type]
    cred = PolicyResource(
        c.FEDERATED_CREDENTIAL,
        unknown_checking_proxy(
            {
                "subject": "system:serviceaccount:airflow:worker",
                "audiences": ["api://AzureADTokenExchange"],
            }
        ),
        "urn:cred",
        "cred",
        None,
        None,
        None,
        [uai],
        {},  # type: ignore[arg-type]
    )
    sa = PolicyResource(
        c.SERVICE_ACCOUNT,
        unknown_checking_proxy(
            {
                "metadata": {
                    "name": "worker",
                    "namespace": "airflow",
                    "annotations": {"azure.workload.identity/client-id": "2222"},
                }
            }
        ),
        "urn:sa",
        "sa",
        None,
        None,
        None,
        [],
        {},  # type: ignore[arg-type]
    )
    found, report = _collect()
    _policy("stack-serviceaccount-client-id").validate(StackValidationArgs([uai, cred, sa]), report)
    assert found and found[0][1] == "urn:sa" and "2222" in found[0][0]
    found, report = _collect()
    _policy("stack-federated-subject-has-serviceaccount").validate(
        StackValidationArgs([uai, cred, sa]), report
    )
    assert found == []
    assert pack.to_plan_resource(cred)["dependencies"] == ["urn:uai"]


def test_pack_applies_stack_exceptions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PULUMI_STACK", "ci-test")
    monkeypatch.setattr("airflow_aks.policies.rules._exceptions.EXCEPTIONS_DIR", tmp_path)
    pack._exceptions.cache_clear()
    (tmp_path / "ci-test.yaml").write_text(
        f"- rule: aks-local-accounts-disabled\n  urn: '{CLUSTER_URN}'\n  reason: break-glass test\n"
        "  expires: 2999-01-01\n  approvedBy: jane\n"
    )
    try:
        found, report = _collect()
        args = ResourceValidationArgs(
            c.MANAGED_CLUSTER, cluster(disableLocalAccounts=False), CLUSTER_URN, "aks", None, None
        )  # type: ignore[arg-type]
        _policy("aks-local-accounts-disabled").validate(args, report)
        assert found == []
    finally:
        pack._exceptions.cache_clear()


def test_pack_reports_expired_exception_without_fake_urn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "ci-expired")
    monkeypatch.setattr("airflow_aks.policies.rules._exceptions.EXCEPTIONS_DIR", tmp_path)
    pack._exceptions.cache_clear()
    (tmp_path / "ci-expired.yaml").write_text(
        "- rule: aks-rbac-enabled\n  urn: 'urn:pulumi:ci-expired::*'\n  reason: old\n"
        "  expires: 2000-01-01\n  approvedBy: jane\n"
    )
    try:
        found, report = _collect()
        _policy("policy-exception-not-expired").validate(StackValidationArgs([]), report)
        assert len(found) == 1 and found[0][1] is None and "2000-01-01" in found[0][0]
    finally:
        pack._exceptions.cache_clear()


def test_stack_policy_sees_protect_from_resource_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside `pulumi preview` protect arrives as PolicyResource.opts.protect; the adapter
    carries it into the plan shape so stack-protect-stateful-in-prod works there too."""
    from pulumi_policy.policy import PolicyResourceOptions

    monkeypatch.setenv("PULUMI_STACK", "prod")

    def vault(protect: bool) -> PolicyResource:
        opts = PolicyResourceOptions(protect, [], False, [], None, [])  # type: ignore[arg-type]
        return PolicyResource(
            c.VAULT, unknown_checking_proxy({}), "urn:kv", "kv", opts, None, None, [], {}
        )  # type: ignore[arg-type]

    for protect, expected in ((True, []), (False, ["urn:kv"])):
        found, report = _collect()
        _policy("stack-protect-stateful-in-prod").validate(
            StackValidationArgs([vault(protect)]), report
        )
        assert [u for _, u in found] == expected
        assert pack.to_plan_resource(vault(protect))["protect"] is protect
