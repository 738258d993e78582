"""The secrets/database/storage component tests' view of the offline plan engine.

Programs run under :func:`airflow_aks.offline.plan.run` (the engine the CLI uses) with
``keep_raw=True``, so a test sees each registration's inputs with secret values unwrapped
(to assert them) and still wrapped (to assert they travel as secrets). pulumi-random results
come back *unmarked* from the engine's mocks (the real engine marks them secret through the
provider schema), so a test passes only if the components keep every generated value secret.

What the engine leaves unknown in a plan but these tests pin down: the workload identities'
client/principal ids (``client-<name>`` / ``principal-<name>``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi.runtime import rpc

from airflow_aks.offline import plan

SUB = "00000000-0000-0000-0000-000000000000"
TENANT = plan.UNKNOWN
"""The deploying client's tenant (``getClientConfig``) as the engine answers it."""
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def unwrap(value: Any) -> Any:
    """Wire form -> plain values: secrets unwrapped, whole floats as ints."""
    if isinstance(value, dict):
        if is_secret(value):
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


class Reg:
    """A registration of the plan, with its inputs unwrapped."""

    def __init__(self, reg: plan.Registration) -> None:
        self.urn = reg.urn
        self.type = reg.type
        self.name = reg.name
        self.parent = reg.parent
        self.protect = reg.protect
        self.dependencies = reg.dependencies
        self.raw: dict[str, Any] = reg.raw or {}
        """Inputs in wire form (secrets wrapped in the secret signature)."""
        self.inputs: dict[str, Any] = unwrap(self.raw)
        """Inputs with secrets unwrapped (for asserting settings)."""
        self.outputs: dict[str, Any] = unwrap(reg.raw_outputs or {})


class Recorded:
    """What a program registered, what the mocks generated, and its stack outputs."""

    def __init__(self, result: plan.Plan) -> None:
        self.regs = [Reg(r) for r in result.resources]
        self.random_outputs = {r.name: r.outputs for r in self.regs if r.type.startswith("random:")}
        self.outputs = result.outputs
        """Stack outputs as exported: a secret shows as ``"[secret]"``."""

    def by_name(self, name: str, typ: str | None = None) -> Reg:
        """The one registration called ``name`` (of type ``typ``, when names repeat)."""
        hits = [r for r in self.regs if r.name == name and (typ is None or r.type == typ)]
        assert len(hits) == 1, f"{name}: {len(hits)} registrations; have {sorted(self.names())}"
        return hits[0]

    def of_type(self, typ: str) -> list[Reg]:
        return [r for r in self.regs if r.type == typ]

    def names(self) -> set[str]:
        return {r.name for r in self.regs}


def _with_identity_ids(mocks: plan.PlanMocks, args: Any) -> tuple[str | None, dict[str, Any]]:
    rid, state = _ENGINE_NEW_RESOURCE(mocks, args)
    if args.typ == IDENTITY:
        state.update({"clientId": f"client-{args.name}", "principalId": f"principal-{args.name}"})
    return rid, state


_ENGINE_NEW_RESOURCE = plan.PlanMocks.new_resource


def run(program: Callable[[], None]) -> Recorded:
    """Run ``program`` (it may ``pulumi.export``) under the offline plan engine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan.PlanMocks, "new_resource", _with_identity_ids)
        return Recorded(plan.run(program, stack="test", config={}, subscription=SUB, keep_raw=True))


def env_fixtures(
    plan_for: Callable[[Any], Recorded], dev_args: Any, prod_args: Any
) -> tuple[Any, Any]:
    """Module-scoped ``dev`` and ``prod`` fixtures: ``dev, prod = env_fixtures(...)``."""

    @pytest.fixture(scope="module")
    def dev() -> Recorded:
        return plan_for(dev_args)

    @pytest.fixture(scope="module")
    def prod() -> Recorded:
        return plan_for(prod_args)

    return dev, prod
