"""Recording mock engine for the secrets/database/storage component tests.

Records each registration as the engine receives it (type, name, parent, protect,
dependencies, inputs in camelCase with secret values still wrapped), answers Azure
resources with ARM-shaped ids so role-assignment scopes can be checked, and makes
pulumi-random return fixed, distinctive values that the leak tests search for.

Random results are returned *unmarked* (the real engine marks them secret through the
provider schema; the mock monitor does not), so a test passes only if the components
themselves keep every generated value secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings

SUB = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key

_RG = f"/subscriptions/{SUB}/resourceGroups/{{resourceGroupName}}"
ARM_IDS = {
    "azure-native:keyvault:Vault": _RG + "/providers/Microsoft.KeyVault/vaults/{vaultName}",
    "azure-native:keyvault:Secret": _RG
    + "/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}",
    "azure-native:storage:StorageAccount": _RG
    + "/providers/Microsoft.Storage/storageAccounts/{accountName}",
    "azure-native:storage:BlobContainer": _RG
    + "/providers/Microsoft.Storage/storageAccounts/{accountName}"
    + "/blobServices/default/containers/{containerName}",
    "azure-native:dbforpostgresql:Server": _RG
    + "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}",
    "azure-native:privatedns:PrivateZone": _RG
    + "/providers/Microsoft.Network/privateDnsZones/{privateZoneName}",
}
NAME_KEYS = (
    "vaultName",
    "secretName",
    "accountName",
    "containerName",
    "serverName",
    "privateZoneName",
    "databaseName",
    "configurationName",
    "privateEndpointName",
)


def random_value(typ: str, name: str, length: int) -> dict[str, Any]:
    """Fixed, distinctive stand-ins for pulumi-random outputs."""
    seed = hashlib.sha256(f"{typ}/{name}".encode()).hexdigest()
    if typ.endswith("RandomBytes"):
        raw = hashlib.sha256(seed.encode()).digest()[:length]
        return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}
    text = ("Zq" + seed * 4)[:length]
    return {"result": text, "bcryptHash": "$2a$10$" + seed[:53]}


@dataclass
class Reg:
    urn: str
    type: str
    name: str
    parent: str
    protect: bool
    dependencies: list[str]
    raw: dict[str, Any] = field(default_factory=dict)
    """Inputs in wire form (secrets wrapped in the secret signature)."""

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (for asserting settings)."""
        return unwrap(self.raw)


def unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


class RecordingMocks(mocks.Mocks):
    def __init__(self) -> None:
        self.random_outputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = unwrap(args.inputs)
        state = dict(args.inputs)
        if args.typ.startswith("azure-native:"):
            for key in NAME_KEYS:
                if isinstance(inputs.get(key), str):
                    state.setdefault("name", inputs[key])
                    break
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            state.update(
                {"clientId": f"client-{args.name}", "principalId": f"principal-{args.name}"}
            )
        if args.typ.startswith("random:"):
            out = random_value(args.typ, args.name, int(inputs.get("length", 32)))
            self.random_outputs[args.name] = out
            state.update(out)
        template = ARM_IDS.get(args.typ)
        if template:
            try:
                return template.format(**inputs), state
            except (KeyError, IndexError):
                pass
        return f"{args.name}-id", state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            return {"subscriptionId": SUB, "tenantId": TENANT, "clientId": "c", "objectId": "o"}, []
        return {}, []


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, m: RecordingMocks) -> None:
        super().__init__(m)
        self.regs: list[Reg] = []

    def RegisterResource(self, request: Any) -> Any:
        resp = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.regs.append(
                Reg(
                    urn=resp.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    protect=bool(request.protect),
                    dependencies=list(request.dependencies),
                    raw=json_format.MessageToDict(request.object),
                )
            )
        return resp


class Recorded:
    """What a program registered, plus the random values the mocks handed out."""

    def __init__(self, regs: list[Reg], random_outputs: dict[str, dict[str, Any]], values: dict):
        self.regs = regs
        self.random_outputs = random_outputs
        self.values = values

    def by_name(self, name: str, typ: str | None = None) -> Reg:
        """The one registration called ``name`` (of type ``typ``, when names repeat)."""
        hits = [r for r in self.regs if r.name == name and (typ is None or r.type == typ)]
        assert len(hits) == 1, f"{name}: {len(hits)} registrations; have {sorted(self.names())}"
        return hits[0]

    def of_type(self, typ: str) -> list[Reg]:
        return [r for r in self.regs if r.type == typ]

    def names(self) -> set[str]:
        return {r.name for r in self.regs}

    def generated_values(self) -> Iterator[str]:
        for out in self.random_outputs.values():
            for key, value in out.items():
                if key in ("result", "base64", "hex") and isinstance(value, str):
                    yield value


def run(program: Callable[[], dict[str, Any] | None], preview: bool = False) -> Recorded:
    """Run ``program`` under the recording mocks; its return value is resolved too."""
    m = RecordingMocks()
    monitor = RecordingMonitor(m)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    mocks.set_mocks(m, project="airflow-aks", stack="test", preview=preview, monitor=monitor)
    values: dict[str, Any] = {}

    async def body() -> None:
        result = program() or {}
        for key, value in result.items():
            out = pulumi.Output.from_input(value)
            values[key] = (await out.future(), await out.is_secret())

    try:
        loop.run_until_complete(mocks.run_pulumi_func(body))  # pyright: ignore[reportPrivateImportUsage]
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return Recorded(monitor.regs, m.random_outputs, values)
