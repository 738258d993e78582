"""The policy pack as a publishable artefact: a semantic version (equal to the package's),
exact pins equal to what the suite tests with, a config schema on every policy (prod-ness
and exceptions through policy config, the stack name only as the fallback), public
pulumi-policy API only, and runnable from an install (``python -m airflow_aks.policies``)."""

import ast
import datetime as dt
import json
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest
import yaml
from pulumi_policy import ResourceValidationArgs

from airflow_aks.policies.rules import ALL_RULES, build_policies
from airflow_aks.policies.rules import _core as c
from airflow_aks.policies.rules._config import (
    PolicyConfigError,
    exceptions_from,
    pack_config,
    production_from,
)
from tests.conftest import ROOT

POLICIES = ROOT / "airflow_aks" / "policies"


def lock_versions() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_pulumipolicy_yaml_is_versioned_like_the_package() -> None:
    meta = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(meta["version"]))
    assert meta["version"] == project["version"]
    assert meta["runtime"]["name"] == "python" and meta["description"]


def test_requirements_pin_exactly_what_the_suite_tests_with() -> None:
    lines = [
        line.strip()
        for line in (POLICIES / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    locked = lock_versions()
    assert lines, "empty policies/requirements.txt"
    for line in lines:
        name, _, version = line.partition("==")
        assert version, f"{line!r} is not an exact pin"
        assert locked[name.lower()] == version, (line, locked.get(name.lower()))
    assert any(line.startswith("pulumi-policy==") for line in lines)


def test_pack_uses_no_private_pulumi_policy_names() -> None:
    for path in (POLICIES / "rules").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_policy"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert private == [], f"{path.name} imports {private} from {node.module}"


@pytest.mark.parametrize(
    ("config", "stack", "env", "production"),
    [
        ({"production": True}, "dev", "false", True),
        ({"production": False}, "prod", "true", False),
        ({"environment": "prod"}, "team-a", None, True),
        ({"environment": "staging"}, "prod", "true", False),
        ({}, "team-a", "true", True),
        ({}, "prod", "false", False),
        ({}, "prod-weu", None, True),  # the documented stack-name fallback
        ({}, "dev", None, False),
        ({"enforcementLevel": "advisory"}, "dev", None, False),
    ],
)
def test_production_precedence(
    config: dict[str, Any], stack: str, env: str | None, production: bool
) -> None:
    assert production_from(config, stack, env) is production


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"prod": True}, r"unknown key 'prod' \(allowed: environment, exceptions, production\)"),
        ({"production": "yes"}, r"production must be true or false"),
    ],
)
def test_bad_config_names_the_key(config: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        production_from(config, "dev")


def test_config_exceptions_are_validated_like_the_file() -> None:
    ok = exceptions_from(
        "aks-paid-tier-in-prod",
        {
            "exceptions": [
                {"urn": "urn:*", "reason": "r", "expires": "2099-01-01", "approvedBy": "x"}
            ]
        },
    )
    assert ok[0].rule == "aks-paid-tier-in-prod" and ok[0].expires == dt.date(2099, 1, 1)
    with pytest.raises(PolicyConfigError, match=r"exceptions\[0\]\.approvedBy: required"):
        exceptions_from("r", {"exceptions": [{"urn": "u", "reason": "r", "expires": "2099-01-01"}]})


FREE_CLUSTER = {"sku": {"name": "Base", "tier": "Free"}}


def _paid_tier_violations(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("PULUMI_STACK", "dev")  # not prod by name
    monkeypatch.delenv("AIRFLOW_AKS_PRODUCTION", raising=False)
    policy = next(p for p in build_policies() if p.name == "aks-paid-tier-in-prod")
    found: list[str] = []
    args = ResourceValidationArgs(
        c.MANAGED_CLUSTER, FREE_CLUSTER, "urn:aks", "aks", None, None, config
    )  # type: ignore[arg-type]
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def test_policy_config_decides_prod_and_exceptions_in_a_real_preview(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _paid_tier_violations({}, monkeypatch) == []  # dev by stack name
    assert _paid_tier_violations({"production": True}, monkeypatch)
    waiver = {"urn": "urn:aks", "reason": "trial", "expires": "2099-01-01", "approvedBy": "sec"}
    assert _paid_tier_violations({"production": True, "exceptions": [waiver]}, monkeypatch) == []
    expired = {**waiver, "expires": "2000-01-01"}
    assert _paid_tier_violations({"production": True, "exceptions": [expired]}, monkeypatch)


def test_every_policy_has_the_config_schema() -> None:
    for policy in build_policies():
        schema = policy.config_schema
        assert schema is not None, policy.name
        assert set(schema.properties) == {"production", "environment", "exceptions"}


def test_pack_config_command_writes_one_entry_per_rule(capsys: pytest.CaptureFixture) -> None:
    from airflow_aks.cli import main as cli

    assert cli.main(["policies", "--pack-config", "prod"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert set(config) == {r.name for r in ALL_RULES}
    assert all(v["production"] is True and v["environment"] == "prod" for v in config.values())
    dev = pack_config(["a", "b"], production=False)
    assert dev == {"a": {"production": False}, "b": {"production": False}}


def test_installed_pack_serves_every_rule_with_its_config_schema(tmp_path) -> None:
    """``python -m airflow_aks.policies`` from outside the checkout starts the pack's gRPC
    analyzer; its info lists every rule, each with the config schema."""
    import grpc
    from google.protobuf import empty_pb2, json_format
    from pulumi.runtime.proto import analyzer_pb2_grpc

    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_aks.policies"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else port
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        info = json_format.MessageToDict(stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60))
    finally:
        proc.kill()
        proc.wait()
    assert {p["name"] for p in info["policies"]} == {r.name for r in ALL_RULES}
    assert info.get("supportsConfig") is True
    for p in info["policies"]:
        assert set(p["configSchema"]["properties"]) == {"production", "environment", "exceptions"}
