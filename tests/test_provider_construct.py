"""The same stack built from Python and through the component provider host registers the
same resources: same URNs, types and parents.

The provider path is the SDK's own (``pulumi.provider.experimental``, pulumi 3.x as
installed): the host's servicer turns a ``ConstructRequest`` into inputs and options
(``ProviderServicer._construct_inputs`` / ``_construct_options``, server.py), then
``ComponentProvider.construct`` maps the schema's camelCase names to the Python names with
the analyzer's component definition and instantiates the class (component.py
``construct``), then reads its outputs back (``get_state``). Here the request is built as
the engine would send it — the inputs serialised to a protobuf ``Struct`` with
``rpc.serialize_properties`` — and everything from there runs unchanged under the mock
engine. Only the gRPC transport and the engine's monitor are not the real ones.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import proto, rpc

from airflow_aks.components.tokens import PACKAGE, type_token
from airflow_aks.config.stack import read_stack_file
from airflow_aks.offline.testing import PlanResult, run_program
from airflow_aks.program.platform import Platform
from airflow_aks.program.provider import COMPONENTS
from tests.conftest import ROOT

STACK_FILES = {
    "dev": ROOT / "Pulumi.dev.yaml",
    "prod": ROOT / "Pulumi.prod.yaml",
    "dev-kuma": ROOT / "examples" / "Pulumi.dev-kuma.yaml",
}


def platform_inputs(stack_file: str) -> dict[str, Any]:
    """The stack file's ``airflow-aks:`` keys: the Platform's inputs by their schema names."""
    raw = read_stack_file(STACK_FILES[stack_file])
    return {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("airflow-aks:")}


def wire_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """What the host's servicer hands to ``construct``: the inputs serialised as the engine
    sends them, then deserialised by the servicer itself."""

    async def roundtrip() -> dict[str, Any]:
        struct = await rpc.serialize_properties(inputs, {})
        return await ProviderServicer._construct_inputs(struct, {})

    loop = asyncio.new_event_loop()  # not asyncio.run: it unsets the loop the engine uses
    try:
        return loop.run_until_complete(roundtrip())
    finally:
        loop.close()


def shape(plan: PlanResult) -> set[tuple[str, str, str | None]]:
    return {(r.urn, r.type, r.parent) for r in plan.resources()}


def plan_from_python(stack: str, inputs: dict[str, Any]) -> PlanResult:
    def program() -> None:
        Platform("platform", inputs)  # type: ignore[arg-type]

    return run_program(program, project="airflow-aks", stack=stack, computed="unknown")


def plan_through_the_host(stack: str, inputs: dict[str, Any]) -> tuple[PlanResult, Any]:
    provider = ComponentProvider(COMPONENTS, PACKAGE)
    arrived = wire_inputs(inputs)
    results: list[Any] = []
    urns: list[str] = []

    def program() -> None:
        request = proto.ConstructRequest(name="platform", type=type_token(Platform))
        options = ProviderServicer._construct_options(request)
        result = provider.construct("platform", type_token(Platform), arrived, options)
        urn = pulumi.Output.from_input(result.urn)
        urn.apply(urns.append)  # the URN the host answers the engine with
        results.append(result)

    plan = run_program(program, project="airflow-aks", stack=stack, computed="unknown")
    return plan, (*urns, *results)


@pytest.mark.parametrize("stack_file", sorted(STACK_FILES))
def test_platform_has_the_same_urns_from_python_and_through_the_provider_host(
    stack_file: str,
) -> None:
    stack = stack_file.split("-")[0]
    inputs = platform_inputs(stack_file)
    direct = plan_from_python(stack, inputs)
    hosted, (urn, result) = plan_through_the_host(stack, inputs)
    assert len(direct.resources()) > 50
    only_direct = shape(direct) - shape(hosted)
    only_hosted = shape(hosted) - shape(direct)
    assert (sorted(only_direct)[:5], sorted(only_hosted)[:5]) == ([], [])
    # The host answers with the component's URN and its outputs by their schema names.
    assert urn == direct.one(type_token(Platform)).urn
    assert "clusterId" in result.state


def test_the_host_path_maps_schema_names_to_python_names() -> None:
    """A nested camelCase key reaches the component under its Python name: the comparison
    above is not two runs of the same dict."""
    provider = ComponentProvider(COMPONENTS, PACKAGE)
    definition = provider._component_defs["Platform"]
    mapped = provider.map_inputs(wire_inputs(platform_inputs("dev")), definition)
    assert "resource_group" in mapped and "resourceGroup" not in mapped
    aks = mapped["aks"]
    assert isinstance(aks, dict) and "admin_group_object_ids" in aks
