"""The component provider's schema, inferred offline by Pulumi's analyzer
(``pulumi.provider.experimental``) from the published components: every component is
there with documented inputs and outputs, docs/components.md's TypeScript / YAML programs use the
schema's names, and the Platform component builds exactly the dev stack's resources."""

import ast
import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_aks.program import platform_gen
from airflow_aks.program.provider import COMPONENTS, schema
from tests.conftest import ROOT

PUBLISHED = ["Cluster", "WorkloadIdentity", "Vault", "Linkerd", "Kuma", "Airflow", "Platform"]


@functools.cache
def package() -> dict[str, Any]:
    return schema()


def resource(name: str) -> dict[str, Any]:
    return package()["resources"][f"airflow-aks:index:{name}"]


def test_every_published_component_is_in_the_schema() -> None:
    tokens = set(package()["resources"])
    assert tokens == {f"airflow-aks:index:{n}" for n in PUBLISHED}
    assert package()["name"] == "airflow-aks"
    assert package()["dependencies"] == [], "an arg or output leaks a provider resource type"


@pytest.mark.parametrize("name", PUBLISHED)
def test_inputs_and_outputs_are_documented(name: str) -> None:
    r = resource(name)
    assert r.get("description"), f"{name} has no class docstring"
    assert r["inputProperties"], f"{name} has no inputs"
    assert r["properties"], f"{name} has no outputs"
    for kind in ("inputProperties", "properties"):
        missing = [k for k, p in r[kind].items() if not p.get("description")]
        assert missing == [], f"{name}.{kind}: no docstring for {missing}"


def test_nested_types_are_documented() -> None:
    for token, t in package()["types"].items():
        assert t.get("description"), token
        missing = [k for k, p in t["properties"].items() if not p.get("description")]
        assert missing == [], f"{token}: no docstring for {missing}"


@pytest.mark.parametrize(
    ("name", "inputs", "outputs"),
    [
        (
            "Cluster",
            {"clusterName", "network", "maintenanceWindow", "systemPool"},
            {"clusterId", "oidcIssuerUrl", "kubeconfig", "aksSubnetId", "controlPlaneIdentityId"},
        ),
        (
            "WorkloadIdentity",
            {"identityName", "oidcIssuerUrl", "serviceAccounts"},
            {"clientId", "principalId", "identityId", "subjects"},
        ),
        ("Vault", {"vaultName", "resourceGroupName"}, {"vaultId", "vaultUri", "tenantId"}),
        (
            "Linkerd",
            {"version", "certManagerVersion", "trustManagerVersion"},
            {"controlPlaneNamespace"},
        ),
        ("Kuma", {"version"}, {"meshName"}),
        (
            "Airflow",
            {"environment", "namespace", "meshProvider", "gitSync", "keyVaultId"},
            {"namespace", "tasksClientId", "tasksIdentityId"},
        ),
        (
            "Platform",
            {"environment", "location", "aks", "mesh", "airflow", "keyVault"},
            {"clusterId", "keyVaultId", "oidcIssuerUrl", "aksSubnetId", "kubeconfig"},
        ),
    ],
)
def test_expected_names(name: str, inputs: set[str], outputs: set[str]) -> None:
    r = resource(name)
    assert inputs <= set(r["inputProperties"]), inputs - set(r["inputProperties"])
    assert outputs <= set(r["properties"]), outputs - set(r["properties"])


def test_published_modules_keep_real_annotations() -> None:
    """``from __future__ import annotations`` turns annotations into strings, which the
    analyzer cannot follow: none of the published modules (or their arg types) use it."""
    import inspect

    modules = {inspect.getmodule(c) for c in COMPONENTS}
    modules |= {inspect.getmodule(c.__init__.__annotations__["args"]) for c in COMPONENTS}
    for mod in modules:
        tree = ast.parse(Path(str(mod.__file__)).read_text())
        future = [
            n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"
        ]
        assert future == [], mod.__name__


def test_platform_args_are_generated_from_the_config_models() -> None:
    current = Path(platform_gen.TARGET).read_text()
    assert current == platform_gen.render(), (
        "run: .venv/bin/python -m airflow_aks.program.platform_gen"
    )


def test_platform_outputs_are_the_documented_stack_outputs() -> None:
    from tests.test_stack_outputs import documented_outputs

    assert set(resource("Platform")["properties"]) == set(documented_outputs())


# ------------------------------------------------------------------ docs/components.md programs


def _doc_block(lang: str, marker: str) -> str:
    text = (ROOT / "docs" / "components.md").read_text()
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, re.S)
    found = [b for b in blocks if marker in b]
    assert found, f"no ```{lang} block with {marker!r} in docs/components.md"
    return found[0]


def _props(token: str, kind: str = "inputProperties") -> dict[str, Any]:
    pkg = package()
    if token in pkg["resources"]:
        return pkg["resources"][token][kind]
    return pkg["types"][token]["properties"]


def _check_object(token: str, value: dict[str, Any], where: str) -> None:
    props = _props(token)
    for key, sub in value.items():
        assert key in props, f"{where}.{key} is not a property of {token}"
        ref = props[key].get("$ref", "")
        if isinstance(sub, dict) and ref.startswith("#/types/"):
            _check_object(ref.removeprefix("#/types/"), sub, f"{where}.{key}")


def test_docs_yaml_program_uses_schema_names() -> None:
    program = yaml.safe_load(_doc_block("yaml", "airflow-aks:Platform"))
    assert program["packages"]["airflow-aks"]
    used = 0
    for name, res in program["resources"].items():
        typ = res["type"]
        if not typ.startswith("airflow-aks:"):
            continue
        token = "airflow-aks:index:" + typ.split(":")[-1]
        _check_object(token, res.get("properties", {}), name)
        used += 1
    assert used >= 2
    outputs = _props("airflow-aks:index:Platform", "properties")
    for expr in program["outputs"].values():
        for ref, attr in re.findall(r"\$\{(\w+)\.(\w+)\}", expr):
            token = "airflow-aks:index:" + program["resources"][ref]["type"].split(":")[-1]
            assert attr in _props(token, "properties"), f"{ref}.{attr}"
    assert outputs


def test_docs_typescript_program_uses_schema_names() -> None:
    ts = _doc_block("typescript", "new airflowAks.")
    classes = re.findall(r"new airflowAks\.(\w+)\(", ts)
    assert classes and all(f"airflow-aks:index:{c}" in package()["resources"] for c in classes)
    known: set[str] = set()
    for r in package()["resources"].values():
        known |= set(r["inputProperties"]) | set(r["properties"])
    for t in package()["types"].values():
        known |= set(t["properties"])
    keys = set(re.findall(r"^\s*(\w+):", ts, re.M))
    attrs = set(re.findall(r"\b(?:platform|airflow|cluster)\.(\w+)\b", ts))
    assert keys and keys <= known, keys - known
    assert attrs and attrs <= known, attrs - known


# --------------------------------------------------------- the Platform component


def _platform_plan(stack_file: str, stack: str) -> Any:
    import pulumi

    from airflow_aks.config.stack import read_stack_file
    from airflow_aks.offline.testing import run_program
    from airflow_aks.program.platform import Platform

    raw = read_stack_file(ROOT / stack_file)
    args = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("airflow-aks:")}

    def program() -> None:
        p = Platform("platform", args)  # type: ignore[arg-type]  # raw stack-file dict
        pulumi.export("clusterId", p.cluster_id)

    return run_program(program, project="airflow-aks", stack=stack, computed="unknown")


def _strays(plan: Any) -> list[str]:
    """Resources not under the Platform component (e.g. built with bare ResourceOptions)."""
    root = plan.one("airflow-aks:index:Platform")
    by_urn = {r.urn: r for r in plan.resources()}

    def under_platform(r: Any) -> bool:
        while r.parent in by_urn:
            r = by_urn[r.parent]
            if r is root:
                return True
        return False

    return [r.urn for r in plan.resources() if r is not root and not under_platform(r)]


def test_platform_builds_the_dev_stack_under_itself(dev_plan) -> None:
    plan = _platform_plan("Pulumi.dev.yaml", "dev")
    assert _strays(plan) == []
    ours = {(r.type, r.name): r.inputs for r in plan.resources() if r.custom}
    dev = {(r["type"], r["name"]): r["inputs"] for r in dev_plan["resources"] if r["custom"]}
    assert ours.keys() == dev.keys()
    differ = [k for k in dev if ours[k] != dev[k]]
    assert differ == []
    assert plan.outputs["clusterId"] == dev_plan["outputs"]["clusterId"]


@pytest.mark.parametrize(
    ("stack_file", "stack"),
    [("Pulumi.prod.yaml", "prod"), ("examples/Pulumi.dev-kuma.yaml", "dev")],
)
def test_platform_builds_every_shipped_stack_under_itself(stack_file: str, stack: str) -> None:
    """Every shipped stack (the kuma example has a GPU pool: its device plugin once sat at
    the stack root, 4 strays) builds entirely under the Platform component."""
    plan = _platform_plan(stack_file, stack)
    assert len(plan.resources()) > 50
    assert _strays(plan) == []


def test_platform_reports_config_errors_by_key() -> None:
    from airflow_aks.offline.testing import run_program
    from airflow_aks.program.platform import Platform

    def program() -> None:
        Platform("platform", {"location": "westeurope", "aks": {"tier": "Gold"}})  # type: ignore[typeddict-item]

    with pytest.raises(Exception, match=r"airflow-aks:aks\.tier"):
        run_program(program, stack="dev")


def test_plugin_entry_serves_the_schema_over_grpc() -> None:
    """``provider/__main__.py`` as the CLI starts it (engine address argument): it prints
    its port and answers GetSchema with the same schema."""
    import json
    import subprocess
    import sys

    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "provider" / "__main__.py"), "127.0.0.1:9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else port
        stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=60).schema)
    finally:
        proc.kill()
        proc.wait()
    assert served["resources"].keys() == package()["resources"].keys()
