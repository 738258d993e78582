"""``airflow-aks:mesh`` config: defaults (pins), validators, and the args it produces."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from airflow_aks.config.mesh import MeshConfig
from airflow_aks.program.assemble import mesh_args


def test_defaults_are_pinned() -> None:
    cfg = MeshConfig()
    assert cfg.provider == "linkerd"
    assert (cfg.linkerd_version, cfg.cert_manager_version, cfg.trust_manager_version) == (
        "2026.8.3",
        "v1.21.1",
        "v0.24.0",
    )
    assert cfg.kuma_version == "2.14.3"
    assert (cfg.viz, cfg.cni, cfg.install_gateway_api, cfg.otel_endpoint) == (
        False,
        False,
        True,
        None,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"provider": "kuma", "otelEndpoint": "otel-collector.observability:4317"},
        {"provider": "linkerd", "viz": True, "cni": True, "linkerdVersion": "2026.9.1"},
        {"provider": "none"},
        {"provider": "kuma", "kumaVersion": "2.14.4"},
    ],
)
def test_valid(data: dict[str, Any]) -> None:
    """Accepted, and every given key lands on the model unchanged (not dropped or coerced)."""
    cfg = MeshConfig.model_validate(data)
    dumped = cfg.model_dump(by_alias=True)
    assert {k: dumped[k] for k in data} == data


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"provider": "istio"}, "provider", "linkerd"),
        ({"linkerdVersion": "edge-26.10.1"}, "linkerdVersion", "edge chart version"),
        ({"linkerdVersion": "latest"}, "linkerdVersion", "edge chart version"),
        ({"certManagerVersion": "1.21.2"}, "certManagerVersion", "v1.21.1"),
        ({"trustManagerVersion": "v0.26"}, "trustManagerVersion", "pinned"),
        ({"kumaVersion": "v2.14.3"}, "kumaVersion", "2.14.3"),
        ({"provider": "kuma", "otelEndpoint": "not a url"}, "otelEndpoint", "host:port"),
        ({"provider": "linkerd", "otelEndpoint": "otel.obs:4317"}, "", "only supported with"),
        # every namespace's data planes dial it: a short name would not resolve there
        ({"provider": "kuma", "otelEndpoint": "otel:4317"}, "otelEndpoint", "namespace"),
        ({"provider": "kuma", "viz": True}, "", "viz is a Linkerd option"),
        ({"provider": "none", "cni": True}, "", "cni is a Linkerd option"),
        ({"vizz": True}, "vizz", "Extra inputs"),
    ],
)
def test_invalid(data: dict[str, Any], loc: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        MeshConfig.model_validate(data)
    errors = err.value.errors()
    assert any(".".join(str(p) for p in e["loc"]) == loc and message in e["msg"] for e in errors), (
        errors
    )


def test_camel_case_keys() -> None:
    cfg = MeshConfig.model_validate({"installGatewayApi": False, "provider": "linkerd"})
    assert cfg.install_gateway_api is False
    assert "installGatewayApi" in MeshConfig.model_json_schema(by_alias=True)["properties"]


@pytest.mark.parametrize("ha", [False, True])
def test_mesh_args(ha: bool) -> None:
    cfg = MeshConfig.model_validate({"provider": "kuma", "otelEndpoint": "otel.obs:4317"})
    args = mesh_args(cfg, ha, entrance_on=False)
    assert args["ha"] is ha
    assert args["kuma_version"] == "2.14.3"
    assert args["otel_endpoint"] == "otel.obs:4317"
    assert args["linkerd_version"] == "2026.8.3"
