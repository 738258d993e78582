"""No generated secret in plain text: plan export, stack outputs, every Kubernetes object.

The offline plan engine (``airflow_aks.offline.plan``) runs the real program for dev and prod. Its
mocks give every pulumi-random resource a fixed, known value; we record those values and
search the whole export for them (and for the forms they are turned into: url-safe
base64, percent-encoding). The mock engine does not apply the provider's
``additional_secret_outputs`` the way the real engine does, so these tests pass only if our
own code keeps every generated value secret on its way into Key Vault.

A throwaway program run under the same engine proves the scanner finds a deliberate leak.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from airflow_aks.components.secrets import vault_secret
from airflow_aks.config.stack import read_stack_file
from airflow_aks.offline import plan
from airflow_aks.program import stack as program

ROOT = Path(__file__).resolve().parent.parent
MIN_LEN = 12  # shorter values are not distinctive enough to search for

# Output properties that providers mark secret (additional_secret_outputs).
SECRET_OUTPUTS: dict[str, tuple[str, ...]] = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomString:RandomString": ("result",),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"),
}


@dataclass(frozen=True)
class Finding:
    where: str
    resource: str
    secret_of: str

    def __str__(self) -> str:
        return f"{self.where}: {self.resource} contains the value of {self.secret_of}"


def _forms(value: str) -> set[str]:
    """A generated value and the encodings our code derives from it."""
    forms = {value, quote(value, safe=""), value.replace("+", "-").replace("/", "_")}
    return {f for f in forms if len(f) >= MIN_LEN}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def scan(export: Mapping[str, Any], generated: Mapping[str, str]) -> list[Finding]:
    """Every place in ``export`` where a generated value (or a derived form) shows."""
    needles = {form: owner for owner, value in generated.items() for form in _forms(value)}
    findings: list[Finding] = []

    def check(where: str, resource: str, blob: Any) -> None:
        text = "\n".join(_strings(blob))
        for needle, owner in needles.items():
            if needle in text:
                findings.append(Finding(where, resource, owner))

    for res in export["resources"]:
        where = "kubernetes object" if res["type"].startswith("kubernetes:") else "resource"
        # The random resources' own state is not in the export: only their inputs.
        check(where, res["urn"], res["inputs"])
    check("stack outputs", "outputs", export["outputs"])
    # Belt and braces: the serialized export as a whole (keys, nested JSON strings).
    whole = json.dumps(export)
    for needle, owner in needles.items():
        if needle in whole and not any(f.secret_of == owner for f in findings):
            findings.append(Finding("export", "(anywhere)", owner))
    return findings


def _run(
    prog: Callable[[], None], stack: str, config: dict
) -> tuple[dict[str, Any], dict[str, str]]:
    """The plan export, and every secret output the engine's mocks handed out."""
    result = plan.run(prog, stack=stack, config=config, keep_raw=True)
    generated: dict[str, str] = {}
    for reg in result.resources:
        for key in SECRET_OUTPUTS.get(reg.type, ()):
            value = (reg.raw_outputs or {}).get(key)
            if isinstance(value, str) and len(value) >= MIN_LEN:
                generated[f"{reg.name}.{key}"] = value
    return result.export(), generated


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_generated_secret_in_plain_text(stack: str) -> None:
    config = read_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    export, generated = _run(program.main, stack, config)

    # The scan only means something if there was something to find.
    names = {k.split(".")[0] for k in generated}
    assert {"keyvault-fernet", "keyvault-api-secret-key", "keyvault-jwt-secret"} <= names
    assert "postgres-admin-password" in names

    findings = scan(export, generated)
    assert not findings, "\n".join(map(str, findings))

    # And the secrets we write are masked where they are used.
    kv_secrets = [r for r in export["resources"] if r["type"] == "azure-native:keyvault:Secret"]
    assert len(kv_secrets) >= 5
    for res in kv_secrets:
        assert res["inputs"]["properties"]["value"] == plan.SECRET, res["urn"]
    server = next(
        r for r in export["resources"] if r["type"] == "azure-native:dbforpostgresql:Server"
    )
    assert server["inputs"]["administratorLoginPassword"] == plan.SECRET
    # Nothing of ours writes a Kubernetes Secret.
    assert not [r for r in export["resources"] if r["type"] == "kubernetes:core/v1:Secret"]


def _leaky_program() -> None:
    """A tiny program that does it right once and then leaks three ways."""
    pw = random.RandomPassword("leaky-password", length=40, special=False)
    token = random.RandomBytes("leaky-token", length=32)
    vault_secret(
        "leaky-ok",
        resource_group_name="rg",
        vault_name="kv-leaky",
        secret_name="leaky-ok",
        value=pw.result,
        content_type="text/plain",
        expires=1_900_000_000,
        opts=pulumi.ResourceOptions(),
    )
    # 1. A stack output unwrapped on purpose.
    pulumi.export("oops", pulumi.Output.unsecret(pw.result))
    # 2. A Kubernetes object carrying a derived (url-safe) form of a value.
    k8s.core.v1.ConfigMap(
        "leaky-config",
        data={
            "token": pulumi.Output.unsecret(token.base64).apply(
                lambda b: b.replace("+", "-").replace("/", "_")
            )
        },
    )
    pulumi.export("fine", pw.result.apply(lambda _: "a name, not a value"))


def test_scanner_catches_a_deliberate_leak() -> None:
    export, generated = _run(_leaky_program, "leaky", {})
    assert set(generated) >= {"leaky-password.result", "leaky-token.base64"}
    findings = scan(export, generated)
    found = {(f.where, f.secret_of) for f in findings}
    assert ("stack outputs", "leaky-password.result") in found
    assert any(w == "kubernetes object" and s.startswith("leaky-token.") for w, s in found)
    # The correctly written Key Vault secret is not among the findings.
    assert not [f for f in findings if "leaky-ok" in f.resource]
    assert export["outputs"]["fine"] == "a name, not a value"


def test_scanner_sees_percent_encoded_and_nested_values() -> None:
    generated = {"pw.result": "p@ss/word+with:odd=chars"}
    export = {
        "resources": [
            {
                "urn": "urn:x",
                "type": "kubernetes:helm.sh/v4:Chart",
                "inputs": {
                    "values": {
                        "env": [{"value": "postgresql://u:p%40ss%2Fword%2Bwith%3Aodd%3Dchars@h/db"}]
                    }
                },
            }
        ],
        "outputs": {},
    }
    (finding,) = scan(export, generated)
    assert finding.where == "kubernetes object" and finding.resource == "urn:x"
    assert scan({"resources": [], "outputs": {"x": "[secret]"}}, generated) == []
